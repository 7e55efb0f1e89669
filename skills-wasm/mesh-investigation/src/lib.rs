//! `mesh-investigation`: why Istio traffic management does not do what a VirtualService,
//! DestinationRule, PeerAuthentication or Gateway says.
//!
//! The skill reads the target, then only what its rules need: the DestinationRules of the
//! namespaces on Istio's lookup path (caller, Service, root: one list each), the Services its
//! hosts name (one `get` each), the pods of those Services (one list by selector in the
//! Service's namespace), PeerAuthentications of the servers' and the root namespace, and — only
//! on the failure paths — ServiceEntries,
//! Namespaces, Deployments, NetworkPolicies and sidecar-less pods. Each object is parsed once
//! (see [`model`]).
//!
//! Per target kind:
//! - VirtualService: its faults, each destination's host, subset and the subset's pods, and the
//!   sidecars and mTLS mode of the workloads it routes to;
//! - DestinationRule: its host, then every VirtualService route to that host for which this rule
//!   is the one Istio applies (subsets, pods, faults), and the host's workload;
//! - Gateway: every VirtualService bound to it, checked as above;
//! - PeerAuthentication: the pods it covers (sidecars) and, for STRICT, the plaintext clients.
//!
//! Verdict: `resolved` when an error or warning explains the target (a fault-injection warning
//! is enough), `healthy` otherwise. Findings about reads that failed are `info`
//! (`mesh.evidence-incomplete`) and never change the verdict.

mod cluster;
mod detect;
mod faults;
mod hosts;
mod model;
mod mtls;
mod routes;
mod sidecars;
mod subsets;
mod util;

#[cfg(test)]
mod tests;

use cluster::Cluster;
use model::{DestinationRule, PeerAuthentication, PodView, ServiceView, VirtualService};
use routes::HostTarget;
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, tools};
use util::{MAX_LINE, MAX_LINES, MAX_RESOURCES, clip, fmt_selector};

pub use faults::FAULT_INJECTION_ACTIVE;
pub use mtls::MTLS_STRICT_PLAINTEXT;
pub use routes::{HOST_NOT_FOUND, SUBSET_NOT_FOUND};
pub use sidecars::SIDECAR_NOT_INJECTED;
pub use subsets::SUBSET_NO_PODS;

/// The skill's own extra code: a read failed, so some rules could not be decided.
pub const EVIDENCE_INCOMPLETE: &str = "mesh.evidence-incomplete";
/// The skill's own extra code: a Gateway no VirtualService binds to (it serves nothing).
pub const GATEWAY_UNBOUND: &str = "mesh.gateway-unbound";
/// At most this many findings (the report's bound).
const MAX_FINDINGS: usize = 50;

/// The mesh-investigation skill.
#[derive(Debug)]
pub struct MeshInvestigation;

/// What every rule shares: the reads so far and the target (every finding names it first).
#[derive(Debug)]
pub struct Ctx {
    /// Cached reads.
    pub cl: Cluster,
    /// The investigated object.
    pub target: ObjectRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    VirtualService,
    DestinationRule,
    PeerAuthentication,
    Gateway,
}

impl Kind {
    /// Accepts a kind, its plural or `kind.group`, case-insensitive.
    fn classify(kind: &str) -> Option<Self> {
        let k = kind.to_ascii_lowercase();
        let (name, group) = k.split_once('.').unwrap_or((&k, ""));
        let k = match name {
            "virtualservice" | "virtualservices" => Self::VirtualService,
            "destinationrule" | "destinationrules" => Self::DestinationRule,
            "peerauthentication" | "peerauthentications" => Self::PeerAuthentication,
            "gateway" | "gateways" => Self::Gateway,
            _ => return None,
        };
        let want = if k == Self::PeerAuthentication {
            "security.istio.io"
        } else {
            "networking.istio.io"
        };
        (group.is_empty() || group == want).then_some(k)
    }

    fn query(self) -> &'static str {
        match self {
            Self::VirtualService => cluster::kinds::VS,
            Self::DestinationRule => cluster::kinds::DR,
            Self::PeerAuthentication => cluster::kinds::PA,
            Self::Gateway => cluster::kinds::GW,
        }
    }
}

