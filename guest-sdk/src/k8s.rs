//! Typed views of the Kubernetes fields skills read most, for [`crate::Object::typed`].
//!
//! Each view holds only the fields a diagnosis needs, every field defaulted, so an object from any
//! Kubernetes version (or a partial snapshot) deserializes without error.

use crate::selector::{Op, Requirement, Selector};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// `metadata`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObjectMeta {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: Option<String>,
    /// `metadata.uid`.
    pub uid: Option<String>,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `metadata.ownerReferences`.
    pub owner_references: Vec<OwnerReference>,
    /// `metadata.creationTimestamp`.
    pub creation_timestamp: Option<String>,
}

/// One `metadata.ownerReferences` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OwnerReference {
    /// Owner's apiVersion.
    pub api_version: String,
    /// Owner's kind.
    pub kind: String,
    /// Owner's name.
    pub name: String,
    /// Owner's uid.
    pub uid: String,
    /// Whether the owner is the managing controller.
    pub controller: Option<bool>,
}

/// A `v1 Pod`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Pod {
    /// Metadata.
    pub metadata: ObjectMeta,
    /// Spec.
    pub spec: PodSpec,
    /// Status.
    pub status: PodStatus,
}

/// `Pod.spec`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodSpec {
    /// `spec.containers`.
    pub containers: Vec<Container>,
    /// `spec.initContainers`.
    pub init_containers: Vec<Container>,
    /// `spec.nodeName`.
    pub node_name: Option<String>,
}

/// A container of a pod spec.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Container {
    /// Container name.
    pub name: String,
    /// Image reference.
    pub image: String,
    /// `Always` for a native sidecar init container.
    pub restart_policy: Option<String>,
    /// `resources` as raw JSON (requests, limits).
    pub resources: serde_json::Value,
    /// Whether a readiness probe is configured.
    pub readiness_probe: Option<serde_json::Value>,
}

/// `Pod.status`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PodStatus {
    /// `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: String,
    /// `status.reason` (e.g. `Evicted`).
    pub reason: Option<String>,
    /// `status.message`.
    pub message: Option<String>,
    /// Pod conditions.
    pub conditions: Vec<Condition>,
    /// App containers' statuses.
    pub container_statuses: Vec<ContainerStatus>,
    /// Init containers' statuses.
    pub init_container_statuses: Vec<ContainerStatus>,
}

impl Pod {
    /// The condition of the given type, if reported.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.status.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Whether the `Ready` condition is `True`.
    pub fn is_ready(&self) -> bool {
        self.condition("Ready").is_some_and(|c| c.status == "True")
    }

    /// Init and app container statuses, init first.
    pub fn all_container_statuses(&self) -> impl Iterator<Item = &ContainerStatus> {
        self.status
            .init_container_statuses
            .iter()
            .chain(self.status.container_statuses.iter())
    }
}

/// A status condition (pods, workloads and custom resources alike).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    /// Condition type.
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// CamelCase reason.
    pub reason: Option<String>,
    /// Human message.
    pub message: Option<String>,
    /// When the status last changed.
    pub last_transition_time: Option<String>,
}

/// One container's status.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerStatus {
    /// Container name.
    pub name: String,
    /// Readiness.
    pub ready: bool,
    /// Restarts so far.
    pub restart_count: i64,
    /// Image as reported by the kubelet.
    pub image: String,
    /// Current state.
    pub state: ContainerState,
    /// Previous state (the last termination of a restarting container).
    pub last_state: ContainerState,
}

/// A container state: at most one of the three is set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ContainerState {
    /// Waiting to start.
    pub waiting: Option<StateDetail>,
    /// Running.
    pub running: Option<serde_json::Value>,
    /// Terminated.
    pub terminated: Option<StateDetail>,
}

/// The details of a waiting or terminated state.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StateDetail {
    /// Reason (`CrashLoopBackOff`, `OOMKilled`, …).
    pub reason: Option<String>,
    /// Message.
    pub message: Option<String>,
    /// Exit code (terminated only).
    pub exit_code: Option<i64>,
    /// When it finished (terminated only).
    pub finished_at: Option<String>,
}

/// A workload (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job): what selects its pods.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Workload {
    /// Metadata.
    pub metadata: ObjectMeta,
    /// Spec.
    pub spec: WorkloadSpec,
    /// Status as raw JSON (its fields differ per kind).
    pub status: serde_json::Value,
}

/// The part of a workload's spec every kind shares.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WorkloadSpec {
    /// Desired replicas (absent for DaemonSet and Job).
    pub replicas: Option<i64>,
    /// The pod selector.
    pub selector: LabelSelector,
}

