//! Where a route goes: resolving a destination host to a Service or ServiceEntry
//! (`mesh.host-not-found`), choosing the DestinationRule Istio applies to it, and checking the
//! routed subset exists there (`mesh.subset-not-found`).
//!
//! DestinationRule choice follows Istio's lookup for a caller in namespace N: DestinationRules
//! in N first, then the Service's namespace, then the root namespace — no other namespace is on
//! the lookup path, whatever its rules' `exportTo` says (Istio's "Cross-namespace configuration"
//! guidelines). Within the first namespace that has one, every rule for the host is merged (exact
//! host before wildcard host). A rule is a candidate only when its `exportTo` makes it visible in
//! N. The VirtualService's namespace stands for the caller's.

use crate::Ctx;
use crate::cluster::Lookup;
use crate::hosts::{self, ROOT_NS};
use crate::model::{Dest, DestinationRule, ServiceView};
use crate::util::{MAX_LINE, MAX_SUMMARY, clip};
use skillbox_guest::{Finding, ObjectRef};

/// Code: a destination or DestinationRule host matches no Service and no ServiceEntry.
pub const HOST_NOT_FOUND: &str = "mesh.host-not-found";
/// Code: a routed subset is defined by no DestinationRule for the host.
pub const SUBSET_NOT_FOUND: &str = "mesh.subset-not-found";

/// What a host stands for.
#[derive(Debug)]
pub enum HostTarget {
    /// `*` or `*.domain`: not a single Service, never "not found".
    Wildcard,
    /// A Kubernetes Service.
    Service(ServiceView),
    /// A ServiceEntry lists it.
    Entry,
    /// Neither: the host does not exist for the mesh.
    NotFound,
    /// The reads needed to decide failed.
    Unknown,
}

/// Resolves `host` as written in a rule of namespace `rule_ns`.
pub fn resolve(ctx: &mut Ctx, host: &str, rule_ns: &str) -> HostTarget {
    let fqdn = hosts::fqdn(host, rule_ns);
    if hosts::is_wildcard(&fqdn) {
        return HostTarget::Wildcard;
    }
    if fqdn.is_empty() {
        return HostTarget::NotFound;
    }
    let mut unknown = false;
    if let Some((ns, name)) = hosts::service_of(&fqdn) {
        match ctx.cl.service(ns, name) {
            Lookup::Found(s) => return HostTarget::Service(s),
            Lookup::Missing => {}
            Lookup::Unknown => unknown = true,
        }
    }
    match ctx.cl.service_entries() {
        Some(ses) => {
            if ses.iter().any(|se| {
                hosts::visible(&se.export_to, &se.ns, rule_ns)
                    && se.hosts.iter().any(|h| hosts::covers(h, &fqdn))
            }) {
                return HostTarget::Entry;
            }
        }
        None => unknown = true,
    }
    if unknown {
        HostTarget::Unknown
    } else {
        HostTarget::NotFound
    }
}

/// The namespaces Istio looks DestinationRules up in for a caller in `from_ns`, in order.
pub fn lookup_path<'a>(from_ns: &'a str, svc_ns: Option<&'a str>) -> Vec<&'a str> {
    let mut order = vec![from_ns];
    order.extend(svc_ns);
    order.push(ROOT_NS);
    order
}

/// The DestinationRules Istio applies to `fqdn` for callers in `from_ns` (see the module docs).
pub fn rules_for(
    drs: &[DestinationRule],
    fqdn: &str,
    from_ns: &str,
    svc_ns: Option<&str>,
) -> Vec<DestinationRule> {
    let visible: Vec<&DestinationRule> = drs
        .iter()
        .filter(|d| !d.fqdn.is_empty() && hosts::visible(&d.export_to, &d.ns, from_ns))
        .collect();
    for ns in lookup_path(from_ns, svc_ns) {
        let in_ns = visible.iter().filter(|d| d.ns == ns);
        let exact: Vec<DestinationRule> = in_ns
            .clone()
            .filter(|d| d.fqdn == fqdn)
            .map(|d| (*d).clone())
            .collect();
        if !exact.is_empty() {
            return exact;
        }
        let wild: Vec<DestinationRule> = in_ns
            .filter(|d| hosts::is_wildcard(&d.fqdn) && hosts::covers(&d.fqdn, fqdn))
            .map(|d| (*d).clone())
            .collect();
        if !wild.is_empty() {
            return wild;
        }
    }
    Vec::new()
}

