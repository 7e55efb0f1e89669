//! Native tests: inline fixtures for every rule (positive and negative), the public scenarios,
//! and `detect`.

use crate::WorkloadHealth;
use skillbox_guest::testing::{Fixture, OutcomeAssert, Scenario};
use skillbox_guest::{Object, Outcome, Severity, Skill, Verdict};
use std::path::PathBuf;

const CODES: [&str; 7] = [
    "workload.crashloop",
    "workload.oom-killed",
    "workload.image-pull",
    "workload.config-missing",
    "workload.unschedulable",
    "workload.readiness-failing",
    "workload.service-no-endpoints",
];

fn run(yaml: &str, kind: &str, ns: &str, name: &str) -> Outcome {
    let f = Fixture::from_yaml(yaml).expect("fixture parses");
    let out = f
        .investigate::<WorkloadHealth>(kind, Some(ns), name)
        .expect("investigation runs");
    check_invariants(&out);
    out
}

/// What every outcome must satisfy, whatever the input.
fn check_invariants(out: &Outcome) {
    assert!(out.findings.len() <= 50);
    for f in &out.findings {
        assert!(f.code.starts_with("workload."), "{}", f.code);
        assert!(f.summary.chars().count() <= 512, "{}", f.summary);
        assert!(!f.resources.is_empty(), "{} names no resource", f.code);
        for e in &f.evidence {
            assert!(e.chars().count() <= 1024, "{e}");
        }
        for s in &f.suggestions {
            assert!(s.chars().count() <= 1024, "{s}");
            assert!(!s.contains("kubectl"), "suggestion with kubectl: {s}");
        }
    }
}

/// A pod: `status` is YAML indented for the `status:` key; `extra_spec` for more spec keys.
fn pod(name: &str, labels: &str, spec_extra: &str, status: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: shop
  uid: uid-{name}
  labels: {labels}
spec:
  containers:
  - name: web
    image: registry.example/web:1.0
    resources: {{limits: {{memory: 256Mi}}, requests: {{memory: 128Mi, cpu: 100m}}}}
    readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}
{spec_extra}
status:
{status}
---
"#
    )
}

const READY: &str = r#"  phase: Running
  conditions:
  - {type: PodScheduled, status: "True"}
  - {type: Ready, status: "True"}
  containerStatuses:
  - name: web
    ready: true
    restartCount: 0
    image: registry.example/web:1.0
    state: {running: {startedAt: "2026-11-24T07:00:00Z"}}"#;

const CRASHLOOP: &str = r#"  phase: Running
  conditions:
  - {type: PodScheduled, status: "True"}
  - {type: Ready, status: "False", reason: ContainersNotReady}
  containerStatuses:
  - name: web
    ready: false
    restartCount: 7
    image: registry.example/web:1.0
    lastState: {terminated: {reason: Error, exitCode: 1, finishedAt: "2026-11-24T07:56:28Z"}}
    state: {waiting: {reason: CrashLoopBackOff, message: "back-off 5m0s restarting failed container=web"}}"#;

fn event(name: &str, pod: &str, reason: &str, msg: &str, field_path: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Event
metadata: {{name: {name}, namespace: shop}}
involvedObject: {{apiVersion: v1, kind: Pod, name: {pod}, namespace: shop, fieldPath: "{field_path}"}}
reason: {reason}
type: Warning
count: 4
lastTimestamp: "2026-11-24T07:57:00Z"
message: '{msg}'
---
"#
    )
}

// ---------------------------------------------------------------- describe / errors

#[test]
fn describe_lists_targets_and_tools() {
    let m = WorkloadHealth::describe();
    assert_eq!(m.name, "workload-health");
    assert_eq!(m.code_prefix, "workload.");
    assert_eq!(
        m.target_kinds,
        [
            "Pod",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "Service"
        ]
    );
    assert_eq!(
        m.tools,
        ["get-object", "list-objects", "list-events", "read-logs"]
    );
}

#[test]
fn unreadable_target_is_an_error_naming_it() {
    let f = Fixture::new();
    let err = f
        .investigate::<WorkloadHealth>("Pod", Some("shop"), "ghost")
        .unwrap_err();
    assert!(err.contains("Pod shop/ghost"), "{err}");
    assert!(err.contains("not found"), "{err}");
}

#[test]
fn unknown_kind_is_an_error() {
    let f = Fixture::from_yaml(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: shop}\n",
    )
    .unwrap();
    let err = f
        .investigate::<WorkloadHealth>("VirtualService", Some("shop"), "r")
        .unwrap_err();
    assert!(err.contains("VirtualService"), "{err}");
}

// ---------------------------------------------------------------- healthy

#[test]
fn ready_pod_is_healthy() {
    let out = run(
        &pod("web-1", "{app: web}", "", READY),
        "Pod",
        "shop",
        "web-1",
    );
    assert_eq!(out.verdict, Verdict::Healthy);
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
}

#[test]
fn succeeded_pod_is_healthy() {
    let st = "  phase: Succeeded\n  conditions:\n  - {type: Ready, status: \"False\", reason: PodCompleted}\n  containerStatuses:\n  - name: web\n    state: {terminated: {reason: Completed, exitCode: 0}}";
    let out = run(&pod("job-1", "{app: job}", "", st), "Pod", "shop", "job-1");
    assert_eq!(out.verdict, Verdict::Healthy);
    assert!(out.findings.is_empty());
}

// ---------------------------------------------------------------- crashloop