/// A `metav1.LabelSelector` as it appears in object specs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelSelector {
    /// `matchLabels`.
    pub match_labels: BTreeMap<String, String>,
    /// `matchExpressions`.
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LabelSelectorRequirement {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    /// Values for `In` / `NotIn`.
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Converts to a [`Selector`]; `None` when an operator is unknown (match nothing rather than
    /// everything, as the API server would reject such a selector).
    pub fn to_selector(&self) -> Option<Selector> {
        let mut reqs: Vec<Requirement> = self
            .match_labels
            .iter()
            .map(|(k, v)| Requirement {
                key: k.clone(),
                op: Op::Equals(v.clone()),
            })
            .collect();
        for e in &self.match_expressions {
            let set = || e.values.iter().cloned().collect::<BTreeSet<_>>();
            let op = match e.operator.as_str() {
                "In" => Op::In(set()),
                "NotIn" => Op::NotIn(set()),
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                _ => return None,
            };
            reqs.push(Requirement {
                key: e.key.clone(),
                op,
            });
        }
        Some(Selector::from_requirements(reqs))
    }

    /// True when neither labels nor expressions are given (which selects everything in a
    /// workload, and nothing in some other APIs: callers decide).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

/// A `v1 Service`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Service {
    /// Metadata.
    pub metadata: ObjectMeta,
    /// Spec.
    pub spec: ServiceSpec,
}

/// `Service.spec`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServiceSpec {
    /// The pod selector (plain labels; empty for selector-less services).
    pub selector: BTreeMap<String, String>,
    /// `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

/// An Event, from `v1` (`involvedObject`, `message`) or `events.k8s.io/v1` (`regarding`, `note`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Event {
    /// Metadata.
    pub metadata: ObjectMeta,
    /// CamelCase reason (`BackOff`, `FailedScheduling`, `Unhealthy`).
    pub reason: String,
    /// `v1` message.
    pub message: Option<String>,
    /// `events.k8s.io/v1` note.
    pub note: Option<String>,
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// `v1` count.
    pub count: Option<i64>,
    /// `events.k8s.io/v1` series.
    pub series: Option<EventSeries>,
    /// `v1` involved object.
    pub involved_object: Option<EventObject>,
    /// `events.k8s.io/v1` regarding.
    pub regarding: Option<EventObject>,
    /// `v1` last timestamp.
    pub last_timestamp: Option<String>,
    /// `events.k8s.io/v1` event time (also set on newer `v1` events).
    pub event_time: Option<String>,
}

/// `events.k8s.io/v1` series.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventSeries {
    /// Occurrences in the series.
    pub count: i64,
}

/// The object an Event is about.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventObject {
    /// apiVersion.
    pub api_version: Option<String>,
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// uid.
    pub uid: Option<String>,
    /// e.g. `spec.containers{reviews}`.
    pub field_path: Option<String>,
}

impl Event {
    /// The human text, whichever API version wrote it.
    pub fn text(&self) -> &str {
        self.message
            .as_deref()
            .or(self.note.as_deref())
            .unwrap_or("")
    }

    /// How many times it happened (1 when not counted).
    pub fn occurrences(&self) -> i64 {
        self.count
            .or(self.series.as_ref().map(|s| s.count))
            .unwrap_or(1)
            .max(1)
    }

