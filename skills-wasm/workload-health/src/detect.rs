//! The cheap trigger test: no tool calls, only the object handed in.

use crate::pod::PodView;
use skillbox_guest::Object;

/// Waiting reasons that make a pod worth investigating.
const WAITING: [&str; 5] = [
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
];

/// Whether `o` fails in a way this skill investigates.
pub fn detect(o: &Object) -> bool {
    match o.kind() {
        "Pod" => pod_failing(o),
        "Deployment" | "StatefulSet" | "ReplicaSet" => {
            let desired = o.i64_at("spec.replicas").unwrap_or(1);
            let ready = o.i64_at("status.readyReplicas").unwrap_or(0);
            ready < desired
        }
        _ => false,
    }
}

fn pod_failing(o: &Object) -> bool {
    let pod = PodView::new(o);
    let waiting = pod
        .statuses()
        .any(|(_, cs)| PodView::waiting_reason(cs).is_some_and(|r| WAITING.contains(&r)));
    let oom = pod.statuses().any(|(_, cs)| {
        [&cs.last_state.terminated, &cs.state.terminated]
            .into_iter()
            .flatten()
            .any(|t| t.reason.as_deref() == Some("OOMKilled"))
    });
    let unschedulable = pod.status.phase == "Pending"
        && pod
            .condition("PodScheduled")
            .is_some_and(|c| c.status == "False" && c.reason.as_deref() == Some("Unschedulable"));
    waiting || oom || unschedulable
}