impl Skill for MeshInvestigation {
    fn describe() -> Manifest {
        Manifest::new("mesh-investigation", env!("CARGO_PKG_VERSION"), "mesh.")
            .target_kinds([
                "VirtualService",
                "DestinationRule",
                "PeerAuthentication",
                "Gateway",
            ])
            .tools(["get-object", "list-objects"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let kind = Kind::classify(&target.kind).ok_or_else(|| {
            format!(
                "mesh-investigation does not investigate kind {:?}; it handles VirtualService, DestinationRule, PeerAuthentication and Gateway",
                target.kind
            )
        })?;
        let ns = target.namespace.as_deref();
        let obj = tools::get_object(kind.query(), ns, &target.name).map_err(|e| {
            format!(
                "cannot read {} {}/{}: {e}",
                target.kind,
                ns.unwrap_or(""),
                target.name
            )
        })?;
        let mut r = obj.object_ref();
        if r.kind.is_empty() {
            r.kind = target.kind.clone();
        }
        let mut ctx = Ctx {
            cl: Cluster::default(),
            target: r,
        };
        let mut out = Vec::new();
        match kind {
            Kind::VirtualService => {
                let vs = VirtualService::parse(&obj);
                check_vs(&mut ctx, &vs, &mut out);
            }
            Kind::DestinationRule => check_dr(&mut ctx, &DestinationRule::parse(&obj), &mut out),
            Kind::PeerAuthentication => {
                check_pa(&mut ctx, &PeerAuthentication::parse(&obj), &mut out)
            }
            Kind::Gateway => check_gateway(&mut ctx, &obj, &mut out),
        }
        if !ctx.cl.gaps.is_empty() {
            let mut f = Finding::info(
                EVIDENCE_INCOMPLETE,
                "Some evidence could not be read, so rules that need it were not decided",
            )
            .resource(ctx.target.clone());
            for g in &ctx.cl.gaps {
                f = f.evidence(clip(g, MAX_LINE));
            }
            out.push(f);
        }
        Ok(Outcome::from_findings(finish(out)))
    }

    fn detect(object: &Object) -> bool {
        detect::detect(object)
    }
}

skillbox_guest::export_skill!(MeshInvestigation);

/// A Service a route reaches, the pods the route targets (the subset's, or all the Service's
/// when no subset is named), and why the mesh targets them.
#[derive(Debug)]
struct Reached {
    svc: ServiceView,
    pods: Vec<PodView>,
    why: String,
}

/// Checks one destination of `vs`: host, subset and subset pods. `only_dr`, for a
/// DestinationRule target, skips destinations to which that rule does not apply. Returns the
/// Service reached and the pods the destination targets, if any.
fn check_dest(
    ctx: &mut Ctx,
    vs: &VirtualService,
    i: usize,
    only_dr: Option<&ObjectRef>,
    out: &mut Vec<Finding>,
) -> Option<(ServiceView, Vec<PodView>)> {
    let d = &vs.dests[i];
    let host_path = format!("{}.host", d.path);
    if d.host.trim().is_empty() {
        out.push(routes::host_not_found(ctx, &vs.r, &host_path, ""));
        return None;
    }
    let svc = match routes::resolve(ctx, &d.host, &vs.ns) {
        HostTarget::Wildcard | HostTarget::Unknown => return None,
        HostTarget::NotFound => {
            if only_dr.is_none() {
                out.push(routes::host_not_found(ctx, &vs.r, &host_path, &d.host));
            }
            return None;
        }
        HostTarget::Entry => None,
        HostTarget::Service(s) => Some(s),
    };
    let fqdn = hosts::fqdn(&d.host, &vs.ns);
    let Some(subset) = d.subset.clone() else {
        let s = svc?;
        let pods = ctx.cl.service_pods(&s)?;
        return Some((s, pods));
    };
    let svc_ns = svc.as_ref().map(|s| s.ns.as_str());
    let drs = ctx.cl.dest_rules_in(&routes::lookup_path(&vs.ns, svc_ns))?;
    let rules = routes::rules_for(&drs, &fqdn, &vs.ns, svc_ns);
    if let Some(dr) = only_dr
        && !rules.iter().any(|r| &r.r == dr)
    {
        return None;
    }
    if let Some(f) = routes::subset_not_found(ctx, &vs.r, d, &fqdn, svc.as_ref(), &rules, &drs) {
        out.push(f);
        return None;
    }
    let s = svc?;
    let (dr, sub) = subsets::find(&rules, &subset)?;
    let pods = ctx.cl.subset_pods(&s, &sub.labels)?;
    let prefix = d.path.split(".route[").next().unwrap_or_default();
    let route_len = vs
        .dests
        .iter()
        .filter(|x| !x.mirror && x.path.starts_with(&format!("{prefix}.route[")))
        .count();
    if let Some(f) = subsets::check(ctx, &vs.r, d, route_len, &s, &pods, dr, sub) {
        out.push(f);
    }
    Some((s, pods))
}

/// Adds what a destination reached, merging the pods of one Service.
fn remember(reached: &mut Vec<Reached>, svc: ServiceView, pods: Vec<PodView>, why: String) {
    match reached.iter_mut().find(|r| r.svc.r == svc.r) {
        Some(r) => {
            for p in pods {
                if !r.pods.iter().any(|q| q.r == p.r) {
                    r.pods.push(p);
                }
            }
        }
        None => reached.push(Reached { svc, pods, why }),
    }
}

/// Sidecar and mTLS checks for the pods the target's routes reach.
fn check_workloads(ctx: &mut Ctx, reached: &[Reached], scope: &str, out: &mut Vec<Finding>) {
    let mut servers: Vec<PodView> = Vec::new();
    for r in reached {
        let what = format!("Service {}/{}", r.svc.ns, r.svc.name);
        if let Some(f) = sidecars::check(ctx, &what, Some(&r.svc.r), &r.why, &r.pods) {
            out.push(f);
        }
        servers.extend(r.pods.iter().cloned());
    }
    out.extend(mtls::check(ctx, &servers, scope));
}

fn check_vs(ctx: &mut Ctx, vs: &VirtualService, out: &mut Vec<Finding>) {
    let reached = vs_routes(ctx, vs, out);
    let scope = format!(
        "the workloads VirtualService {}/{} routes to",
        vs.ns, vs.r.name
    );
    check_workloads(ctx, &reached, &scope, out);
}

/// Faults and destinations of one VirtualService; returns the Services it reaches.
fn vs_routes(ctx: &mut Ctx, vs: &VirtualService, out: &mut Vec<Finding>) -> Vec<Reached> {
    out.extend(faults::check(ctx, vs, None));
    let mut reached = Vec::new();
    for i in 0..vs.dests.len() {
        if let Some((s, pods)) = check_dest(ctx, vs, i, None, out)
            && !vs.dests[i].mirror
        {
            let why = format!(
                "VirtualService {}/{} {} = {} routes to Service {}/{}",
                vs.ns,
                vs.r.name,
                vs.dests[i].path,
                vs.dests[i].describe(),
                s.ns,
                s.name
            );
            remember(&mut reached, s, pods, why);
        }
    }
    reached
}

fn check_dr(ctx: &mut Ctx, dr: &DestinationRule, out: &mut Vec<Finding>) {
    if dr.host.trim().is_empty() {
        out.push(routes::host_not_found(ctx, &dr.r, "spec.host", ""));
        return;
    }
    let svc = match routes::resolve(ctx, &dr.host, &dr.ns) {
        HostTarget::NotFound => {
            out.push(routes::host_not_found(ctx, &dr.r, "spec.host", &dr.host));
            return;
        }
        HostTarget::Wildcard | HostTarget::Unknown => return,
        HostTarget::Entry => None,
        HostTarget::Service(s) => Some(s),
    };
    // NB: a route names the host by its short name or an FQDN that starts with it; a wildcard
    // DestinationRule host can match any name, so then every VirtualService is read.
    let short = dr.fqdn.split('.').next().unwrap_or_default();
    let vss = if hosts::is_wildcard(&dr.fqdn) || short.is_empty() {
        ctx.cl.virtual_services().map(<[_]>::to_vec)
    } else {
        ctx.cl.virtual_services_naming(short)
    }
    .unwrap_or_default();
    for vs in &vss {
        let mut routed = false;
        for i in 0..vs.dests.len() {
            if hosts::fqdn(&vs.dests[i].host, &vs.ns) == dr.fqdn {
                routed = true;
                check_dest(ctx, vs, i, Some(&dr.r), out);
            }
        }
        if routed {
            out.extend(faults::check(ctx, vs, Some(&dr.fqdn)));
        }
    }
    if let Some(s) = svc
        && let Some(pods) = ctx.cl.service_pods(&s)
    {
        let why = format!(
            "DestinationRule {}/{} spec.host = {} applies to Service {}/{}",
            dr.ns, dr.r.name, dr.host, s.ns, s.name
        );
        let scope = format!("Service {}/{}", s.ns, s.name);
        check_workloads(ctx, &[Reached { svc: s, pods, why }], &scope, out);
    }
}

fn check_gateway(ctx: &mut Ctx, gw: &Object, out: &mut Vec<Finding>) {
    let (ns, name) = (gw.namespace().unwrap_or_default(), gw.name());
    let bound: Vec<VirtualService> = ctx
        .cl
        .virtual_services_naming(name)
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.bound_to(ns, name))
        .collect();
    if bound.is_empty() && ctx.cl.gaps.is_empty() {
        out.push(
            Finding::info(
                GATEWAY_UNBOUND,
                format!("No VirtualService binds to Gateway {ns}/{name}, so it routes nothing"),
            )
            .resource(ctx.target.clone())
            .evidence(format!(
                "no VirtualService lists {name} (same namespace) or {ns}/{name} in spec.gateways"
            ))
            .suggestion(format!(
                "Add {ns}/{name} to spec.gateways of the VirtualService that should serve this Gateway's hosts, in Git"
            )),
        );
    }
    let mut reached = Vec::new();
    for vs in &bound {
        for r in vs_routes(ctx, vs, out) {
            let why = format!("{}; it is bound to Gateway {ns}/{name}", r.why);
            remember(&mut reached, r.svc, r.pods, why);
        }
    }
    let scope = format!("the workloads behind Gateway {ns}/{name}");
    check_workloads(ctx, &reached, &scope, out);
}

fn check_pa(ctx: &mut Ctx, pa: &PeerAuthentication, out: &mut Vec<Finding>) {
    let pods = if pa.mesh_wide() {
        ctx.cl.pods(None, "")
    } else {
        let sel = pa.selector.as_ref().map(fmt_selector).unwrap_or_default();
        ctx.cl.pods(Some(&pa.ns), &sel)
    };
    let Some(pods) = pods else {
        return;
    };
    let scope = match &pa.selector {
        Some(s) => format!("pods matching {} in {}", util::fmt_map(s), pa.ns),
        None if pa.mesh_wide() => "every workload in the mesh".to_string(),
        None => format!("every workload in namespace {}", pa.ns),
    };
    if !pa.mesh_wide() {
        let what = format!(
            "the workloads covered by PeerAuthentication {}/{}",
            pa.ns, pa.r.name
        );
        let why = format!(
            "PeerAuthentication {}/{} ({}) sets mTLS for them, and only a sidecar enforces it",
            pa.ns,
            pa.r.name,
            pa.scope()
        );
        if let Some(f) = sidecars::check(ctx, &what, None, &why, &pods) {
            out.push(f);
        }
    }
    out.extend(mtls::check(ctx, &pods, &scope));
}

/// Drops duplicates, bounds every list, sorts (severity, code, resources, summary) and keeps at
/// most [`MAX_FINDINGS`].
fn finish(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for mut f in findings {
        if out
            .iter()
            .any(|o| o.code == f.code && o.summary == f.summary && o.resources == f.resources)
        {
            continue;
        }
        f.evidence.truncate(MAX_LINES);
        f.suggestions.truncate(MAX_LINES);
        f.resources.truncate(MAX_RESOURCES);
        out.push(f);
    }
    out.sort_by(|a, b| {
        (a.severity, &a.code, &a.resources, &a.summary).cmp(&(
            b.severity,
            &b.code,
            &b.resources,
            &b.summary,
        ))
    });
    out.truncate(MAX_FINDINGS);
    out
}
