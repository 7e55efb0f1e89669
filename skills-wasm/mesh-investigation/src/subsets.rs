//! `mesh.subset-no-pods`: a subset that a route sends traffic to, whose labels (combined with the
//! Service selector) select no running pod. Envoy then has an empty cluster and answers 503 `UH`
//! for that share of traffic.
//!
//! Only routed subsets are judged: Bookinfo's `destination-rule-all` defines subsets with no pods
//! on purpose (ratings `v2-mysql`, details `v2`), and `istioctl analyze` noise about them is not
//! a failure. Mirror destinations and weight-0 entries carry no user traffic and are skipped.

use crate::Ctx;
use crate::model::{Dest, DestinationRule, PodView, ServiceView, Subset};
use crate::util::{MAX_LINE, MAX_SUMMARY, clip, fmt_map, labels_match, name_list};
use skillbox_guest::{Finding, ObjectRef};
use std::collections::BTreeMap;

/// Code: a routed subset selects no running pod.
pub const SUBSET_NO_PODS: &str = "mesh.subset-no-pods";

/// The subset `dest` names, from the DestinationRules that apply.
pub fn find<'a>(
    rules: &'a [DestinationRule],
    name: &str,
) -> Option<(&'a DestinationRule, &'a Subset)> {
    rules
        .iter()
        .find_map(|d| d.subsets.iter().find(|s| s.name == name).map(|s| (d, s)))
}

/// `mesh.subset-no-pods` for `dest` (routed to subset `subset` of DestinationRule `dr`) when none
/// of `selected` (the pods matching the Service selector and the subset labels) is running.
#[allow(clippy::too_many_arguments)] // NB: each argument is a distinct piece of evidence.
pub fn check(
    ctx: &mut Ctx,
    vs: &ObjectRef,
    dest: &Dest,
    route_len: usize,
    svc: &ServiceView,
    selected: &[PodView],
    dr: &DestinationRule,
    subset: &Subset,
) -> Option<Finding> {
    if !dest.carries_traffic() {
        return None;
    }
    if selected.iter().any(|p| p.running) {
        return None;
    }
    let vs_ns = vs.namespace.as_deref().unwrap_or_default();
    let share = match (dest.weight, route_len) {
        (Some(w), _) => format!("{w}% of its traffic"),
        (None, 1) => "all of its traffic".to_string(),
        (None, _) => "traffic".to_string(),
    };
    let mut combined: BTreeMap<String, String> = svc.selector.clone();
    combined.extend(subset.labels.clone());
    let mut f = Finding::error(
        SUBSET_NO_PODS,
        clip(
            &format!(
                "VirtualService {vs_ns}/{} sends {share} for {} to subset {}, which selects no running pod",
                vs.name, dest.host, subset.name
            ),
            MAX_SUMMARY,
        ),
    )
    .resource(ctx.target.clone())
    .resource(vs.clone())
    .resource(dr.r.clone())
    .resource(svc.r.clone())
    .evidence(format!(
        "VirtualService {vs_ns}/{} {} = {}{}",
        vs.name,
        dest.path,
        dest.describe(),
        dest.weight.map(|w| format!(", weight {w}")).unwrap_or_default()
    ))
    .evidence(format!(
        "DestinationRule {}/{} subset {} labels = {}",
        dr.ns,
        dr.r.name,
        subset.name,
        fmt_map(&subset.labels)
    ))
    .evidence(format!(
        "Service {}/{} spec.selector = {}; together they select pods with {}",
        svc.ns,
        svc.name,
        fmt_map(&svc.selector),
        fmt_map(&combined)
    ));
    if selected.is_empty() {
        f = f.evidence(format!(
            "no pod in namespace {} has labels {}",
            svc.ns,
            fmt_map(&combined)
        ));
    } else {
        let names: Vec<String> = selected
            .iter()
            .map(|p| {
                format!(
                    "{} ({})",
                    p.name,
                    if p.phase.is_empty() {
                        "no phase"
                    } else {
                        &p.phase
                    }
                )
            })
            .collect();
        f = f.evidence(clip(
            &format!(
                "pods with those labels, none Running: {}",
                name_list(&names)
            ),
            MAX_LINE,
        ));
        for p in selected.iter().take(5) {
            f = f.resource(p.r.clone());
        }
    }
    // Failure path only: the Service's other pods show what does run.
    let pods = ctx.cl.known_service_pods(svc);
    let serving: Vec<String> = pods
        .iter()
        .filter(|p| p.running)
        .map(|p| {
            let shown: BTreeMap<String, String> = p
                .labels
                .iter()
                .filter(|(k, _)| subset.labels.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            format!("{} {}", p.name, fmt_map(&shown))
        })
        .collect();
    f = f.evidence(clip(
        &if serving.is_empty() {
            format!("Service {}/{} has no running pod at all", svc.ns, svc.name)
        } else {
            format!(
                "running pods of Service {}/{} (among those read): {}",
                svc.ns,
                svc.name,
                name_list(&serving)
            )
        },
        MAX_LINE,
    ));
    let deployments = ctx.cl.deployments(&svc.ns, &combined);
    let scaled_down: Vec<_> = deployments.iter().filter(|d| d.replicas == 0).collect();
    for d in &deployments {
        f = f.resource(d.r.clone()).evidence(format!(
            "Deployment {}/{} (pod template labels {}) spec.replicas = {}",
            svc.ns,
            d.name,
            fmt_map(&d.template_labels),
            d.replicas
        ));
    }
    let other = pods
        .iter()
        .filter(|p| p.running)
        .find_map(|p| {
            dr.subsets
                .iter()
                .find(|s| s.name != subset.name && labels_match(&s.labels, &p.labels))
        })
        .map(|s| format!(" (e.g. {}, which has running pods)", s.name))
        .unwrap_or_default();
    if let Some(d) = scaled_down.first() {
        f = f.suggestion(format!(
            "Set spec.replicas of Deployment {}/{} above 0 in Git, or move the weight of subset {} in VirtualService {vs_ns}/{} ({}) to another subset{other}",
            svc.ns, d.name, subset.name, vs.name, dest.path
        ));
    } else if deployments.is_empty() {
        f = f.suggestion(clip(
            &format!(
                "Deploy a workload whose pod template carries {} (no Deployment in {} does), or fix the labels of subset {} in DestinationRule {}/{}, or route {} of VirtualService {vs_ns}/{} to another subset{other}",
                fmt_map(&combined), svc.ns, subset.name, dr.ns, dr.r.name, dest.path, vs.name
            ),
            MAX_LINE,
        ));
    } else {
        f = f.suggestion(clip(
            &format!(
                "The Deployment exists but has no running pod: fix what keeps its pods from running (see the workload-health skill), or route {} of VirtualService {vs_ns}/{} to another subset{other}",
                dest.path, vs.name
            ),
            MAX_LINE,
        ));
    }
    Some(f)
}