/// Where a short or odd host most likely meant to go: a Service in `ns` whose name the host
/// starts with (`ratings-v1` → `ratings`), and the rest as a version (`v1`).
fn near_miss(names: &[String], host: &str) -> Option<(String, Option<String>)> {
    let short = host.split('.').next().unwrap_or(host);
    let mut best: Option<&String> = None;
    for n in names {
        if short.starts_with(n.as_str())
            && short.len() > n.len()
            && best.is_none_or(|b| n.len() > b.len())
        {
            best = Some(n);
        }
    }
    let best = best?;
    let rest = short[best.len()..].trim_start_matches(['-', '_', '.']);
    Some((best.clone(), (!rest.is_empty()).then(|| rest.to_string())))
}

/// `mesh.host-not-found` for the host at `path` of `rule` (a VirtualService destination or a
/// DestinationRule `spec.host`).
pub fn host_not_found(ctx: &mut Ctx, rule: &ObjectRef, path: &str, host: &str) -> Finding {
    let rule_ns = rule.namespace.clone().unwrap_or_default();
    let fqdn = hosts::fqdn(host, &rule_ns);
    let what = if rule.kind == "DestinationRule" {
        "applies to host"
    } else {
        "routes to host"
    };
    let mut f = Finding::error(
        HOST_NOT_FOUND,
        clip(
            &format!(
                "{} {}/{} {what} {}, which matches no Service and no ServiceEntry",
                rule.kind,
                rule_ns,
                rule.name,
                if host.is_empty() {
                    "\"\" (empty)"
                } else {
                    host
                }
            ),
            MAX_SUMMARY,
        ),
    )
    .resource(ctx.target.clone())
    .resource(rule.clone())
    .evidence(clip(
        &format!("{} {rule_ns}/{} {path} = {host:?}", rule.kind, rule.name),
        MAX_LINE,
    ));
    if host.is_empty() {
        return f.suggestion(format!(
            "Set {path} in the {} {rule_ns}/{} manifest to the Service it should reach",
            rule.kind, rule.name
        ));
    }
    let look_ns = match hosts::service_of(&fqdn) {
        Some((ns, name)) => {
            f = f.evidence(format!(
                "{host} resolves to {fqdn}{}; there is no Service {name} in namespace {ns}",
                if host.contains('.') {
                    String::new()
                } else {
                    format!(" (a short host resolves in the rule's namespace {rule_ns})")
                }
            ));
            ns.to_string()
        }
        None => {
            f = f.evidence(format!(
                "{host} contains a dot, so Istio takes it literally (only <svc>.<ns>.svc.cluster.local names a Service)"
            ));
            rule_ns.clone()
        }
    };
    f = f.evidence(format!(
        "no ServiceEntry visible from namespace {rule_ns} lists host {fqdn}"
    ));
    // A dotted host `svc.ns` that names a real Service only lacks the suffix.
    if hosts::service_of(&fqdn).is_none()
        && let Some((name, ns)) = fqdn.split_once('.')
        && !ns.contains('.')
        && let Lookup::Found(s) = ctx.cl.service(ns, name)
    {
        f = f
            .resource(s.r.clone())
            .suggestion(format!(
                "In the {} {rule_ns}/{} manifest set {path} to {name}.{ns}.svc.cluster.local (Service {ns}/{name} exists; Istio does not expand {host})",
                rule.kind, rule.name
            ));
        return f;
    }
    let mut names = ctx.cl.service_names(&look_ns);
    names.sort();
    if !names.is_empty() {
        f = f.evidence(clip(
            &format!("Services in namespace {look_ns}: {}", names.join(", ")),
            MAX_LINE,
        ));
    }
    match near_miss(&names, host) {
        Some((svc, Some(version))) => {
            let defined = ctx
                .cl
                .dest_rules_in(&lookup_path(&rule_ns, Some(&look_ns)))
                .is_some_and(|drs| {
                    rules_for(&drs, &hosts::fqdn(&svc, &look_ns), &rule_ns, Some(&look_ns))
                        .iter()
                        .any(|d| d.subsets.iter().any(|s| s.name == version))
                });
            let sub = if defined {
                format!(" with subset: {version} (a DestinationRule for {svc} defines it)")
            } else {
                format!(
                    "; to reach only {version}, add a subset {version} to the DestinationRule for {svc} and route to it"
                )
            };
            f = f.suggestion(clip(
                &format!(
                    "In the {} {rule_ns}/{} manifest set {path} to {svc} (the Service; {host} looks like a workload name){sub}",
                    rule.kind, rule.name
                ),
                MAX_LINE,
            ));
        }
        Some((svc, None)) => {
            f = f.suggestion(format!(
                "In the {} {rule_ns}/{} manifest set {path} to {svc}",
                rule.kind, rule.name
            ));
        }
        None => {
            f = f.suggestion(format!(
                "In the {} {rule_ns}/{} manifest set {path} to an existing Service (short name in namespace {rule_ns}, or <svc>.<ns>.svc.cluster.local)",
                rule.kind, rule.name
            ));
        }
    }
    f.suggestion(format!(
        "If {host} is outside the cluster or the mesh, declare it with a ServiceEntry in Git"
    ))
}

