//! The Service rule: does the selector reach a ready pod, and if not, which label is off.

use crate::owners::{Owners, labels_path, pod_ref};
use crate::pod::PodView;
use crate::util::{MAX_LINE, MAX_SUMMARY, clip, fmt_map, fmt_selector};
use skillbox_guest::selector::Selector;
use skillbox_guest::{Finding, Object, ObjectRef, tools};
use std::collections::{BTreeMap, BTreeSet};

/// Finding code.
pub const NO_ENDPOINTS: &str = "workload.service-no-endpoints";

/// Label keys tried first when looking for pods the selector nearly matches.
const APP_KEYS: [&str; 3] = ["app", "app.kubernetes.io/name", "k8s-app"];
/// At most this many near-miss listings.
const MAX_PROBES: usize = 2;
/// The selector entries a pod misses: (key, the pod's value if it has the key).
type Misses = Vec<(String, Option<String>)>;

/// Pod names shown per group.
const NAMES_SHOWN: usize = 5;

/// `spec.selector` (string values only; empty for selector-less Services).
pub fn selector_of(svc: &Object) -> BTreeMap<String, String> {
    svc.string_map("spec.selector")
}

/// The label selector string for `list-objects`.
pub fn selector_string(sel: &BTreeMap<String, String>) -> String {
    Selector::from_labels(sel.iter()).to_string()
}