#[test]
fn crashloop_with_log_lines() {
    let yaml = pod("web-1", "{app: web}", "", CRASHLOOP);
    let mut f = Fixture::from_yaml(&yaml).unwrap();
    f.add_log(
        "shop",
        "web-1",
        "web",
        "starting\nERROR cannot create /var/cache/x: Read-only file system\nexiting",
    );
    let out = f
        .investigate::<WorkloadHealth>("Pod", Some("shop"), "web-1")
        .unwrap();
    check_invariants(&out);
    assert_eq!(out.verdict, Verdict::Resolved);
    let c = out.expect_finding("workload.crashloop");
    assert_eq!(c.severity, Severity::Error);
    assert!(c.evidence_contains(
        "Pod shop/web-1 status.containerStatuses[web].state.waiting.reason = CrashLoopBackOff"
    ));
    assert!(c.evidence_contains("restartCount = 7"));
    assert!(c.evidence_contains("exitCode: 1"));
    assert!(c.evidence_contains("finishedAt: 2026-11-24T07:56:28Z"));
    assert!(c.evidence_contains("Read-only file system"));
    assert!(
        c.suggestions
            .iter()
            .any(|s| s.contains("readOnlyRootFilesystem"))
    );
    assert!(!out.has("workload.readiness-failing"));
    assert!(!out.has("workload.oom-killed"));
}

#[test]
fn crashloop_without_log_is_fine() {
    let out = run(
        &pod("web-1", "{app: web}", "", CRASHLOOP),
        "Pod",
        "shop",
        "web-1",
    );
    let c = out.expect_finding("workload.crashloop");
    assert!(!c.evidence_contains("log lines"));
    assert!(!c.suggestions.is_empty());
}

#[test]
fn crashloop_in_init_container() {
    let st = r#"  phase: Pending
  conditions:
  - {type: PodScheduled, status: "True"}
  - {type: Ready, status: "False"}
  initContainerStatuses:
  - name: migrate
    restartCount: 3
    lastState: {terminated: {reason: Error, exitCode: 2}}
    state: {waiting: {reason: CrashLoopBackOff}}
  containerStatuses:
  - name: web
    state: {waiting: {reason: PodInitializing}}"#;
    let out = run(
        &pod(
            "web-1",
            "{app: web}",
            "  initContainers:\n  - {name: migrate, image: m:1}",
            st,
        ),
        "Pod",
        "shop",
        "web-1",
    );
    let c = out.expect_finding("workload.crashloop");
    assert!(c.evidence_contains("status.initContainerStatuses[migrate]"));
    assert!(
        c.suggestions
            .iter()
            .any(|s| s.contains("initContainers[migrate]"))
    );
    assert!(!out.has("workload.unexplained"));
}

#[test]
fn restarting_but_running_is_not_crashloop() {
    let st = r#"  phase: Running
  conditions:
  - {type: Ready, status: "True"}
  containerStatuses:
  - name: web
    ready: true
    restartCount: 4
    lastState: {terminated: {reason: Error, exitCode: 1}}
    state: {running: {}}"#;
    let out = run(&pod("web-1", "{app: web}", "", st), "Pod", "shop", "web-1");
    assert!(!out.has("workload.crashloop"));
    assert_eq!(out.verdict, Verdict::Healthy);
}

// ---------------------------------------------------------------- oom-killed

#[test]
fn oom_killed_suggests_raising_the_limit() {
    let st = r#"  phase: Running
  conditions:
  - {type: Ready, status: "False"}
  containerStatuses:
  - name: web
    restartCount: 5
    lastState: {terminated: {reason: OOMKilled, exitCode: 137, finishedAt: "2026-11-24T07:00:00Z"}}
    state: {waiting: {reason: CrashLoopBackOff}}"#;
    let out = run(&pod("web-1", "{app: web}", "", st), "Pod", "shop", "web-1");
    assert_eq!(out.verdict, Verdict::Resolved);
    let o = out.expect_finding("workload.oom-killed");
    assert_eq!(o.severity, Severity::Error);
    assert!(o.evidence_contains("lastState.terminated.reason = OOMKilled"));
    assert!(o.evidence_contains("exitCode: 137"));
    assert!(o.evidence_contains("resources.limits.memory = 256Mi"));
    assert!(
        o.suggestions
            .iter()
            .any(|s| s.contains("limits.memory (now 256Mi)") && s.contains("512Mi"))
    );
    // Also crash-looping: both are true.
    assert!(out.has("workload.crashloop"));
}

#[test]
fn oom_in_current_state_counts() {
    let st = r#"  phase: Failed
  containerStatuses:
  - name: web
    state: {terminated: {reason: OOMKilled, exitCode: 137}}"#;
    let out = run(&pod("web-1", "{app: web}", "", st), "Pod", "shop", "web-1");
    assert!(
        out.expect_finding("workload.oom-killed")
            .evidence_contains("state.terminated.reason = OOMKilled")
    );
    assert_eq!(out.verdict, Verdict::Resolved);
}

#[test]
fn exit_137_without_oomkilled_is_not_oom() {
    let st = r#"  phase: Running
  conditions:
  - {type: Ready, status: "True"}
  containerStatuses:
  - name: web
    ready: true
    lastState: {terminated: {reason: Error, exitCode: 137}}
    state: {running: {}}"#;
    let out = run(&pod("web-1", "{app: web}", "", st), "Pod", "shop", "web-1");
    assert!(!out.has("workload.oom-killed"));
}

// ---------------------------------------------------------------- image-pull