/// `mesh.subset-not-found` for `dest` of VirtualService `vs` when `rules` (the DestinationRules
/// that apply) do not define its subset. `all` is every DestinationRule read, to point at
/// definitions that exist but do not apply.
pub fn subset_not_found(
    ctx: &Ctx,
    vs: &ObjectRef,
    dest: &Dest,
    fqdn: &str,
    svc: Option<&ServiceView>,
    rules: &[DestinationRule],
    all: &[DestinationRule],
) -> Option<Finding> {
    let subset = dest.subset.as_deref()?;
    if rules
        .iter()
        .any(|d| d.subsets.iter().any(|s| s.name == subset))
    {
        return None;
    }
    let vs_ns = vs.namespace.as_deref().unwrap_or_default();
    let mut f = Finding::error(
        SUBSET_NOT_FOUND,
        clip(
            &format!(
                "VirtualService {vs_ns}/{} routes to subset {subset} of host {}, which {}",
                vs.name,
                dest.host,
                if rules.is_empty() {
                    "has no DestinationRule".to_string()
                } else {
                    "no DestinationRule defines".to_string()
                }
            ),
            MAX_SUMMARY,
        ),
    )
    .resource(ctx.target.clone())
    .resource(vs.clone())
    .evidence(format!(
        "VirtualService {vs_ns}/{} {} = {}",
        vs.name,
        dest.path,
        dest.describe()
    ));
    for d in rules {
        f = f.resource(d.r.clone()).evidence(clip(
            &format!(
                "DestinationRule {}/{} spec.host = {}, spec.subsets[*].name = {}",
                d.ns,
                d.r.name,
                d.host,
                d.subset_names()
            ),
            MAX_LINE,
        ));
    }
    if rules.is_empty() {
        f = f.evidence(format!(
            "no DestinationRule visible from namespace {vs_ns} has host {fqdn} (short DestinationRule hosts resolve in their own namespace)"
        ));
    }
    // Definitions that exist elsewhere but do not apply (other namespace's short host, exportTo).
    for d in all.iter().filter(|d| {
        !rules.iter().any(|r| r.r == d.r)
            && d.subsets.iter().any(|s| s.name == subset)
            && hosts::fqdn(&d.host, &d.ns).split('.').next() == fqdn.split('.').next()
    }) {
        f = f.resource(d.r.clone()).evidence(clip(
            &format!(
                "DestinationRule {}/{} defines subset {subset} but for host {} (visible from {vs_ns}: {}), so it does not apply",
                d.ns,
                d.r.name,
                d.fqdn,
                hosts::visible(&d.export_to, &d.ns, vs_ns)
            ),
            MAX_LINE,
        ));
    }
    if let Some(s) = svc {
        f = f.resource(s.r.clone());
    }
    // The labels the other subsets use suggest the new one's (`version: <name>` in Bookinfo).
    let key = rules
        .iter()
        .flat_map(|d| d.subsets.iter())
        .find(|s| s.labels.len() == 1 && s.labels.values().next() == Some(&s.name))
        .and_then(|s| s.labels.keys().next().cloned());
    let labels = match &key {
        Some(k) => format!(" (labels {{{k}: {subset}}})"),
        None => String::new(),
    };
    let existing: Vec<&str> = rules
        .iter()
        .flat_map(|d| d.subsets.iter().map(|s| s.name.as_str()))
        .collect();
    match rules.first() {
        Some(d) => {
            f = f.suggestion(clip(
                &format!(
                    "Add subset {subset}{labels} to spec.subsets of DestinationRule {}/{} in Git, or change {} of VirtualService {vs_ns}/{} to an existing subset ({})",
                    d.ns,
                    d.r.name,
                    dest.path,
                    vs.name,
                    existing.join(", ")
                ),
                MAX_LINE,
            ));
        }
        None => {
            f = f.suggestion(clip(
                &format!(
                    "Add a DestinationRule with spec.host: {fqdn} and subset {subset}{labels} in Git (in namespace {vs_ns} or the Service's namespace), or remove the subset from {} of VirtualService {vs_ns}/{}",
                    dest.path, vs.name
                ),
                MAX_LINE,
            ));
        }
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_miss_splits_workload_names() {
        let names = vec![
            "ratings".to_string(),
            "reviews".to_string(),
            "r".to_string(),
        ];
        assert_eq!(
            near_miss(&names, "ratings-v1"),
            Some(("ratings".into(), Some("v1".into())))
        );
        assert_eq!(near_miss(&names, "details"), None);
    }
}
