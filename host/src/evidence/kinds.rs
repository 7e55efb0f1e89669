//! Kind resolution: which collection a spelling such as `po`, `deployments.apps` or `vs` means,
//! among the kinds present plus a table of well-known ones.

use super::{EvidenceError, KindKey};
use skillbox_guest::k8s::kind_matches;
use std::collections::{BTreeMap, BTreeSet};

/// Kinds that resolve even when the evidence holds none of them, so that "list the Pods" in a
/// snapshot without pods answers "none" instead of "unknown kind". `(apiVersion, Kind)`.
const WELL_KNOWN: &[(&str, &str)] = &[
    ("v1", "ConfigMap"),
    ("v1", "Endpoints"),
    ("v1", "Event"),
    ("v1", "LimitRange"),
    ("v1", "Namespace"),
    ("v1", "Node"),
    ("v1", "PersistentVolume"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Pod"),
    ("v1", "ResourceQuota"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "StatefulSet"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("batch/v1", "CronJob"),
    ("batch/v1", "Job"),
    ("discovery.k8s.io/v1", "EndpointSlice"),
    ("events.k8s.io/v1", "Event"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("policy/v1", "PodDisruptionBudget"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("networking.istio.io/v1", "DestinationRule"),
    ("networking.istio.io/v1", "Gateway"),
    ("networking.istio.io/v1", "ServiceEntry"),
    ("networking.istio.io/v1", "Sidecar"),
    ("networking.istio.io/v1", "VirtualService"),
    ("security.istio.io/v1", "AuthorizationPolicy"),
    ("security.istio.io/v1", "PeerAuthentication"),
    ("configsync.gke.io/v1beta1", "RepoSync"),
    ("configsync.gke.io/v1beta1", "RootSync"),
];

/// The usual apiVersion of a well-known kind (in `group`, when given), e.g. `apps/v1` for
/// `Deployment`.
pub(crate) fn well_known_api_version(kind: &str, group: Option<&str>) -> Option<&'static str> {
    WELL_KNOWN
        .iter()
        .find(|(api_version, k)| {
            *k == kind && group.is_none_or(|g| super::api_group(api_version) == g)
        })
        .map(|(api_version, _)| *api_version)
}

/// Resolves `query` against the kinds present (`present`: one representative apiVersion per
/// kind) or, when none matches, the well-known table: a kind the evidence holds always wins
/// over one it does not (`events` means `events.k8s.io` Events in a snapshot that has only those).
pub(super) fn resolve(
    query: &str,
    present: &BTreeMap<KindKey, String>,
) -> Result<KindKey, EvidenceError> {
    // BTreeSet: candidates come out sorted, so errors and choices are deterministic.
    let candidates: BTreeSet<KindKey> = present
        .iter()
        .filter(|(key, api_version)| kind_matches(query, api_version, &key.kind))
        .map(|(key, _)| key.clone())
        .collect();
    resolve_among(query, candidates, || {
        present.keys().map(ToString::to_string).collect()
    })
}

/// Picks the kind `query` means among `candidates` (the kinds present that match it, however
/// the source matched them), with the rules every source shares so that a skill's spelling
/// means the same kind in a snapshot and in a cluster.
///
/// No candidate: the well-known table answers (so "list the Pods" means Pods even where there
/// are none). Several: settled, in order, by a group in the query that equals one candidate's
/// (`gateway.networking.istio.io`), the core group, then `apps`, as kubectl prefers them.
/// `known` lists the kinds present for the "unknown kind" message; it is called only then.
pub fn resolve_among(
    query: &str,
    mut candidates: BTreeSet<KindKey>,
    known: impl FnOnce() -> Vec<String>,
) -> Result<KindKey, EvidenceError> {
    if candidates.is_empty() {
        candidates = WELL_KNOWN
            .iter()
            .filter(|(api_version, kind)| kind_matches(query, api_version, kind))
            .map(|(api_version, kind)| KindKey::from_api_version(api_version, kind))
            .collect();
    }
    if candidates.len() <= 1 {
        return candidates
            .into_iter()
            .next()
            .ok_or_else(|| EvidenceError::UnknownKind {
                query: query.to_string(),
                known: known(),
            });
    }
    let wanted_group = query
        .trim()
        .split_once('.')
        .map(|(_, g)| g.to_ascii_lowercase());
    let pick = |pred: &dyn Fn(&KindKey) -> bool| -> Option<KindKey> {
        let mut hits = candidates.iter().filter(|k| pred(k));
        match (hits.next(), hits.next()) {
            (Some(k), None) => Some(k.clone()),
            _ => None,
        }
    };
    let exact_group = wanted_group
        .as_deref()
        .and_then(|g| pick(&|k| k.group.eq_ignore_ascii_case(g)));
    exact_group
        .or_else(|| pick(&|k| k.group.is_empty()))
        .or_else(|| pick(&|k| k.group == "apps"))
        .ok_or_else(|| EvidenceError::AmbiguousKind {
            query: query.to_string(),
            candidates: candidates.iter().map(ToString::to_string).collect(),
        })
}
