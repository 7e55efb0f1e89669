//! `mesh.fault-injection-active`: an HTTP rule in effect for the target carries `fault.abort` or
//! `fault.delay` with a non-zero share of requests. A warning (it may be a deliberate test), yet
//! it explains what users see, so it resolves the investigation: even a header-matched fault
//! (`end-user: jason`) fails real requests for whoever matches.
//!
//! The share is `percentage.value`, or the legacy integer `percent`; with neither Istio faults
//! every request. An explicit 0% is inactive and not reported.

use crate::Ctx;
use crate::model::{Fault, VirtualService};
use crate::util::{MAX_LINE, MAX_SUMMARY, clip};
use skillbox_guest::Finding;

/// Code: a route in effect for the target injects faults.
pub const FAULT_INJECTION_ACTIVE: &str = "mesh.fault-injection-active";

/// One finding per faulted rule of `vs`; `only_host` keeps the rules that route to that resolved
/// host (for a DestinationRule target).
pub fn check(ctx: &Ctx, vs: &VirtualService, only_host: Option<&str>) -> Vec<Finding> {
    vs.faults
        .iter()
        .filter(|f| {
            only_host.is_none_or(|h| f.hosts.iter().any(|x| crate::hosts::fqdn(x, &vs.ns) == h))
        })
        .map(|fault| finding(ctx, vs, fault))
        .collect()
}

fn finding(ctx: &Ctx, vs: &VirtualService, fault: &Fault) -> Finding {
    let kinds: Vec<&str> = [fault.abort.as_deref(), fault.delay.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let who = match (&fault.matches, fault.header_matched) {
        (None, _) => "every request".to_string(),
        (Some(_), true) => "requests whose headers match".to_string(),
        (Some(_), false) => "matching requests".to_string(),
    };
    let name = fault
        .rule_name
        .as_deref()
        .map(|n| format!(" (rule {n})"))
        .unwrap_or_default();
    let mut f = Finding::warning(
        FAULT_INJECTION_ACTIVE,
        clip(
            &format!(
                "VirtualService {}/{} injects faults on {who}: {}",
                vs.ns,
                vs.r.name,
                kinds.join(" and ")
            ),
            MAX_SUMMARY,
        ),
    )
    .resource(ctx.target.clone())
    .resource(vs.r.clone());
    if let Some(a) = &fault.abort {
        f = f.evidence(format!(
            "VirtualService {}/{} spec.http[{}].fault.abort{name}: {a}",
            vs.ns, vs.r.name, fault.rule
        ));
    }
    if let Some(d) = &fault.delay {
        f = f.evidence(format!(
            "VirtualService {}/{} spec.http[{}].fault.delay{name}: {d}",
            vs.ns, vs.r.name, fault.rule
        ));
    }
    f = f.evidence(clip(
        &match &fault.matches {
            Some(m) => format!(
                "spec.http[{}].match = {m}: only these requests are faulted",
                fault.rule
            ),
            None => format!(
                "spec.http[{}] has no match: the fault applies to all traffic for {}",
                fault.rule,
                vs.hosts.join(", ")
            ),
        },
        MAX_LINE,
    ));
    f.suggestion(format!(
        "If the fault-injection test is over, remove spec.http[{}].fault from VirtualService {}/{} in Git (or restore the manifest without it)",
        fault.rule, vs.ns, vs.r.name
    ))
    .suggestion(format!(
        "If the test must stay, narrow it: a match on a test-only header in spec.http[{}].match and a smaller fault percentage",
        fault.rule
    ))
}