/// `workload.service-no-endpoints` for a Service whose selector matches `pods`, if it applies.
pub fn no_endpoints(svc: &Object, pods: &[Object], owners: &mut Owners) -> Option<Finding> {
    let sel = selector_of(svc);
    if sel.is_empty() {
        return None;
    }
    let label = format!("Service {}", svc.display_name());
    let svc_ref = svc.object_ref();
    let sel_text = fmt_selector(&sel);
    let ns = svc.namespace().unwrap_or("");
    if pods.is_empty() {
        let mut f = Finding::error(
            NO_ENDPOINTS,
            clip(
                &format!("{label} has no endpoints: its selector {sel_text} matches no pod in namespace {ns}"),
                MAX_SUMMARY,
            ),
        )
        .resource(svc_ref)
        .evidence(format!("{label} spec.selector = {}", fmt_map(&sel)))
        .evidence(format!("No Pod in namespace {ns} has labels {sel_text}"));
        let (lines, suggestion, near) = near_misses(svc, &sel, owners);
        for l in lines {
            f = f.evidence(l);
        }
        for r in near {
            f = f.resource(r);
        }
        f = match suggestion {
            Some(s) => f.suggestion(s),
            None => f.suggestion(format!(
                "No pod in namespace {ns} carries any of the selector's labels: make spec.selector of {label} in its manifest match spec.template.metadata.labels of the workload that should serve it (a Service only selects pods in its own namespace), or deploy that workload"
            )),
        };
        return Some(f);
    }
    let views: Vec<PodView> = pods.iter().map(PodView::new).collect();
    if views.iter().any(PodView::serving) {
        return None;
    }
    let mut f = Finding::error(
        NO_ENDPOINTS,
        clip(
            &format!(
                "{label} has no ready endpoint: {} pod{} match{} its selector {sel_text}, none is Ready",
                views.len(),
                if views.len() == 1 { "" } else { "s" },
                if views.len() == 1 { "es" } else { "" }
            ),
            MAX_SUMMARY,
        ),
    )
    .resource(svc_ref)
    .evidence(format!("{label} spec.selector = {}", fmt_map(&sel)));
    for v in views.iter().take(10) {
        let ready = v
            .condition("Ready")
            .map(|c| {
                format!(
                    "Ready={}{}",
                    c.status,
                    c.reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_else(|| "no Ready condition".into());
        let phase = if v.status.phase.is_empty() {
            "unknown"
        } else {
            v.status.phase.as_str()
        };
        f = f.resource(pod_ref(v.obj)).evidence(clip(
            &format!("{} matches: phase {phase}, {ready}", v.label()),
            MAX_LINE,
        ));
    }
    if views.len() > 10 {
        f = f.evidence(format!(
            "… and {} more matching pods, none Ready",
            views.len() - 10
        ));
    }
    f = f.suggestion(
        "The selector is right but no selected pod is Ready: fix what keeps the pods from becoming Ready (see the other workload findings for these pods) in their workload's manifest".to_string(),
    );
    Some(f)
}

/// Pods in the Service's namespace that share some of the selector's labels: evidence lines, a
/// suggestion naming the label to fix, and the workloads those pods come from.
fn near_misses(
    svc: &Object,
    sel: &BTreeMap<String, String>,
    owners: &mut Owners,
) -> (Vec<String>, Option<String>, Vec<ObjectRef>) {
    let ns = svc.namespace();
    // Pods that share the selector's app identity label are the ones a person confuses; only
    // without such a label do we look at pods sharing any other selector label.
    let probe: Vec<&String> = match APP_KEYS
        .iter()
        .find_map(|k| sel.get_key_value(*k).map(|(k, _)| k))
    {
        Some(app) => vec![app],
        None => sel.keys().take(MAX_PROBES).collect(),
    };
    let mut candidates: BTreeMap<String, Object> = BTreeMap::new();
    for k in probe {
        let Some(v) = sel.get(k) else { continue };
        let one: BTreeMap<String, String> = [(k.clone(), v.clone())].into_iter().collect();
        if let Ok(pods) = tools::list_objects("Pod", ns, &selector_string(&one)) {
            for p in pods {
                candidates.entry(p.name().to_string()).or_insert(p);
            }
        }
    }
    // Per pod, the selector entries it misses: (key, pod's value or None).
    let mut scored: Vec<(Misses, &Object)> = candidates
        .values()
        .map(|p| {
            let labels = p.labels();
            let miss = sel
                .iter()
                .filter(|(k, v)| labels.get(*k) != Some(*v))
                .map(|(k, _)| (k.clone(), labels.get(k).cloned()))
                .collect::<Vec<_>>();
            (miss, p)
        })
        .filter(|(miss, _)| !miss.is_empty())
        .collect();
    if scored.is_empty() {
        return (Vec::new(), None, Vec::new());
    }
    let best = scored.iter().map(|(m, _)| m.len()).min().unwrap_or(0);
    scored.retain(|(m, _)| m.len() == best);
    // Group the closest pods by what they miss.
    let mut groups: BTreeMap<Misses, Vec<&Object>> = BTreeMap::new();
    for (miss, p) in scored {
        groups.entry(miss).or_default().push(p);
    }
    let mut lines = Vec::new();
    let mut suggestion = None;
    let mut near = Vec::new();
    let svc_label = format!("Service {}", svc.display_name());
    for (miss, pods) in groups.iter().take(3) {
        let missed: BTreeSet<&String> = miss.iter().map(|(k, _)| k).collect();
        let shared: BTreeMap<String, String> = sel
            .iter()
            .filter(|(k, _)| !missed.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let have: Vec<String> = miss
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => format!("no label {k}"),
            })
            .collect();
        let want: Vec<String> = miss
            .iter()
            .map(|(k, _)| format!("{k}={}", sel.get(k).map(String::as_str).unwrap_or("")))
            .collect();
        let names: Vec<&str> = pods.iter().take(NAMES_SHOWN).map(|p| p.name()).collect();
        let more = pods.len().saturating_sub(NAMES_SHOWN);
        lines.push(clip(
            &format!(
                "Pods with {} have {} ({}{}); the Service selects {}",
                if shared.is_empty() {
                    "some of the selector's labels".to_string()
                } else {
                    fmt_selector(&shared)
                },
                have.join(", "),
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                },
                want.join(", ")
            ),
            MAX_LINE,
        ));
        let owner = pods.first().map(|p| owners.manifest_of(p));
        if let Some(o) = &owner
            && !near.contains(o)
        {
            near.push(o.clone());
        }
        if suggestion.is_none() {
            let owner_text = owner
                .as_ref()
                .map(|o| format!("{o}"))
                .unwrap_or_else(|| "the workload".into());
            let tpl = owner
                .as_ref()
                .map(labels_path)
                .unwrap_or("spec.template.metadata.labels");
            let svc_fix: Vec<String> = miss
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("change spec.selector.{k} to {v}"),
                    None => format!("remove {k} from spec.selector"),
                })
                .collect();
            let wl_fix: Vec<String> = miss
                .iter()
                .map(|(k, _)| format!("{k}: {}", sel.get(k).map(String::as_str).unwrap_or("")))
                .collect();
            suggestion = Some(clip(
                &format!(
                    "In the {svc_label} manifest, {} so it selects the pods of {owner_text}; or, if those pods are the wrong ones, set {} in {tpl} of the workload that should serve it",
                    svc_fix.join(" and "),
                    wl_fix.join(", ")
                ),
                MAX_LINE,
            ));
        }
    }
    (lines, suggestion, near)
}