    /// The object it is about, whichever API version wrote it.
    pub fn subject(&self) -> Option<&EventObject> {
        self.involved_object.as_ref().or(self.regarding.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Object;

    #[test]
    fn label_selector_converts_expressions() {
        let ls: LabelSelector = serde_json::from_str(
            r#"{"matchLabels":{"app":"a"},"matchExpressions":[{"key":"tier","operator":"In","values":["web"]}]}"#,
        )
        .unwrap();
        let s = ls.to_selector().unwrap();
        assert_eq!(s.to_string(), "app=a,tier in (web)");
        let bad: LabelSelector =
            serde_json::from_str(r#"{"matchExpressions":[{"key":"t","operator":"Near"}]}"#)
                .unwrap();
        assert!(bad.to_selector().is_none());
    }

    #[test]
    fn events_of_both_api_versions_read_alike() {
        let v1: Event = Object::from_json(
            r#"{"apiVersion":"v1","kind":"Event","reason":"BackOff","message":"m","count":3,
            "involvedObject":{"kind":"Pod","name":"p","namespace":"n"}}"#,
        )
        .unwrap()
        .typed()
        .unwrap();
        let new: Event = Object::from_json(
            r#"{"apiVersion":"events.k8s.io/v1","kind":"Event","reason":"BackOff","note":"m",
            "series":{"count":3},"regarding":{"kind":"Pod","name":"p","namespace":"n"}}"#,
        )
        .unwrap()
        .typed()
        .unwrap();
        for e in [&v1, &new] {
            assert_eq!(e.text(), "m");
            assert_eq!(e.occurrences(), 3);
            assert_eq!(e.subject().unwrap().name, "p");
        }
    }

    #[test]
    fn pod_view_tolerates_partial_objects() {
        let p: Pod = Object::from_json(r#"{"kind":"Pod","metadata":{"name":"p"}}"#)
            .unwrap()
            .typed()
            .unwrap();
        assert!(!p.is_ready());
        assert_eq!(p.all_container_statuses().count(), 0);
    }
}

/// The lowercase plural resource name of a kind, as the API server names it (`Pod` → `pods`,
/// `NetworkPolicy` → `networkpolicies`, `Endpoints` → `endpoints`).
pub fn plural(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k == "endpoints" {
        return k;
    }
    if k.ends_with('s') || k.ends_with('x') || k.ends_with("ch") || k.ends_with("sh") {
        return format!("{k}es");
    }
    if let Some(stem) = k.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    format!("{k}s")
}

/// kubectl's short names for the kinds skills read most.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("cm", "configmap"),
    ("cj", "cronjob"),
    ("deploy", "deployment"),
    ("dr", "destinationrule"),
    ("ds", "daemonset"),
    ("ep", "endpoints"),
    ("ev", "event"),
    ("gw", "gateway"),
    ("hpa", "horizontalpodautoscaler"),
    ("ing", "ingress"),
    ("netpol", "networkpolicy"),
    ("no", "node"),
    ("ns", "namespace"),
    ("pa", "peerauthentication"),
    ("po", "pod"),
    ("pv", "persistentvolume"),
    ("pvc", "persistentvolumeclaim"),
    ("rs", "replicaset"),
    ("sa", "serviceaccount"),
    ("se", "serviceentry"),
    ("sts", "statefulset"),
    ("svc", "service"),
    ("vs", "virtualservice"),
];

/// Whether `query` names objects of `kind` in `api_version`: a kind (`Pod`), a plural (`pods`),
/// a kubectl short name (`po`), each optionally followed by `.group` (`deployments.apps`),
/// case-insensitive.
pub fn kind_matches(query: &str, api_version: &str, kind: &str) -> bool {
    let q = query.trim().to_ascii_lowercase();
    let (name, group) = match q.split_once('.') {
        Some((n, g)) => (n, Some(g)),
        None => (q.as_str(), None),
    };
    let obj_group = api_version
        .rsplit_once('/')
        .map(|(g, _)| g.to_ascii_lowercase())
        .unwrap_or_default();
    if let Some(g) = group
        && !(obj_group == g || obj_group.starts_with(&format!("{g}.")))
    {
        return false;
    }
    let k = kind.to_ascii_lowercase();
    let name = SHORT_NAMES
        .iter()
        .find(|(short, _)| *short == name)
        .map_or(name, |(_, long)| long);
    name == k || name == plural(kind)
}

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn plurals() {
        for (k, p) in [
            ("Pod", "pods"),
            ("NetworkPolicy", "networkpolicies"),
            ("Ingress", "ingresses"),
            ("Endpoints", "endpoints"),
            ("Gateway", "gateways"),
            ("RootSync", "rootsyncs"),
        ] {
            assert_eq!(plural(k), p);
        }
    }

    #[test]
    fn kind_spellings() {
        assert!(kind_matches("Pod", "v1", "Pod"));
        assert!(kind_matches("pods", "v1", "Pod"));
        assert!(kind_matches("po", "v1", "Pod"));
        assert!(kind_matches("deployment.apps", "apps/v1", "Deployment"));
        assert!(kind_matches("DEPLOYMENTS.apps", "apps/v1", "Deployment"));
        assert!(!kind_matches("deployment.batch", "apps/v1", "Deployment"));
        assert!(kind_matches(
            "vs.networking.istio.io",
            "networking.istio.io/v1",
            "VirtualService"
        ));
        assert!(kind_matches(
            "virtualservice.networking",
            "networking.istio.io/v1",
            "VirtualService"
        ));
        assert!(!kind_matches("pod.apps", "v1", "Pod"));
        assert!(!kind_matches("service", "v1", "ServiceAccount"));
    }
}