const IMAGE_PULL: &str = r#"  phase: Pending
  conditions:
  - {type: PodScheduled, status: "True"}
  - {type: Ready, status: "False", reason: ContainersNotReady}
  containerStatuses:
  - name: web
    ready: false
    image: registry.example/web:9.9
    state: {waiting: {reason: ImagePullBackOff, message: 'Back-off pulling image "registry.example/web:9.9"'}}"#;

#[test]
fn image_pull_with_failed_events() {
    let mut yaml = pod("web-1", "{app: web}", "", IMAGE_PULL).replace("web:1.0", "web:9.9");
    yaml.push_str(&event(
        "e1",
        "web-1",
        "Failed",
        "Failed to pull image \"registry.example/web:9.9\": manifest unknown: not found",
        "spec.containers{web}",
    ));
    yaml.push_str(&event(
        "e2",
        "web-1",
        "Failed",
        "Error: ImagePullBackOff",
        "spec.containers{web}",
    ));
    yaml.push_str(&event(
        "e3",
        "web-1",
        "Failed",
        "Error: something else",
        "spec.containers{sidecar}",
    ));
    let out = run(&yaml, "Pod", "shop", "web-1");
    assert_eq!(out.verdict, Verdict::Resolved);
    let i = out.expect_finding("workload.image-pull");
    assert!(i.summary.contains("registry.example/web:9.9"));
    assert!(i.evidence_contains("state.waiting.reason = ImagePullBackOff"));
    assert!(i.evidence_contains("spec.containers[web].image = registry.example/web:9.9"));
    assert!(i.evidence_contains("Event Failed (x4"));
    assert!(i.evidence_contains("manifest unknown"));
    assert!(
        !i.evidence_contains("something else"),
        "event of another container"
    );
    assert!(i.suggestions.iter().any(|s| s.contains("tag that exists")));
    assert!(!out.has("workload.unschedulable"));
    assert!(!out.has("workload.readiness-failing"));
}

#[test]
fn invalid_image_name_and_err_image_pull() {
    for reason in ["InvalidImageName", "ErrImagePull"] {
        let st = IMAGE_PULL.replace("ImagePullBackOff", reason);
        let out = run(&pod("web-1", "{app: web}", "", &st), "Pod", "shop", "web-1");
        assert!(out.has("workload.image-pull"), "{reason}");
    }
}

#[test]
fn container_creating_is_not_image_pull_and_is_unexplained() {
    let st = IMAGE_PULL.replace("ImagePullBackOff", "ContainerCreating");
    let out = run(&pod("web-1", "{app: web}", "", &st), "Pod", "shop", "web-1");
    for c in CODES {
        assert!(!out.has(c), "{c}");
    }
    assert_eq!(out.verdict, Verdict::Inconclusive);
    let u = out.expect_finding("workload.unexplained");
    assert_eq!(u.severity, Severity::Info);
    assert!(u.evidence_contains("Pod shop/web-1 is not Ready"));
    assert!(u.evidence_contains("container web waiting: ContainerCreating"));
}

// ---------------------------------------------------------------- config-missing

#[test]
fn config_missing_names_the_reference() {
    let st = r#"  phase: Pending
  conditions:
  - {type: PodScheduled, status: "True"}
  - {type: Ready, status: "False"}
  containerStatuses:
  - name: web
    state: {waiting: {reason: CreateContainerConfigError, message: 'configmap "web-config" not found'}}"#;
    let extra = "    envFrom:\n    - configMapRef: {name: web-config}\n    env:\n    - name: PASSWORD\n      valueFrom: {secretKeyRef: {name: db, key: password}}";
    let yaml = pod("web-1", "{app: web}", "", st).replace(
        "    readinessProbe: {httpGet: {path: /ready, port: 8080}}\n",
        &format!("    readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}\n{extra}\n"),
    );
    let out = run(&yaml, "Pod", "shop", "web-1");
    assert_eq!(out.verdict, Verdict::Resolved);
    let c = out.expect_finding("workload.config-missing");
    assert_eq!(c.severity, Severity::Error);
    assert!(c.summary.contains("configmap \"web-config\" not found"));
    assert!(c.evidence_contains("state.waiting.message = configmap \"web-config\" not found"));
    assert!(
        c.evidence_contains("spec.containers[web].envFrom[0].configMapRef = ConfigMap web-config")
    );
    assert!(
        !c.evidence_contains("Secret db"),
        "only the named reference is shown"
    );
    assert!(c.suggestions.iter().any(|s| s.contains("ConfigMap")));
}

#[test]
fn create_container_error_is_not_config_missing() {
    let st = r#"  phase: Pending
  conditions:
  - {type: Ready, status: "False"}
  containerStatuses:
  - name: web
    state: {waiting: {reason: CreateContainerError, message: "context deadline exceeded"}}"#;
    let out = run(&pod("web-1", "{app: web}", "", st), "Pod", "shop", "web-1");
    assert!(!out.has("workload.config-missing"));
    assert_eq!(out.verdict, Verdict::Inconclusive);
}

// ---------------------------------------------------------------- unschedulable

const UNSCHEDULABLE: &str = r#"  phase: Pending
  conditions:
  - {type: PodScheduled, status: "False", reason: Unschedulable, message: "0/3 nodes are available: 3 Insufficient cpu."}"#;

#[test]
fn unschedulable_by_condition() {
    let out = run(
        &pod("web-1", "{app: web}", "", UNSCHEDULABLE),
        "Pod",
        "shop",
        "web-1",
    );
    assert_eq!(out.verdict, Verdict::Resolved);
    let u = out.expect_finding("workload.unschedulable");
    assert!(u.summary.contains("3 Insufficient cpu"));
    assert!(u.evidence_contains("status.conditions[PodScheduled] = False (Unschedulable)"));
    assert!(u.evidence_contains("spec.containers[web].resources.requests"));
    assert!(
        u.suggestions
            .iter()
            .any(|s| s.contains("cpu") && s.contains("requests"))
    );
}

