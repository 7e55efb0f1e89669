//! `mesh.sidecar-not-injected`: a workload that mesh config targets runs pods without an
//! `istio-proxy` sidecar, so that config is bypassed for it (routing, faults, mTLS).
//!
//! A pod has a sidecar when it has a container `istio-proxy`, or an initContainer `istio-proxy`
//! with `restartPolicy: Always` (native sidecar, Kubernetes ≥ 1.29 with `ENABLE_NATIVE_SIDECARS`).
//! Only running pods are judged. The cause is read per pod, in this order: the pod opts out
//! (`sidecar.istio.io/inject: "false"`, annotation or label); its namespace disables injection
//! (`istio-injection=disabled`) or carries neither `istio-injection=enabled` nor `istio.io/rev`;
//! otherwise the namespace is enabled and the pod was created before the label was added (or
//! while the injector was down) and has not been re-created since.
//!
//! Severity: `error` when no running pod of the workload has a sidecar (the workload is outside
//! the mesh), `warning` when some do (a partial rollout: some requests bypass the config).

use crate::Ctx;
use crate::model::{INJECT_KEY, Injection, PodView};
use crate::util::{MAX_LINE, MAX_SUMMARY, clip, name_list};
use skillbox_guest::{Finding, ObjectRef, Severity};
use std::collections::BTreeSet;

/// Code: pods of a workload that mesh config targets run without a sidecar.
pub const SIDECAR_NOT_INJECTED: &str = "mesh.sidecar-not-injected";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Cause {
    OptOut,
    NamespaceDisabled,
    NamespaceUnlabelled,
    Predates,
    Unknown,
}

/// Checks the running pods of one workload (`what`, e.g. `Service bookinfo/reviews`, with
/// `workload_ref` naming it) and reports the ones without a sidecar. `why` says which mesh config
/// targets the workload (e.g. `VirtualService bookinfo/reviews routes to it`).
pub fn check(
    ctx: &mut Ctx,
    what: &str,
    workload_ref: Option<&ObjectRef>,
    why: &str,
    pods: &[PodView],
) -> Option<Finding> {
    let running: Vec<&PodView> = pods.iter().filter(|p| p.running).collect();
    let bare: Vec<&PodView> = running.iter().copied().filter(|p| !p.sidecar).collect();
    if bare.is_empty() {
        return None;
    }
    let all = bare.len() == running.len();
    let ns = bare[0].ns.clone();
    let injection = ctx.cl.namespace(&ns);
    let mut causes: BTreeSet<Cause> = BTreeSet::new();
    let per_pod: Vec<(Cause, &PodView)> = bare
        .iter()
        .map(|p| {
            let c = if p.opts_out {
                Cause::OptOut
            } else {
                match &injection {
                    Some((_, Injection::Disabled)) => Cause::NamespaceDisabled,
                    Some((_, Injection::Unlabelled)) if !p.opts_in => Cause::NamespaceUnlabelled,
                    Some(_) => Cause::Predates,
                    None => Cause::Unknown,
                }
            };
            causes.insert(c);
            (c, *p)
        })
        .collect();
    let severity = if all {
        Severity::Error
    } else {
        Severity::Warning
    };
    let names: Vec<&str> = bare.iter().map(|p| p.name.as_str()).collect();
    let mut f = Finding::new(
        SIDECAR_NOT_INJECTED,
        severity,
        clip(
            &format!(
                "{} of {} running pods of {what} run without an istio-proxy sidecar, so the mesh config that targets it is bypassed",
                bare.len(),
                running.len()
            ),
            MAX_SUMMARY,
        ),
    )
    .resource(ctx.target.clone());
    if let Some(r) = workload_ref {
        f = f.resource(r.clone());
    }
    f = f.evidence(clip(why, MAX_LINE)).evidence(clip(
        &format!(
            "pods without an istio-proxy container or native-sidecar initContainer: {}",
            name_list(&names)
        ),
        MAX_LINE,
    ));
    let with: Vec<&str> = running
        .iter()
        .filter(|p| p.sidecar)
        .map(|p| p.name.as_str())
        .collect();
    if !with.is_empty() {
        f = f.evidence(clip(
            &format!("pods with a sidecar: {}", name_list(&with)),
            MAX_LINE,
        ));
    }
    match &injection {
        Some((r, inj)) => {
            f = f.resource(r.clone()).evidence(match inj {
                Injection::Enabled(l) => format!("Namespace {ns} has label {l}"),
                Injection::Disabled => format!("Namespace {ns} has label istio-injection=disabled"),
                Injection::Unlabelled => format!(
                    "Namespace {ns} has neither istio-injection=enabled nor an istio.io/rev label"
                ),
            });
        }
        None => f = f.evidence(format!("Namespace {ns} could not be read")),
    }
    let mut workloads: BTreeSet<String> = BTreeSet::new();
    for (c, p) in &per_pod {
        workloads.insert(p.workload());
        match c {
            Cause::OptOut => {
                f = f.evidence(format!(
                    "pod {} has {INJECT_KEY}: \"false\"",
                    p.display()
                ))
            }
            Cause::Predates => {
                f = f.evidence(format!(
                    "pod {} (created {}) has no opt-out, so it was created before injection was enabled for {ns} (or while the injector was unavailable)",
                    p.display(),
                    if p.created.is_empty() { "at an unknown time" } else { &p.created }
                ))
            }
            _ => {}
        }
    }
    for p in bare.iter().take(8) {
        f = f.resource(p.r.clone());
    }
    let wl: Vec<&str> = workloads.iter().map(String::as_str).collect();
    let wl = name_list(&wl);
    for c in causes {
        let line = match c {
            Cause::OptOut => format!(
                "Remove {INJECT_KEY}: \"false\" from the pod template of {wl} in Git (or set it to \"true\") so new pods get a sidecar"
            ),
            Cause::NamespaceDisabled | Cause::NamespaceUnlabelled => format!(
                "Add the label istio-injection: enabled (or istio.io/rev: <revision> for a revisioned control plane) to the Namespace {ns} manifest in Git; running pods only get a sidecar when re-created, so also change a pod-template annotation of {wl} to roll them"
            ),
            Cause::Predates => format!(
                "Roll {wl} so its pods are re-created with the sidecar: change a pod-template annotation (e.g. a restartedAt timestamp) in its manifest in Git"
            ),
            Cause::Unknown => format!(
                "Make sure Namespace {ns} enables injection (istio-injection: enabled or istio.io/rev) in Git and roll {wl}"
            ),
        };
        f = f.suggestion(clip(&line, MAX_LINE));
    }
    Some(f)
}
