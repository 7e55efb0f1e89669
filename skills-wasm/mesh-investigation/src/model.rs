//! Typed views of the objects the skill reads, built once from each object's JSON so that no
//! rule walks raw JSON twice. Every field is optional in the input; a missing field becomes an
//! empty value, never a panic. Both `networking.istio.io/v1` and `v1beta1`/`v1alpha3` objects
//! have the same shape for everything read here (the legacy `percent` fault field included).

use crate::hosts;
use crate::util::{items, string_map, strings};
use serde_json::Value;
use skillbox_guest::{Object, ObjectRef};
use std::collections::BTreeMap;

/// The `sidecar.istio.io/inject` annotation or label.
pub const INJECT_KEY: &str = "sidecar.istio.io/inject";

/// One destination a VirtualService sends traffic to.
#[derive(Debug, Clone)]
pub struct Dest {
    /// Field path of the `destination`, e.g. `spec.http[0].route[1].destination`.
    pub path: String,
    /// `destination.host` as written (empty when missing).
    pub host: String,
    /// `destination.subset`.
    pub subset: Option<String>,
    /// `weight` of the route entry, when given.
    pub weight: Option<i64>,
    /// A mirror copy: its failures do not reach users.
    pub mirror: bool,
}

impl Dest {
    /// Whether real (non-mirrored, non-zero-weight) traffic goes here.
    pub fn carries_traffic(&self) -> bool {
        !self.mirror && self.weight != Some(0)
    }

    /// `{host: reviews, subset: v3}`.
    pub fn describe(&self) -> String {
        match &self.subset {
            Some(s) => format!("{{host: {}, subset: {s}}}", self.host),
            None => format!("{{host: {}}}", self.host),
        }
    }
}

/// A `fault` on one HTTP rule.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Index of the rule in `spec.http`.
    pub rule: usize,
    /// `spec.http[i].name`.
    pub rule_name: Option<String>,
    /// `abort`: what it returns and for which share of requests (`None`: no abort, or 0%).
    pub abort: Option<String>,
    /// `delay`: how long and for which share (`None`: no delay, or 0%).
    pub delay: Option<String>,
    /// `spec.http[i].match` as compact JSON; `None` when the rule matches every request.
    pub matches: Option<String>,
    /// Whether a match condition tests request headers (e.g. `end-user: {exact: jason}`).
    pub header_matched: bool,
    /// Hosts of the rule's route destinations.
    pub hosts: Vec<String>,
}

/// A VirtualService, reduced to what the rules read.
#[derive(Debug, Clone)]
pub struct VirtualService {
    /// The object.
    pub r: ObjectRef,
    /// `metadata.namespace`.
    pub ns: String,
    /// `spec.hosts`.
    pub hosts: Vec<String>,
    /// `spec.gateways` (empty means the `mesh` gateway only).
    pub gateways: Vec<String>,
    /// Every destination of `http`, `tcp` and `tls` routes and HTTP mirrors.
    pub dests: Vec<Dest>,
    /// Active faults of HTTP rules.
    pub faults: Vec<Fault>,
}

impl VirtualService {
    /// Reads a VirtualService.
    pub fn parse(o: &Object) -> Self {
        let v = o.value();
        let spec = v.get("spec");
        let mut dests = Vec::new();
        let mut faults = Vec::new();
        for (proto, list) in ["http", "tcp", "tls"]
            .iter()
            .map(|p| (*p, items(spec.and_then(|s| s.get(*p)))))
        {
            for (i, rule) in list.iter().enumerate() {
                let mut rule_hosts = Vec::new();
                for (j, rt) in items(rule.get("route")).iter().enumerate() {
                    let d = dest(
                        rt.get("destination"),
                        format!("spec.{proto}[{i}].route[{j}].destination"),
                        rt.get("weight").and_then(Value::as_i64),
                        false,
                    );
                    rule_hosts.push(d.host.clone());
                    dests.push(d);
                }
                if proto != "http" {
                    continue;
                }
                if let Some(m) = rule.get("mirror").filter(|m| m.is_object()) {
                    dests.push(dest(Some(m), format!("spec.http[{i}].mirror"), None, true));
                }
                for (j, m) in items(rule.get("mirrors")).iter().enumerate() {
                    dests.push(dest(
                        m.get("destination"),
                        format!("spec.http[{i}].mirrors[{j}].destination"),
                        None,
                        true,
                    ));
                }
                if let Some(f) = fault(rule, i, rule_hosts) {
                    faults.push(f);
                }
            }
        }
        Self {
            r: o.object_ref(),
            ns: o.namespace().unwrap_or_default().to_string(),
            hosts: strings(spec.and_then(|s| s.get("hosts"))),
            gateways: strings(spec.and_then(|s| s.get("gateways"))),
            dests,
            faults,
        }
    }