#[test]
fn unschedulable_by_event_only() {
    let st = "  phase: Pending";
    let mut yaml = pod("web-1", "{app: web}", "", st);
    yaml.push_str(&event(
        "e1",
        "web-1",
        "FailedScheduling",
        "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: gpu}.",
        "",
    ));
    let out = run(&yaml, "Pod", "shop", "web-1");
    let u = out.expect_finding("workload.unschedulable");
    assert!(u.evidence_contains("Event FailedScheduling"));
    assert!(u.suggestions.iter().any(|s| s.contains("tolerations")));
}

#[test]
fn other_pending_pods_are_not_unschedulable() {
    // Scheduled, pulling: Pending but not unschedulable.
    let st = r#"  phase: Pending
  conditions:
  - {type: PodScheduled, status: "True"}
  containerStatuses:
  - name: web
    state: {waiting: {reason: ContainerCreating}}"#;
    let mut yaml = pod("web-1", "{app: web}", "", st);
    // An old FailedScheduling event from before it was scheduled does not make it unschedulable.
    yaml.push_str(&event(
        "e1",
        "web-1",
        "FailedScheduling",
        "0/3 nodes are available",
        "",
    ));
    let out = run(&yaml, "Pod", "shop", "web-1");
    assert!(!out.has("workload.unschedulable"));
    // A running pod with an old FailedScheduling event.
    let mut yaml = pod("web-2", "{app: web}", "", READY);
    yaml.push_str(&event(
        "e2",
        "web-2",
        "FailedScheduling",
        "0/3 nodes are available",
        "",
    ));
    let out = run(&yaml, "Pod", "shop", "web-2");
    assert!(!out.has("workload.unschedulable"));
    assert_eq!(out.verdict, Verdict::Healthy);
}

// ---------------------------------------------------------------- readiness-failing

const NOT_READY_RUNNING: &str = r#"  phase: Running
  conditions:
  - {type: PodScheduled, status: "True"}
  - {type: Ready, status: "False", reason: ContainersNotReady, message: "containers with unready status: [web]"}
  containerStatuses:
  - name: web
    ready: false
    state: {running: {startedAt: "2026-11-24T07:00:00Z"}}"#;

#[test]
fn readiness_failing_single_pod_is_error() {
    let mut yaml = pod("web-1", "{app: web}", "", NOT_READY_RUNNING);
    yaml.push_str(&event(
        "e1",
        "web-1",
        "Unhealthy",
        "Readiness probe failed: HTTP probe failed with statuscode: 503",
        "spec.containers{web}",
    ));
    let out = run(&yaml, "Pod", "shop", "web-1");
    assert_eq!(out.verdict, Verdict::Resolved);
    let r = out.expect_finding("workload.readiness-failing");
    assert_eq!(r.severity, Severity::Error);
    assert!(r.evidence_contains("statuscode: 503"));
    assert!(r.evidence_contains("status.conditions[Ready] = False"));
    assert!(r.evidence_contains("readinessProbe = {\"httpGet\""));
    assert!(r.suggestions.iter().any(|s| s.contains("readinessProbe")));
}

#[test]
fn readiness_failing_needs_probe_events() {
    // Not ready, running, no events: not readiness-failing; unexplained.
    let out = run(
        &pod("web-1", "{app: web}", "", NOT_READY_RUNNING),
        "Pod",
        "shop",
        "web-1",
    );
    assert!(!out.has("workload.readiness-failing"));
    assert_eq!(out.verdict, Verdict::Inconclusive);
    // Liveness failures are not readiness failures.
    let mut yaml = pod("web-1", "{app: web}", "", NOT_READY_RUNNING);
    yaml.push_str(&event(
        "e1",
        "web-1",
        "Unhealthy",
        "Liveness probe failed: timeout",
        "",
    ));
    let out = run(&yaml, "Pod", "shop", "web-1");
    assert!(!out.has("workload.readiness-failing"));
}

#[test]
fn crashlooping_pod_is_not_readiness_failing() {
    let mut yaml = pod("web-1", "{app: web}", "", CRASHLOOP);
    yaml.push_str(&event(
        "e1",
        "web-1",
        "Unhealthy",
        "Readiness probe failed: connection refused",
        "",
    ));
    let out = run(&yaml, "Pod", "shop", "web-1");
    assert!(out.has("workload.crashloop"));
    assert!(!out.has("workload.readiness-failing"));
    // An image-pulling pod neither.
    let mut yaml = pod("web-2", "{app: web}", "", IMAGE_PULL);
    yaml.push_str(&event(
        "e2",
        "web-2",
        "Unhealthy",
        "Readiness probe failed: x",
        "",
    ));
    let out = run(&yaml, "Pod", "shop", "web-2");
    assert!(!out.has("workload.readiness-failing"));
}

// ---------------------------------------------------------------- workloads

fn deployment(name: &str, replicas: i64, ready: i64, labels: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: shop, uid: uid-{name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {labels}}}
  template: {{metadata: {{labels: {labels}}}}}
status: {{replicas: {replicas}, readyReplicas: {ready}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}-rs
  namespace: shop
  uid: uid-{name}-rs
  labels: {labels}
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: {name}, uid: uid-{name}, controller: true}}]
spec: {{selector: {{matchLabels: {labels}}}}}
---
"#
    )
}

