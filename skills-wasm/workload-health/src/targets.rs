//! Resolving a target to the pods it is about, and what looks wrong at the target's own level.

use crate::kinds::TargetKind;
use crate::owners::Owners;
use crate::service;
use crate::util::{MAX_LINE, clip, one_line};
use skillbox_guest::k8s::{Condition, LabelSelector, WorkloadSpec};
use skillbox_guest::{Object, tools};

/// A target with its pods.
#[derive(Debug)]
pub struct Resolved {
    /// The target object.
    pub target: Object,
    /// Its kind.
    pub kind: TargetKind,
    /// Its pods, sorted by name.
    pub pods: Vec<Object>,
    /// Workload-level signs of trouble (fewer ready replicas than desired, failed conditions).
    pub problems: Vec<String>,
    /// Failed pods are expected (a completed Job's earlier attempts).
    pub failed_pods_expected: bool,
}

/// Finds the pods of `target` (already read) and its workload-level problems.
pub fn resolve(kind: TargetKind, target: Object, owners: &mut Owners) -> Result<Resolved, String> {
    let mut pods = match kind {
        TargetKind::Pod => vec![target.clone()],
        TargetKind::Service => service_pods(&target)?,
        TargetKind::Deployment => deployment_pods(&target, owners)?,
        _ => owned_pods(&target)?,
    };
    pods.sort_by(|a, b| a.name().cmp(b.name()));
    pods.dedup_by(|a, b| a.name() == b.name());
    let problems = workload_problems(kind, &target);
    let failed_pods_expected = kind == TargetKind::Job && job_condition(&target, "Complete");
    Ok(Resolved {
        target,
        kind,
        pods,
        problems,
        failed_pods_expected,
    })
}

fn list_pods(target: &Object, selector: &str) -> Result<Vec<Object>, String> {
    tools::list_objects("Pod", target.namespace(), selector).map_err(|e| {
        format!(
            "cannot list the pods of {} {} (selector {selector:?}): {e}",
            target.kind(),
            target.display_name()
        )
    })
}

fn service_pods(svc: &Object) -> Result<Vec<Object>, String> {
    let sel = service::selector_of(svc);
    if sel.is_empty() {
        return Ok(Vec::new());
    }
    list_pods(svc, &service::selector_string(&sel))
}

fn spec_of(target: &Object) -> WorkloadSpec {
    target.part("spec").unwrap_or_default()
}

/// The selector string, or `None` when the selector cannot select anything we can trust.
fn selector_text(sel: &LabelSelector, uid: Option<&str>) -> Option<String> {
    let s = sel.to_selector()?;
    if s.is_everything() && uid.is_none() {
        // An empty selector would select the whole namespace; without a uid to filter on, no pods.
        return None;
    }
    Some(s.to_string())
}

fn owned_pods(target: &Object) -> Result<Vec<Object>, String> {
    let spec = spec_of(target);
    let uid = target.uid();
    let Some(sel) = selector_text(&spec.selector, uid) else {
        return Ok(Vec::new());
    };
    let pods = list_pods(target, &sel)?;
    Ok(match uid {
        Some(uid) => pods.into_iter().filter(|p| p.is_owned_by(uid)).collect(),
        None => pods,
    })
}

fn deployment_pods(dep: &Object, owners: &mut Owners) -> Result<Vec<Object>, String> {
    let spec = spec_of(dep);
    let uid = dep.uid();
    let Some(sel) = selector_text(&spec.selector, uid) else {
        return Ok(Vec::new());
    };
    let pods = list_pods(dep, &sel)?;
    let Some(uid) = uid else {
        return Ok(pods);
    };
    let rs_uids: Vec<String> = match tools::list_objects("ReplicaSet.apps", dep.namespace(), &sel) {
        Ok(rss) => rss
            .iter()
            .filter(|rs| rs.is_owned_by(uid))
            .inspect(|rs| owners.remember(rs))
            .filter_map(|rs| rs.uid().map(str::to_string))
            .collect(),
        Err(_) => Vec::new(),
    };
    if rs_uids.is_empty() {
        // ReplicaSets unreadable (or none listed): the selector match is all we have.
        return Ok(pods);
    }
    Ok(pods
        .into_iter()
        .filter(|p| rs_uids.iter().any(|u| p.is_owned_by(u)))
        .collect())
}

fn conditions(target: &Object) -> Vec<Condition> {
    #[derive(serde::Deserialize)]
    struct Status {
        #[serde(default)]
        conditions: Vec<Condition>,
    }
    target
        .part::<Status>("status")
        .map(|s| s.conditions)
        .unwrap_or_default()
}

fn job_condition(target: &Object, type_: &str) -> bool {
    conditions(target)
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

fn condition_line(label: &str, c: &Condition) -> String {
    clip(
        &format!(
            "{label} status.conditions[{}] = {}{}{}",
            c.type_,
            c.status,
            c.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            c.message
                .as_deref()
                .map(|m| format!(": {}", one_line(m)))
                .unwrap_or_default()
        ),
        MAX_LINE,
    )
}

/// What looks wrong at the workload's own level.
pub fn workload_problems(kind: TargetKind, target: &Object) -> Vec<String> {
    let label = format!("{} {}", kind.name(), target.display_name());
    let mut out = Vec::new();
    if kind.has_replicas() {
        let desired = target.i64_at("spec.replicas").unwrap_or(1);
        let ready = target.i64_at("status.readyReplicas").unwrap_or(0);
        if ready < desired {
            out.push(format!(
                "{label} status.readyReplicas = {ready}, spec.replicas = {desired}"
            ));
        }
    }
    match kind {
        TargetKind::Deployment => {
            for c in conditions(target) {
                let bad = match c.type_.as_str() {
                    "Available" | "Progressing" => c.status == "False",
                    "ReplicaFailure" => c.status == "True",
                    _ => false,
                };
                if bad {
                    out.push(condition_line(&label, &c));
                }
            }
        }
        TargetKind::ReplicaSet | TargetKind::StatefulSet => {
            for c in conditions(target) {
                if c.type_ == "ReplicaFailure" && c.status == "True" {
                    out.push(condition_line(&label, &c));
                }
            }
        }
        TargetKind::DaemonSet => {
            let desired = target.i64_at("status.desiredNumberScheduled").unwrap_or(0);
            let ready = target.i64_at("status.numberReady").unwrap_or(0);
            if ready < desired {
                out.push(format!(
                    "{label} status.numberReady = {ready}, status.desiredNumberScheduled = {desired}"
                ));
            }
        }
        TargetKind::Job => {
            for c in conditions(target) {
                if c.type_ == "Failed" && c.status == "True" {
                    out.push(condition_line(&label, &c));
                }
            }
        }
        TargetKind::Pod | TargetKind::Service => {}
    }
    out
}