    /// Whether the VirtualService is bound to Gateway `gw_ns/gw_name`: `spec.gateways` names it
    /// as `name` (same namespace), `ns/name`, or the legacy `name.ns.svc.cluster.local`.
    pub fn bound_to(&self, gw_ns: &str, gw_name: &str) -> bool {
        self.gateways.iter().any(|g| {
            let (ns, name) = match g.split_once('/') {
                Some((ns, name)) => (ns, name),
                None => match g
                    .strip_suffix(hosts::SVC_SUFFIX)
                    .and_then(|s| s.split_once('.'))
                {
                    Some((name, ns)) => (ns, name),
                    None => (self.ns.as_str(), g.as_str()),
                },
            };
            g != "mesh" && ns == gw_ns && name == gw_name
        })
    }
}

fn dest(d: Option<&Value>, path: String, weight: Option<i64>, mirror: bool) -> Dest {
    let s = |k: &str| {
        d.and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Dest {
        path,
        host: s("host").unwrap_or_default(),
        subset: s("subset").filter(|x| !x.is_empty()),
        weight,
        mirror,
    }
}

/// The share of requests a fault applies to, in percent. `percentage.value` wins; the legacy
/// integer `percent` (v1alpha3) is read when it is absent; with neither, Istio applies the fault
/// to every request.
fn percent(f: &Value) -> f64 {
    if let Some(p) = f.get("percentage") {
        return p.get("value").and_then(Value::as_f64).unwrap_or(0.0);
    }
    f.get("percent").and_then(Value::as_f64).unwrap_or(100.0)
}

fn fault(rule: &Value, i: usize, hosts: Vec<String>) -> Option<Fault> {
    let f = rule.get("fault")?;
    let abort = f.get("abort").filter(|a| a.is_object()).and_then(|a| {
        let pct = percent(a);
        let what = if let Some(s) = a.get("httpStatus").and_then(Value::as_i64) {
            format!("HTTP {s}")
        } else if let Some(s) = a.get("grpcStatus").and_then(Value::as_str) {
            format!("gRPC {s}")
        } else if let Some(s) = a.get("http2Error").and_then(Value::as_str) {
            format!("HTTP/2 error {s}")
        } else {
            "an error".to_string()
        };
        (pct > 0.0).then(|| format!("abort with {what} for {pct}% of requests"))
    });
    let delay = f.get("delay").filter(|d| d.is_object()).and_then(|d| {
        let pct = percent(d);
        let how = d
            .get("fixedDelay")
            .or_else(|| d.get("exponentialDelay"))
            .and_then(Value::as_str)
            .unwrap_or("an unspecified time");
        (pct > 0.0).then(|| format!("delay of {how} for {pct}% of requests"))
    });
    if abort.is_none() && delay.is_none() {
        return None;
    }
    let m = rule.get("match").filter(|m| !items(Some(m)).is_empty());
    Some(Fault {
        rule: i,
        rule_name: rule.get("name").and_then(Value::as_str).map(str::to_string),
        abort,
        delay,
        matches: m.map(|m| crate::util::fmt_json(m, 300)),
        header_matched: items(m)
            .iter()
            .any(|c| c.get("headers").is_some_and(|h| h.is_object())),
        hosts,
    })
}

/// One subset of a DestinationRule.
#[derive(Debug, Clone)]
pub struct Subset {
    /// `name`.
    pub name: String,
    /// `labels`.
    pub labels: BTreeMap<String, String>,
}

/// A DestinationRule, reduced to what the rules read.
#[derive(Debug, Clone)]
pub struct DestinationRule {
    /// The object.
    pub r: ObjectRef,
    /// `metadata.namespace`.
    pub ns: String,
    /// `spec.host` as written.
    pub host: String,
    /// `spec.host` resolved in the DestinationRule's namespace.
    pub fqdn: String,
    /// `spec.subsets`.
    pub subsets: Vec<Subset>,
    /// `spec.exportTo`.
    pub export_to: Vec<String>,
}

impl DestinationRule {
    /// Reads a DestinationRule.
    pub fn parse(o: &Object) -> Self {
        let v = o.value();
        let spec = v.get("spec");
        let ns = o.namespace().unwrap_or_default().to_string();
        let host = spec
            .and_then(|s| s.get("host"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Self {
            r: o.object_ref(),
            fqdn: hosts::fqdn(&host, &ns),
            ns,
            host,
            subsets: items(spec.and_then(|s| s.get("subsets")))
                .iter()
                .map(|s| Subset {
                    name: s
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    labels: string_map(s.get("labels")),
                })
                .collect(),
            export_to: strings(spec.and_then(|s| s.get("exportTo"))),
        }
    }

    /// `[v1, v2]`.
    pub fn subset_names(&self) -> String {
        let names: Vec<&str> = self.subsets.iter().map(|s| s.name.as_str()).collect();
        format!("[{}]", names.join(", "))
    }
}

/// A ServiceEntry's hosts and visibility.
#[derive(Debug, Clone)]
pub struct ServiceEntry {
    /// The object.
    pub r: ObjectRef,
    /// `metadata.namespace`.
    pub ns: String,
    /// `spec.hosts`, resolved in the ServiceEntry's namespace.
    pub hosts: Vec<String>,
    /// `spec.exportTo`.
    pub export_to: Vec<String>,
}

impl ServiceEntry {
    /// Reads a ServiceEntry.
    pub fn parse(o: &Object) -> Self {
        let ns = o.namespace().unwrap_or_default().to_string();
        let spec = o.value().get("spec");
        Self {
            r: o.object_ref(),
            hosts: strings(spec.and_then(|s| s.get("hosts")))
                .iter()
                .map(|h| hosts::fqdn(h, &ns))
                .collect(),
            export_to: strings(spec.and_then(|s| s.get("exportTo"))),
            ns,
        }
    }
}

/// A PeerAuthentication.
#[derive(Debug, Clone)]
pub struct PeerAuthentication {
    /// The object.
    pub r: ObjectRef,
    /// `metadata.namespace`.
    pub ns: String,
    /// `spec.selector.matchLabels`; `None` when the policy is namespace-wide (or mesh-wide).
    pub selector: Option<BTreeMap<String, String>>,
    /// `spec.mtls.mode` upper-cased; `None` (or `UNSET`) inherits from the parent policy.
    pub mode: Option<String>,
    /// `spec.portLevelMtls`: port → mode.
    pub port_modes: BTreeMap<String, String>,
}

impl PeerAuthentication {
    /// Reads a PeerAuthentication.
    pub fn parse(o: &Object) -> Self {
        let spec = o.value().get("spec");
        let selector = string_map(
            spec.and_then(|s| s.get("selector"))
                .and_then(|s| s.get("matchLabels")),
        );
        let mode = spec
            .and_then(|s| s.get("mtls"))
            .and_then(|m| m.get("mode"))
            .and_then(Value::as_str)
            .map(str::to_ascii_uppercase)
            .filter(|m| m != "UNSET");
        let port_modes = match spec.and_then(|s| s.get("portLevelMtls")) {
            Some(Value::Object(m)) => m
                .iter()
                .filter_map(|(p, v)| {
                    Some((p.clone(), v.get("mode")?.as_str()?.to_ascii_uppercase()))
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        Self {
            r: o.object_ref(),
            ns: o.namespace().unwrap_or_default().to_string(),
            selector: (!selector.is_empty()).then_some(selector),
            mode,
            port_modes,
        }
    }

    /// Whether this is the mesh-wide policy (root namespace, no selector).
    pub fn mesh_wide(&self) -> bool {
        self.ns == hosts::ROOT_NS && self.selector.is_none()
    }

    /// `mesh-wide`, `namespace-wide` or `workload selector {app: x}`.
    pub fn scope(&self) -> String {
        match &self.selector {
            Some(s) => format!("workload selector {}", crate::util::fmt_map(s)),
            None if self.mesh_wide() => {
                format!("mesh-wide: root namespace {}, no selector", hosts::ROOT_NS)
            }
            None => format!("namespace-wide: every workload in {}", self.ns),
        }
    }
}

/// A Service's selector.
#[derive(Debug, Clone)]
pub struct ServiceView {
    /// The object.
    pub r: ObjectRef,
    /// `metadata.namespace`.
    pub ns: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.selector` (empty for selector-less and ExternalName Services).
    pub selector: BTreeMap<String, String>,
}

impl ServiceView {
    /// Reads a Service.
    pub fn parse(o: &Object) -> Self {
        Self {
            r: o.object_ref(),
            ns: o.namespace().unwrap_or_default().to_string(),
            name: o.name().to_string(),
            selector: string_map(o.value().get("spec").and_then(|s| s.get("selector"))),
        }
    }
}

/// A Pod, reduced to what the mesh rules read (pod JSON is large; this is read once).
#[derive(Debug, Clone)]
pub struct PodView {
    /// The object.
    pub r: ObjectRef,
    /// `metadata.namespace`.
    pub ns: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// `status.phase == Running`.
    pub running: bool,
    /// `status.phase`.
    pub phase: String,
    /// Has an `istio-proxy` container, or an `istio-proxy` initContainer with
    /// `restartPolicy: Always` (a native sidecar).
    pub sidecar: bool,
    /// `sidecar.istio.io/inject: "false"` as annotation or label.
    pub opts_out: bool,
    /// `sidecar.istio.io/inject: "true"` as annotation or label.
    pub opts_in: bool,
    /// `spec.hostNetwork`.
    pub host_network: bool,
    /// `metadata.creationTimestamp`.
    pub created: String,
    /// The controller in `ownerReferences`, as `(kind, name)`.
    pub owner: Option<(String, String)>,
}

/// The fields of a Pod the mesh rules read, deserialized straight from the JSON text (the rest
/// of a ~10 KB pod is skipped, not built: most of this skill's fuel otherwise).
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct PodDoc {
    metadata: PodMetaDoc,
    spec: PodSpecDoc,
    status: PodStatusDoc,
}

#[derive(Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PodMetaDoc {
    name: String,
    namespace: String,
    labels: BTreeMap<String, Value>,
    annotations: BTreeMap<String, Value>,
    owner_references: Vec<OwnerDoc>,
    creation_timestamp: String,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct OwnerDoc {
    kind: String,
    name: String,
    controller: Option<bool>,
}

#[derive(Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PodSpecDoc {
    containers: Vec<ContainerDoc>,
    init_containers: Vec<ContainerDoc>,
    host_network: bool,
}

#[derive(Default, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ContainerDoc {
    name: String,
    restart_policy: Option<String>,
}

#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct PodStatusDoc {
    phase: String,
}

fn text_map(m: BTreeMap<String, Value>) -> BTreeMap<String, String> {
    m.into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k, s)),
            _ => None,
        })
        .collect()
}

impl PodView {
    /// Reads a Pod: typed from the JSON text, or (for an oddly shaped object) field by field.
    pub fn parse(o: &Object) -> Self {
        match o.typed::<PodDoc>() {
            Ok(d) => Self::from_doc(o, d),
            Err(_) => Self::parse_value(o),
        }
    }

    fn from_doc(o: &Object, d: PodDoc) -> Self {
        let labels = text_map(d.metadata.labels);
        let annotations = text_map(d.metadata.annotations);
        let inject = annotations
            .get(INJECT_KEY)
            .or_else(|| labels.get(INJECT_KEY))
            .map(|s| s.to_ascii_lowercase());
        let sidecar = d.spec.containers.iter().any(|c| c.name == "istio-proxy")
            || d.spec
                .init_containers
                .iter()
                .any(|c| c.name == "istio-proxy" && c.restart_policy.as_deref() == Some("Always"));
        let owners = &d.metadata.owner_references;
        let owner = owners
            .iter()
            .find(|r| r.controller == Some(true))
            .or_else(|| owners.first())
            .filter(|r| !r.kind.is_empty() && !r.name.is_empty())
            .map(|r| (r.kind.clone(), r.name.clone()));
        Self {
            r: o.object_ref(),
            ns: d.metadata.namespace,
            name: d.metadata.name,
            running: d.status.phase == "Running",
            phase: d.status.phase,
            sidecar,
            opts_out: inject.as_deref() == Some("false"),
            opts_in: inject.as_deref() == Some("true"),
            host_network: d.spec.host_network,
            created: d.metadata.creation_timestamp,
            owner,
            labels,
        }
    }

    fn parse_value(o: &Object) -> Self {
        let v = o.value();
        let meta = v.get("metadata");
        let spec = v.get("spec");
        let labels = string_map(meta.and_then(|m| m.get("labels")));
        let annotations = string_map(meta.and_then(|m| m.get("annotations")));
        let inject = annotations
            .get(INJECT_KEY)
            .or_else(|| labels.get(INJECT_KEY))
            .map(|s| s.to_ascii_lowercase());
        let named_proxy = |c: &Value| c.get("name").and_then(Value::as_str) == Some("istio-proxy");
        let sidecar = items(spec.and_then(|s| s.get("containers")))
            .iter()
            .any(named_proxy)
            || items(spec.and_then(|s| s.get("initContainers")))
                .iter()
                .any(|c| {
                    named_proxy(c)
                        && c.get("restartPolicy").and_then(Value::as_str) == Some("Always")
                });
        let owners = items(meta.and_then(|m| m.get("ownerReferences")));
        let owner = owners
            .iter()
            .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
            .or_else(|| owners.first())
            .and_then(|r| {
                Some((
                    r.get("kind")?.as_str()?.to_string(),
                    r.get("name")?.as_str()?.to_string(),
                ))
            });
        let phase = o.str_at("status.phase").unwrap_or_default().to_string();
        Self {
            r: o.object_ref(),
            ns: o.namespace().unwrap_or_default().to_string(),
            name: o.name().to_string(),
            running: phase == "Running",
            phase,
            sidecar,
            opts_out: inject.as_deref() == Some("false"),
            opts_in: inject.as_deref() == Some("true"),
            host_network: spec
                .and_then(|s| s.get("hostNetwork"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            created: o
                .str_at("metadata.creationTimestamp")
                .unwrap_or_default()
                .to_string(),
            owner,
            labels,
        }
    }

    /// `ns/name`.
    pub fn display(&self) -> String {
        format!("{}/{}", self.ns, self.name)
    }

    /// The workload that manages the pod, as a person names it in Git: `Deployment reviews-v1`
    /// for a pod of ReplicaSet `reviews-v1-<hash>`, else its owner, else the pod itself.
    pub fn workload(&self) -> String {
        match &self.owner {
            Some((k, n)) if k == "ReplicaSet" => {
                let hash = self.labels.get("pod-template-hash");
                match hash.and_then(|h| n.strip_suffix(&format!("-{h}"))) {
                    Some(d) => format!("Deployment {d}"),
                    None => format!("ReplicaSet {n}"),
                }
            }
            Some((k, n)) => format!("{k} {n}"),
            None => format!("Pod {}", self.name),
        }
    }
}

/// Whether a Namespace enables sidecar injection, and how it says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Injection {
    /// `istio-injection=enabled` or an `istio.io/rev` label.
    Enabled(String),
    /// `istio-injection=disabled`.
    Disabled,
    /// Neither label.
    Unlabelled,
}

impl Injection {
    /// Reads a Namespace's labels.
    pub fn of(ns: &Object) -> Self {
        let labels = ns.labels();
        match labels.get("istio-injection").map(String::as_str) {
            Some("enabled") => Self::Enabled("istio-injection=enabled".into()),
            Some("disabled") => Self::Disabled,
            _ => match labels.get("istio.io/rev") {
                Some(rev) => Self::Enabled(format!("istio.io/rev={rev}")),
                None => Self::Unlabelled,
            },
        }
    }
}