fn owned(pod_yaml: String, rs: &str) -> String {
    pod_yaml.replace(
        "  labels:",
        &format!(
            "  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: {rs}, uid: uid-{rs}, controller: true}}]\n  labels:"
        ),
    )
}

#[test]
fn deployment_aggregates_its_pods_only() {
    let mut yaml = deployment("web", 2, 1, "{app: web}");
    yaml.push_str(&owned(pod("web-a", "{app: web}", "", READY), "web-rs"));
    yaml.push_str(&owned(pod("web-b", "{app: web}", "", CRASHLOOP), "web-rs"));
    // Same labels, other owner: not the Deployment's pod.
    yaml.push_str(&owned(
        pod("stray", "{app: web}", "", IMAGE_PULL),
        "other-rs",
    ));
    let out = run(&yaml, "Deployment", "shop", "web");
    assert_eq!(out.verdict, Verdict::Resolved);
    let c = out.expect_finding("workload.crashloop");
    assert_eq!(c.resources[0].name, "web-b");
    assert_eq!(c.resources[1].kind, "Deployment");
    assert!(
        c.suggestions
            .iter()
            .any(|s| s.contains("Deployment shop/web manifest"))
    );
    assert!(
        !out.has("workload.image-pull"),
        "stray pod is not the Deployment's"
    );
}

#[test]
fn deployment_without_readable_replicasets_uses_the_selector() {
    let yaml = deployment("web", 1, 0, "{app: web}");
    let yaml = yaml.split("---").next().unwrap().to_string() + "---\n";
    let yaml = yaml + &owned(pod("web-a", "{app: web}", "", CRASHLOOP), "web-rs");
    let out = run(&yaml, "Deployment", "shop", "web");
    assert!(out.has("workload.crashloop"));
}

#[test]
fn deployment_missing_replicas_unexplained() {
    let mut yaml = deployment("web", 3, 0, "{app: web}");
    yaml = yaml.replace(
        "status: {replicas: 3, readyReplicas: 0}",
        "status:\n  replicas: 0\n  conditions:\n  - {type: ReplicaFailure, status: \"True\", reason: FailedCreate, message: 'pods \"web-x\" is forbidden: exceeded quota'}",
    );
    let out = run(&yaml, "Deployment", "shop", "web");
    assert_eq!(out.verdict, Verdict::Inconclusive);
    let u = out.expect_finding("workload.unexplained");
    assert!(u.evidence_contains("status.readyReplicas = 0, spec.replicas = 3"));
    assert!(u.evidence_contains("exceeded quota"));
}

#[test]
fn healthy_deployment() {
    let mut yaml = deployment("web", 1, 1, "{app: web}");
    yaml.push_str(&owned(pod("web-a", "{app: web}", "", READY), "web-rs"));
    let out = run(&yaml, "Deployment", "shop", "web");
    assert_eq!(out.verdict, Verdict::Healthy);
    assert!(out.findings.is_empty());
}

#[test]
fn readiness_is_warning_while_other_pods_serve() {
    let mut yaml = deployment("web", 2, 1, "{app: web}");
    yaml.push_str(&owned(pod("web-a", "{app: web}", "", READY), "web-rs"));
    yaml.push_str(&owned(
        pod("web-b", "{app: web}", "", NOT_READY_RUNNING),
        "web-rs",
    ));
    yaml.push_str(&event(
        "e1",
        "web-b",
        "Unhealthy",
        "Readiness probe failed: 503",
        "",
    ));
    let out = run(&yaml, "Deployment", "shop", "web");
    assert_eq!(out.verdict, Verdict::Resolved);
    assert_eq!(
        out.expect_finding("workload.readiness-failing").severity,
        Severity::Warning
    );
}

#[test]
fn many_replicas_do_not_flood() {
    let mut yaml = deployment("web", 30, 0, "{app: web}");
    for i in 0..30 {
        yaml.push_str(&owned(
            pod(&format!("web-{i:02}"), "{app: web}", "", CRASHLOOP),
            "web-rs",
        ));
    }
    let out = run(&yaml, "Deployment", "shop", "web");
    let n = out
        .codes()
        .iter()
        .filter(|c| **c == "workload.crashloop")
        .count();
    assert_eq!(n, 10);
    let last = out
        .findings
        .iter()
        .rfind(|f| f.code == "workload.crashloop")
        .unwrap();
    assert!(last.evidence_contains("… and 20 more workload.crashloop findings"));
}

