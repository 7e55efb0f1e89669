//! `mesh.mtls-strict-plaintext-client`: a PeerAuthentication makes mTLS `STRICT` for the target
//! workload while running pods without a sidecar exist that can reach it; those clients send
//! plaintext and the server's sidecar resets the connection (`curl` prints `000`, exit code 56).
//!
//! The effective mode of a pod follows Istio's precedence: a PeerAuthentication in the pod's
//! namespace whose `selector` matches it, else the namespace-wide one, else the mesh-wide one in
//! the root namespace `istio-system`; `UNSET` (or no mode) inherits from the next; no policy at
//! all means `PERMISSIVE`. Port-level modes are shown as evidence, not modelled.
//!
//! Plaintext clients are running pods without a sidecar, found with the label selector
//! `security.istio.io/tlsMode!=istio` (injection sets that label, so the list stays small) and
//! checked for an `istio-proxy` container. Not counted: pods in `kube-system`, `kube-public`,
//! `kube-node-lease` and the Istio root namespace (control plane and gateways), and host-network
//! pods (node agents). "Can reach" means no NetworkPolicy in the server's namespace might prevent
//! it: when one exists the skill does not model it and lowers the finding to a warning.

use crate::Ctx;
use crate::hosts::ROOT_NS;
use crate::model::{INJECT_KEY, Injection, PeerAuthentication, PodView};
use crate::util::{MAX_LINE, MAX_SUMMARY, clip, fmt_map, labels_match, name_list};
use skillbox_guest::{Finding, Severity};
use std::collections::BTreeMap;

/// Code: STRICT mTLS on the target while plaintext clients exist.
pub const MTLS_STRICT_PLAINTEXT: &str = "mesh.mtls-strict-plaintext-client";

/// Namespaces whose pods are not counted as plaintext clients.
const SYSTEM_NAMESPACES: [&str; 4] = ["kube-system", "kube-public", "kube-node-lease", ROOT_NS];
/// Selector for pods that were not injected (injection labels pods `tlsMode=istio`).
pub const UNINJECTED_SELECTOR: &str = "security.istio.io/tlsMode!=istio";

/// The PeerAuthentication that decides `pod`'s mode, and that mode (`None`: PERMISSIVE by default).
pub fn effective<'a>(
    pod: &PodView,
    pas: &'a [PeerAuthentication],
) -> Option<(&'a PeerAuthentication, &'a str)> {
    let mut in_ns: Vec<&PeerAuthentication> = pas.iter().filter(|p| p.ns == pod.ns).collect();
    in_ns.sort_by(|a, b| a.r.name.cmp(&b.r.name));
    let workload = in_ns.iter().find(|p| {
        p.selector
            .as_ref()
            .is_some_and(|s| labels_match(s, &pod.labels))
    });
    let namespace = in_ns.iter().find(|p| p.selector.is_none());
    let mut root: Vec<&PeerAuthentication> = pas.iter().filter(|p| p.mesh_wide()).collect();
    root.sort_by(|a, b| a.r.name.cmp(&b.r.name));
    [workload.copied(), namespace.copied(), root.first().copied()]
        .into_iter()
        .flatten()
        .find_map(|p| p.mode.as_deref().map(|m| (p, m)))
}

/// Whether `pod` is a plaintext client the rule counts.
fn is_client(p: &PodView) -> bool {
    p.running && !p.sidecar && !p.host_network && !SYSTEM_NAMESPACES.contains(&p.ns.as_str())
}

/// Checks `servers` (the target's pods) and reports, per deciding STRICT PeerAuthentication, the
/// plaintext clients that can reach them. `scope` names the target workload in the summary.
pub fn check(ctx: &mut Ctx, servers: &[PodView], scope: &str) -> Vec<Finding> {
    // A server's policy is its own namespace's (workload or namespace-wide) or the root's.
    let mut nss: Vec<&str> = servers.iter().map(|p| p.ns.as_str()).collect();
    nss.push(ROOT_NS);
    let Some(pas) = ctx.cl.peer_auths_in(&nss) else {
        return Vec::new();
    };
    if !pas.iter().any(|p| p.mode.as_deref() == Some("STRICT")) {
        return Vec::new();
    }
    // Servers that enforce STRICT: running, with a sidecar, deciding policy STRICT.
    let mut groups: BTreeMap<String, (PeerAuthentication, Vec<&PodView>)> = BTreeMap::new();
    for p in servers.iter().filter(|p| p.running && p.sidecar) {
        if let Some((pa, "STRICT")) = effective(p, &pas) {
            groups
                .entry(format!("{}/{}", pa.ns, pa.r.name))
                .or_insert_with(|| (pa.clone(), Vec::new()))
                .1
                .push(p);
        }
    }
    if groups.is_empty() {
        return Vec::new();
    }
    let clients: Vec<PodView> = match ctx.cl.cached_all_pods() {
        Some(all) => all.into_iter().filter(is_client).collect(),
        None => match ctx.cl.pods(None, UNINJECTED_SELECTOR) {
            Some(v) => v.into_iter().filter(is_client).collect(),
            None => return Vec::new(),
        },
    };
    if clients.is_empty() {
        return Vec::new();
    }
    groups
        .into_values()
        .map(|(pa, pods)| finding(ctx, &pa, &pods, &clients, scope))
        .collect()
}

