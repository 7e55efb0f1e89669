//! `workload-health`: why a Pod, workload or Service is not serving.
//!
//! Targets: Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, Service. The skill reads the
//! target, resolves it to its pods (by selector and ownership), applies the per-pod rules of the
//! `workload` section of findings.md (crash loops, OOM kills, image pulls, missing config,
//! scheduling, readiness probes) and, for a Service, checks that its selector reaches a ready pod.
//!
//! Verdict: `resolved` when an error or warning finding explains the target; `healthy` when there
//! is none and nothing looks wrong; `inconclusive` (with an info `workload.unexplained`) when the
//! target visibly fails (a pod not Ready and not Succeeded, a Failed/Unknown pod, fewer ready
//! replicas than desired, a failed workload condition) and no rule explains it.
//!
//! `workload.readiness-failing` is an `error` when no pod of the target is Ready (the readiness
//! failures leave it with nothing to serve), a `warning` when other pods still serve.

mod detect;
mod events;
mod kinds;
mod owners;
mod pod;
mod service;
mod targets;
mod util;

#[cfg(test)]
mod tests;

use kinds::TargetKind;
use owners::Owners;
use pod::{Budget, Context, PodView};
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Severity, Skill, tools};
use std::collections::BTreeMap;
use targets::Resolved;
use util::{MAX_LINE, MAX_SUMMARY, clip};

/// The skill's own extra code: something looks wrong and no rule explains it.
pub const UNEXPLAINED: &str = "workload.unexplained";
/// At most this many findings per code; the rest are summarised on the last one kept.
const MAX_PER_CODE: usize = 10;
/// At most this many findings in all (the report's bound).
const MAX_FINDINGS: usize = 50;

/// The workload-health skill.
#[derive(Debug)]
pub struct WorkloadHealth;

impl Skill for WorkloadHealth {
    fn describe() -> Manifest {
        Manifest::new("workload-health", env!("CARGO_PKG_VERSION"), "workload.")
            .target_kinds(kinds::ALL.map(TargetKind::name))
            .tools(["get-object", "list-objects", "list-events", "read-logs"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let kind = TargetKind::classify(&target.kind, &target.api_version).ok_or_else(|| {
            format!(
                "workload-health does not investigate kind {:?} (apiVersion {:?}); it handles Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job and Service",
                target.kind, target.api_version
            )
        })?;
        let ns = target.namespace.as_deref();
        let obj = tools::get_object(&kind.query(), ns, &target.name).map_err(|e| {
            format!(
                "cannot read {} {}: {e}",
                kind.name(),
                display(ns, &target.name)
            )
        })?;
        let mut owners = Owners::new();
        let resolved = targets::resolve(kind, obj, &mut owners)?;
        Ok(evaluate(&resolved, &mut owners))
    }

    fn detect(object: &Object) -> bool {
        detect::detect(object)
    }
}

skillbox_guest::export_skill!(WorkloadHealth);

fn display(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// Applies the rules to a resolved target and decides the verdict.
fn evaluate(r: &Resolved, owners: &mut Owners) -> Outcome {
    let target_ref = target_ref(r);
    let views: Vec<PodView> = r.pods.iter().map(PodView::new).collect();
    let any_serving = views.iter().any(PodView::serving);
    let mut serving_images: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for v in views.iter().filter(|v| v.serving()) {
        for c in &v.spec.containers {
            if !c.image.is_empty() {
                serving_images
                    .entry(c.name.clone())
                    .or_default()
                    .insert(c.image.clone());
            }
        }
    }
    let ctx = Context {
        target: (r.kind != TargetKind::Pod).then(|| target_ref.clone()),
        serving_images,
        failed_pods_expected: r.failed_pods_expected,
    };
    let mut budget = Budget::default();
    let mut findings = Vec::new();
    let mut unexplained: Vec<(String, Option<ObjectRef>)> = Vec::new();
    for p in &r.pods {
        let a = pod::analyze(p, &ctx, &mut budget, owners);
        if let Some(problem) = &a.problem
            && !a.explained()
        {
            unexplained.push((problem.clone(), Some(owners::pod_ref(p))));
        }
        findings.extend(a.findings);
    }
    for f in findings.iter_mut().filter(|f| f.code == pod::READINESS) {
        f.severity = if any_serving {
            Severity::Warning
        } else {
            Severity::Error
        };
    }
    if r.kind == TargetKind::Service
        && let Some(f) = service::no_endpoints(&r.target, &r.pods, owners)
    {
        findings.push(f);
    }
    let explained = findings.iter().any(|f| f.severity != Severity::Info);
    if !explained {
        for p in &r.problems {
            unexplained.push((p.clone(), None));
        }
    }
    let mut findings = cap(findings);
    if unexplained.is_empty() {
        return Outcome::from_findings(findings);
    }
    let mut f = Finding::info(
        UNEXPLAINED,
        clip(
            &format!(
                "{target_ref} looks unhealthy and no workload rule explains {}",
                if explained { "all of it" } else { "why" }
            ),
            MAX_SUMMARY,
        ),
    )
    .resource(target_ref.clone());
    for (line, pod) in unexplained.iter().take(MAX_PER_CODE) {
        f = f.evidence(clip(line, MAX_LINE));
        if let Some(p) = pod {
            f = f.resource(p.clone());
        }
    }
    if unexplained.len() > MAX_PER_CODE {
        f = f.evidence(format!(
            "… and {} more unhealthy pods",
            unexplained.len() - MAX_PER_CODE
        ));
    }
    if findings.len() >= MAX_FINDINGS {
        findings.truncate(MAX_FINDINGS - 1);
    }
    findings.push(f);
    if explained {
        Outcome::from_findings(findings)
    } else {
        Outcome::inconclusive(findings)
    }
}

fn target_ref(r: &Resolved) -> ObjectRef {
    let mut t = r.target.object_ref();
    if t.kind.is_empty() {
        t.kind = r.kind.name().to_string();
    }
    if t.api_version.is_empty() {
        t.api_version = r.kind.api_version().to_string();
    }
    t
}

/// Sorts findings (severity, code, first resource, summary) and keeps at most
/// [`MAX_PER_CODE`] per code and [`MAX_FINDINGS`] in all; what is dropped is named on the last
/// finding kept of its code.
fn cap(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        (a.severity, &a.code, a.resources.first(), &a.summary).cmp(&(
            b.severity,
            &b.code,
            b.resources.first(),
            &b.summary,
        ))
    });
    let mut out: Vec<Finding> = Vec::new();
    let mut dropped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut per_code: BTreeMap<String, usize> = BTreeMap::new();
    for f in findings {
        let n = per_code.entry(f.code.clone()).or_default();
        if *n >= MAX_PER_CODE || out.len() >= MAX_FINDINGS {
            let who = f
                .resources
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            dropped.entry(f.code.clone()).or_default().push(who);
            continue;
        }
        *n += 1;
        out.push(f);
    }
    for (code, who) in dropped {
        if let Some(last) = out.iter_mut().rev().find(|f| f.code == code) {
            let mut names: Vec<String> = who.clone();
            names.dedup();
            let shown: Vec<&str> = names.iter().take(20).map(String::as_str).collect();
            last.evidence.push(clip(
                &format!(
                    "… and {} more {code} findings not listed separately: {}{}",
                    who.len(),
                    shown.join(", "),
                    if names.len() > 20 { ", …" } else { "" }
                ),
                MAX_LINE,
            ));
        }
    }
    out
}