#[test]
fn statefulset_and_job_resolve_owned_pods() {
    let yaml = format!(
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: shop, uid: uid-db}}
spec: {{replicas: 1, selector: {{matchLabels: {{app: db}}}}}}
status: {{replicas: 1, readyReplicas: 0}}
---
{}"#,
        pod("db-0", "{app: db}", "", UNSCHEDULABLE).replace(
            "  labels:",
            "  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: uid-db, controller: true}]\n  labels:"
        )
    );
    let out = run(&yaml, "StatefulSet", "shop", "db");
    assert!(out.has("workload.unschedulable"));
    assert!(
        out.expect_finding("workload.unschedulable")
            .suggestions
            .iter()
            .any(|s| s.contains("StatefulSet shop/db"))
    );

    // A completed Job whose first attempt failed is healthy.
    let failed = "  phase: Failed\n  containerStatuses:\n  - name: web\n    state: {terminated: {reason: Error, exitCode: 1}}";
    let done = "  phase: Succeeded\n  containerStatuses:\n  - name: web\n    state: {terminated: {reason: Completed, exitCode: 0}}";
    let job_owner = "  ownerReferences: [{apiVersion: batch/v1, kind: Job, name: once, uid: uid-once, controller: true}]\n  labels:";
    let yaml = format!(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {{name: once, namespace: shop, uid: uid-once}}
spec: {{selector: {{matchLabels: {{job-name: once}}}}}}
status:
  conditions: [{{type: Complete, status: "True"}}]
---
{}{}"#,
        pod("once-a", "{job-name: once}", "", failed).replace("  labels:", job_owner),
        pod("once-b", "{job-name: once}", "", done).replace("  labels:", job_owner),
    );
    let out = run(&yaml, "Job", "shop", "once");
    assert_eq!(out.verdict, Verdict::Healthy, "{:#?}", out.findings);
    // The same Job, failed: inconclusive (no rule explains exit code 1 outside a crash loop).
    let yaml = yaml.replace("type: Complete", "type: Failed");
    let out = run(&yaml, "Job", "shop", "once");
    assert_eq!(out.verdict, Verdict::Inconclusive);
}

#[test]
fn daemonset_target() {
    let yaml = format!(
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent, namespace: shop, uid: uid-agent}}
spec: {{selector: {{matchLabels: {{app: agent}}}}}}
status: {{desiredNumberScheduled: 1, numberReady: 0}}
---
{}"#,
        pod("agent-x", "{app: agent}", "", CRASHLOOP).replace(
            "  labels:",
            "  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: uid-agent, controller: true}]\n  labels:"
        )
    );
    let out = run(&yaml, "DaemonSet", "shop", "agent");
    assert!(out.has("workload.crashloop"));
    assert_eq!(out.verdict, Verdict::Resolved);
}

// ---------------------------------------------------------------- service-no-endpoints

fn service(name: &str, selector: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop, uid: uid-svc-{name}}}\nspec: {{selector: {selector}, ports: [{{port: 80}}]}}\n---\n"
    )
}

#[test]
fn service_selector_matches_no_pod_names_the_label() {
    let mut yaml = service("web", "{app: web, version: v2}");
    yaml.push_str(&deployment("web-v1", 1, 1, "{app: web, version: v1}"));
    yaml.push_str(&owned(
        pod("web-v1-a", "{app: web, version: v1}", "", READY),
        "web-v1-rs",
    ));
    yaml.push_str(&pod("other", "{app: other}", "", READY));
    let out = run(&yaml, "Service", "shop", "web");
    assert_eq!(out.verdict, Verdict::Resolved);
    let s = out.expect_finding("workload.service-no-endpoints");
    assert_eq!(s.severity, Severity::Error);
    assert_eq!(s.resources[0].kind, "Service");
    assert!(s.evidence_contains("spec.selector = {app: web, version: v2}"));
    assert!(
        s.evidence_contains(
            "Pods with app=web have version=v1 (web-v1-a); the Service selects version=v2"
        ),
        "{:#?}",
        s.evidence
    );
    assert!(
        s.suggestions
            .iter()
            .any(|x| x.contains("change spec.selector.version to v1"))
    );
    assert!(
        s.resources
            .iter()
            .any(|r| r.kind == "Deployment" && r.name == "web-v1")
    );
}

#[test]
fn service_selector_without_app_label() {
    let mut yaml = service("web", "{tier: web, track: stable}");
    yaml.push_str(&pod("web-a", "{tier: web, track: canary}", "", READY));
    yaml.push_str(&pod("db-a", "{tier: db}", "", READY));
    let out = run(&yaml, "Service", "shop", "web");
    let s = out.expect_finding("workload.service-no-endpoints");
    assert!(
        s.evidence_contains(
            "Pods with tier=web have track=canary (web-a); the Service selects track=stable"
        ),
        "{:#?}",
        s.evidence
    );
    assert!(!s.evidence_contains("db-a"));
    // A label the pods lack entirely.
    let mut yaml = service("web", "{app: web, env: prod}");
    yaml.push_str(&pod("web-a", "{app: web}", "", READY));
    let out = run(&yaml, "Service", "shop", "web");
    let s = out.expect_finding("workload.service-no-endpoints");
    assert!(
        s.evidence_contains("have no label env"),
        "{:#?}",
        s.evidence
    );
    assert!(s.suggestions[0].contains("remove env from spec.selector"));
}

#[test]
fn service_matches_pods_in_its_namespace_only() {
    let mut yaml = service("web", "{app: web}");
    yaml.push_str(
        &pod("web-a", "{app: web}", "", READY).replace("namespace: shop", "namespace: elsewhere"),
    );
    let out = run(&yaml, "Service", "shop", "web");
    let s = out.expect_finding("workload.service-no-endpoints");
    assert!(s.suggestions.iter().any(|x| x.contains("own namespace")));
}

#[test]
fn service_with_no_ready_pod() {
    let mut yaml = service("web", "{app: web}");
    yaml.push_str(&pod("web-a", "{app: web}", "", CRASHLOOP));
    let out = run(&yaml, "Service", "shop", "web");
    assert_eq!(out.verdict, Verdict::Resolved);
    let s = out.expect_finding("workload.service-no-endpoints");
    assert!(s.summary.contains("no ready endpoint"));
    assert!(s.evidence_contains("Pod shop/web-a matches"));
    let c = out.expect_finding("workload.crashloop");
    assert_eq!(c.resources[1].kind, "Service");
}