fn finding(
    ctx: &mut Ctx,
    pa: &PeerAuthentication,
    servers: &[&PodView],
    clients: &[PodView],
    scope: &str,
) -> Finding {
    let server_ns: Vec<String> = {
        let mut v: Vec<String> = servers.iter().map(|p| p.ns.clone()).collect();
        v.dedup();
        v
    };
    let client_names: Vec<String> = clients.iter().map(PodView::display).collect();
    let mut f = Finding::error(
        MTLS_STRICT_PLAINTEXT,
        clip(
            &format!(
                "PeerAuthentication {}/{} requires mTLS (STRICT) for {scope}, but {} running pod(s) without a sidecar can reach it and send plaintext: {}",
                pa.ns,
                pa.r.name,
                clients.len(),
                name_list(&client_names)
            ),
            MAX_SUMMARY,
        ),
    )
    .resource(ctx.target.clone())
    .resource(pa.r.clone())
    .evidence(format!(
        "PeerAuthentication {}/{} spec.mtls.mode = STRICT ({})",
        pa.ns,
        pa.r.name,
        pa.scope()
    ));
    if !pa.port_modes.is_empty() {
        f = f.evidence(format!(
            "spec.portLevelMtls = {} (ports with another mode accept plaintext)",
            fmt_map(&pa.port_modes)
        ));
    }
    let server_names: Vec<&str> = servers.iter().map(|p| p.name.as_str()).collect();
    f = f.evidence(clip(
        &format!(
            "STRICT is enforced by the sidecars of {} running pod(s) in {}: {}",
            servers.len(),
            server_ns.join(", "),
            name_list(&server_names)
        ),
        MAX_LINE,
    ));
    let mut client_ns: Vec<&str> = clients.iter().map(|p| p.ns.as_str()).collect();
    client_ns.sort_unstable();
    client_ns.dedup();
    let mut unlabelled: Vec<&str> = Vec::new();
    for ns in client_ns.iter().take(3) {
        if let Some((r, inj)) = ctx.cl.namespace(ns) {
            f = f.resource(r);
            if !matches!(inj, Injection::Enabled(_)) {
                unlabelled.push(ns);
            }
        }
    }
    for c in clients.iter().take(8) {
        let why = if c.opts_out {
            format!("it opts out with {INJECT_KEY}: \"false\"")
        } else if unlabelled.contains(&c.ns.as_str()) {
            format!("Namespace {} does not enable injection", c.ns)
        } else {
            "it was not injected".to_string()
        };
        f = f.resource(c.r.clone()).evidence(format!(
            "pod {} has no istio-proxy sidecar ({why})",
            c.display()
        ));
    }
    if clients.len() > 8 {
        f = f.evidence(format!(
            "… and {} more pods without a sidecar",
            clients.len() - 8
        ));
    }
    let mut guarded = false;
    for ns in &server_ns {
        match ctx.cl.network_policies(ns) {
            Some(nps) if nps.is_empty() => {
                f = f.evidence(format!(
                    "no NetworkPolicy in namespace {ns}, so nothing prevents these clients from connecting"
                ));
            }
            Some(nps) => {
                guarded = true;
                let names: Vec<&str> = nps.iter().map(|r| r.name.as_str()).collect();
                f = f.evidence(clip(
                    &format!(
                        "NetworkPolicies in namespace {ns} ({}) may block some clients; the skill does not evaluate them",
                        name_list(&names)
                    ),
                    MAX_LINE,
                ));
            }
            None => {
                f = f.evidence(format!(
                    "NetworkPolicies in namespace {ns} could not be read"
                ));
            }
        }
    }
    if guarded {
        f.severity = Severity::Warning;
    }
    f = f.evidence(
        "a plaintext request to a STRICT sidecar is reset: the client sees HTTP code 000 / connection reset (curl exit code 56)",
    );
    let mut wl: Vec<String> = clients.iter().map(PodView::workload).collect();
    wl.sort();
    wl.dedup();
    if !unlabelled.is_empty() {
        f = f.suggestion(clip(
            &format!(
                "Bring the clients into the mesh: add istio-injection: enabled (or istio.io/rev) to the Namespace manifest of {} in Git and roll {}",
                unlabelled.join(", "),
                name_list(&wl)
            ),
            MAX_LINE,
        ));
    } else {
        f = f.suggestion(clip(
            &format!(
                "Bring the clients into the mesh: remove any {INJECT_KEY}: \"false\" opt-out from the pod templates of {} in Git and roll them",
                name_list(&wl)
            ),
            MAX_LINE,
        ));
    }
    f.suggestion(format!(
        "Or, while clients migrate, set spec.mtls.mode: PERMISSIVE in PeerAuthentication {}/{} in Git (or add a workload-level PeerAuthentication, or portLevelMtls PERMISSIVE, only for what those clients call)",
        pa.ns, pa.r.name
    ))
}