#[test]
fn service_with_ready_pod_is_healthy() {
    let mut yaml = service("web", "{app: web}");
    yaml.push_str(&pod("web-a", "{app: web}", "", READY));
    yaml.push_str(&pod("web-b", "{app: web}", "", READY));
    let out = run(&yaml, "Service", "shop", "web");
    assert_eq!(out.verdict, Verdict::Healthy);
    assert!(out.findings.is_empty());
}

#[test]
fn service_without_selector_is_healthy() {
    let yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: ext, namespace: shop}\nspec: {type: ExternalName, externalName: db.example.com}\n";
    let out = run(yaml, "Service", "shop", "ext");
    assert_eq!(out.verdict, Verdict::Healthy);
    assert!(out.findings.is_empty());
}

// ---------------------------------------------------------------- odd input

#[test]
fn odd_objects_do_not_panic() {
    let odd = [
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nstatus: weird\nspec: 3\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop, ownerReferences: 7}\nstatus: {phase: Running, containerStatuses: {a: 1}, conditions: [1, 2]}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nstatus: {phase: Pending, containerStatuses: [{name: c, restartCount: \"x\", state: {waiting: {reason: CrashLoopBackOff}}}]}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nstatus: {phase: Running, containerStatuses: [{state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {reason: OOMKilled}}}]}\n",
    ];
    for y in odd {
        let f = Fixture::from_yaml(y).unwrap();
        let out = f
            .investigate::<WorkloadHealth>("Pod", Some("shop"), "p")
            .unwrap();
        check_invariants(&out);
    }
    let odd_workloads = [
        (
            "Deployment",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: p, namespace: shop}\n",
        ),
        (
            "Deployment",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: p, namespace: shop}\nspec: {replicas: \"two\", selector: {matchExpressions: [{key: a, operator: Near}]}}\n",
        ),
        (
            "ReplicaSet",
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: p, namespace: shop}\nspec: {selector: {}}\n",
        ),
        (
            "Service",
            "apiVersion: v1\nkind: Service\nmetadata: {name: p, namespace: shop}\nspec: {selector: [1]}\n",
        ),
        (
            "Job",
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: p, namespace: shop}\nstatus: {conditions: 5}\n",
        ),
    ];
    for (k, y) in odd_workloads {
        let f = Fixture::from_yaml(y).unwrap();
        let out = f
            .investigate::<WorkloadHealth>(k, Some("shop"), "p")
            .unwrap();
        check_invariants(&out);
    }
}

// ---------------------------------------------------------------- detect

fn obj(yaml: &str) -> Object {
    Fixture::from_yaml(yaml).unwrap().objects()[0].clone()
}

#[test]
fn detect_pods() {
    assert!(WorkloadHealth::detect(&obj(&pod("p", "{}", "", CRASHLOOP))));
    assert!(WorkloadHealth::detect(&obj(&pod(
        "p", "{}", "", IMAGE_PULL
    ))));
    assert!(WorkloadHealth::detect(&obj(&pod(
        "p",
        "{}",
        "",
        UNSCHEDULABLE
    ))));
    let cfg = CRASHLOOP.replace("CrashLoopBackOff", "CreateContainerConfigError");
    assert!(WorkloadHealth::detect(&obj(&pod("p", "{}", "", &cfg))));
    let oom = READY.replace(
        "    state: {running",
        "    lastState: {terminated: {reason: OOMKilled, exitCode: 137}}\n    state: {running",
    );
    assert!(WorkloadHealth::detect(&obj(&pod("p", "{}", "", &oom))));
    assert!(!WorkloadHealth::detect(&obj(&pod("p", "{}", "", READY))));
    assert!(!WorkloadHealth::detect(&obj(&pod(
        "p",
        "{}",
        "",
        NOT_READY_RUNNING
    ))));
    let pending = "  phase: Pending\n  conditions:\n  - {type: PodScheduled, status: \"True\"}";
    assert!(!WorkloadHealth::detect(&obj(&pod("p", "{}", "", pending))));
}

#[test]
fn detect_workloads() {
    let d = |replicas: &str, ready: &str| {
        obj(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d}}\nspec: {{{replicas}}}\nstatus: {{{ready}}}\n"
        ))
    };
    assert!(WorkloadHealth::detect(&d(
        "replicas: 3",
        "readyReplicas: 2"
    )));
    assert!(
        WorkloadHealth::detect(&d("replicas: 1", "")),
        "missing readyReplicas is 0"
    );
    assert!(!WorkloadHealth::detect(&d(
        "replicas: 2",
        "readyReplicas: 2"
    )));
    assert!(!WorkloadHealth::detect(&d("replicas: 0", "")));
    let sts = obj(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {replicas: 2}\nstatus: {readyReplicas: 1}\n",
    );
    assert!(WorkloadHealth::detect(&sts));
    let rs = obj(
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: s}\nspec: {replicas: 1}\nstatus: {readyReplicas: 1}\n",
    );
    assert!(!WorkloadHealth::detect(&rs));
    let svc = obj("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
    assert!(!WorkloadHealth::detect(&svc));
    let ds = obj(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: s}\nstatus: {numberReady: 0, desiredNumberScheduled: 3}\n",
    );
    assert!(!WorkloadHealth::detect(&ds));
}

// ---------------------------------------------------------------- public scenarios

fn scenarios_dir() -> Option<PathBuf> {
    let d = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/scenarios"
    ));
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "NOTE: {} is absent; skipping the public-scenario tests",
            d.display()
        );
        None
    }
}

fn snapshot(name: &str) -> Option<Fixture> {
    let dir = scenarios_dir()?.join(name).join("cluster");
    Some(Fixture::from_snapshot_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
}

fn check_scenario(name: &str) -> Option<Outcome> {
    let sc = Scenario::load(scenarios_dir()?.join(name)).unwrap();
    let out = sc.investigate::<WorkloadHealth>().unwrap();
    check_invariants(&out);
    sc.assert_met(&out);
    Some(out)
}

#[test]
fn scenario_workload_crashloop() {
    let Some(out) = check_scenario("workload-crashloop") else {
        return;
    };
    let c = out.expect_finding("workload.crashloop");
    assert!(c.evidence_contains("Read-only file system"), "log attached");
    assert!(c.evidence_contains("restartCount = 14"));
    assert!(
        c.suggestions
            .iter()
            .any(|s| s.contains("Deployment bookinfo/reviews-v2"))
    );
    assert_eq!(out.findings.len(), 1, "{:#?}", out.findings);
}

#[test]
fn scenario_workload_image_pull() {
    let Some(out) = check_scenario("workload-image-pull") else {
        return;
    };
    let i = out.expect_finding("workload.image-pull");
    assert!(i.summary.contains("1.21.0"));
    assert!(i.evidence_contains("Event Failed"));
    assert!(
        i.evidence_contains("examples-bookinfo-ratings-v1:1.20.3"),
        "serving image named"
    );
    assert!(
        i.resources
            .iter()
            .any(|r| r.kind == "Deployment" && r.name == "ratings-v1")
    );
}

#[test]
fn scenario_workload_unschedulable() {
    let Some(out) = check_scenario("workload-unschedulable") else {
        return;
    };
    let u = out.expect_finding("workload.unschedulable");
    assert!(u.evidence_contains("Insufficient cpu"));
    assert!(u.evidence_contains("1500m"));
    assert!(
        u.suggestions[0].contains("productpage: cpu 1500m"),
        "{:#?}",
        u.suggestions
    );
}

#[test]
fn scenario_workload_service_no_endpoints() {
    let Some(out) = check_scenario("workload-service-no-endpoints") else {
        return;
    };
    let s = out.expect_finding("workload.service-no-endpoints");
    assert!(
        s.evidence_contains("Pods with app=details have version=v1"),
        "{:#?}",
        s.evidence
    );
    assert!(
        s.suggestions[0].contains("change spec.selector.version to v1")
            && s.suggestions[0].contains("Deployment bookinfo/details-v1"),
        "{:#?}",
        s.suggestions
    );
    assert!(
        !s.evidence_contains("reviews"),
        "pods of another app are no near miss"
    );
}

#[test]
fn scenario_bookinfo_healthy_targets() {
    let Some(f) = snapshot("bookinfo-healthy") else {
        return;
    };
    let mut targets: Vec<(String, String, String)> = Vec::new();
    for o in f.objects() {
        let k = o.kind();
        if matches!(k, "Pod" | "Service" | "Deployment" | "ReplicaSet") {
            targets.push((
                k.into(),
                o.namespace().unwrap_or("").into(),
                o.name().into(),
            ));
        }
    }
    assert!(
        targets
            .iter()
            .any(|(k, n, x)| k == "Service" && n == "bookinfo" && x == "reviews")
    );
    assert!(
        targets
            .iter()
            .any(|(k, n, x)| k == "Deployment" && n == "bookinfo" && x == "reviews-v1")
    );
    for (k, ns, name) in targets {
        let out = f
            .investigate::<WorkloadHealth>(&k, Some(&ns), &name)
            .unwrap_or_else(|e| panic!("{k} {ns}/{name}: {e}"));
        check_invariants(&out);
        assert_eq!(
            out.verdict,
            Verdict::Healthy,
            "{k} {ns}/{name}: {:#?}",
            out.findings
        );
        assert!(
            out.findings.iter().all(|f| f.severity == Severity::Info),
            "{k} {ns}/{name}: {:#?}",
            out.findings
        );
    }
}

#[test]
fn scenarios_other_pods_are_not_flagged() {
    // In every workload scenario, the pods the story does not touch are healthy.
    for name in [
        "workload-crashloop",
        "workload-image-pull",
        "workload-unschedulable",
        "workload-service-no-endpoints",
    ] {
        let Some(f) = snapshot(name) else { return };
        for o in f.objects().iter().filter(|o| o.kind() == "Pod") {
            if o.str_at("status.phase") != Some("Running") {
                continue;
            }
            let ready = o
                .at("status.conditions")
                .and_then(|c| c.as_array())
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.get("type").and_then(|t| t.as_str()) == Some("Ready")
                            && c.get("status").and_then(|s| s.as_str()) == Some("True")
                    })
                });
            if !ready {
                continue;
            }
            let out = f
                .investigate::<WorkloadHealth>("Pod", o.namespace(), o.name())
                .unwrap();
            assert_eq!(out.verdict, Verdict::Healthy, "{name} {}", o.name());
        }
    }
}

/// Prints the workload scenarios' outcomes: `cargo test -p workload-health dump -- --ignored --nocapture`.
#[test]
#[ignore]
fn dump_scenarios() {
    for name in [
        "workload-crashloop",
        "workload-image-pull",
        "workload-unschedulable",
        "workload-service-no-endpoints",
    ] {
        let Some(dir) = scenarios_dir() else {
            return;
        };
        let out = Scenario::load(dir.join(name))
            .unwrap()
            .investigate::<WorkloadHealth>()
            .unwrap();
        println!(
            "=== {name}\n{}",
            serde_json::to_string_pretty(&out).unwrap()
        );
    }
}
