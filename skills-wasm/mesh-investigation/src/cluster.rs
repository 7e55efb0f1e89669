//! The skill's reads, each made at most once per investigation and parsed once into the views of
//! [`crate::model`]. Narrow calls only: one Service by name, pods by a Service's selector in its
//! namespace, DestinationRules and PeerAuthentications only in the namespaces Istio looks them up
//! in (so a call's cost does not grow with the cluster), the other Istio rule kinds listed once.
//! A read that fails for a reason other than "not found"
//! is remembered as a gap (reported as `mesh.evidence-incomplete`), and rules that depend on it
//! stay silent rather than guess.

use crate::model::{
    DestinationRule, Injection, PeerAuthentication, PodView, ServiceEntry, ServiceView,
    VirtualService,
};
use crate::util::fmt_selector;
use skillbox_guest::{Object, ObjectRef, ToolError, tools};
use std::collections::BTreeMap;

/// Kinds as the tools are asked for them (`Kind.group`, so no other API group can answer).
pub mod kinds {
    /// VirtualService.
    pub const VS: &str = "VirtualService.networking.istio.io";
    /// DestinationRule.
    pub const DR: &str = "DestinationRule.networking.istio.io";
    /// Gateway.
    pub const GW: &str = "Gateway.networking.istio.io";
    /// ServiceEntry.
    pub const SE: &str = "ServiceEntry.networking.istio.io";
    /// PeerAuthentication.
    pub const PA: &str = "PeerAuthentication.security.istio.io";
    /// NetworkPolicy.
    pub const NP: &str = "NetworkPolicy.networking.k8s.io";
    /// Deployment.
    pub const DEPLOY: &str = "Deployment.apps";
}

/// `nss` without repeats, first occurrence kept.
fn dedup<'a>(nss: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::with_capacity(nss.len());
    for ns in nss {
        if !out.contains(ns) {
            out.push(ns);
        }
    }
    out
}

/// A read's answer when "absent" and "could not tell" must be told apart.
#[derive(Debug)]
pub enum Lookup<T> {
    /// The object exists.
    Found(T),
    /// The tool said it does not exist.
    Missing,
    /// The tool could not answer (a gap was recorded).
    Unknown,
}

/// A Deployment's name and desired replicas, for subset evidence.
#[derive(Debug, Clone)]
pub struct DeploymentView {
    /// The object.
    pub r: ObjectRef,
    /// `metadata.name`.
    pub name: String,
    /// `spec.replicas` (Kubernetes defaults to 1).
    pub replicas: i64,
    /// `spec.template.metadata.labels`.
    pub template_labels: BTreeMap<String, String>,
}

/// Cached reads for one investigation.
#[derive(Debug, Default)]
pub struct Cluster {
    services: BTreeMap<(String, String), Option<ServiceView>>,
    service_names: BTreeMap<String, Vec<String>>,
    dest_rules: BTreeMap<String, Option<Vec<DestinationRule>>>,
    service_entries: Option<Option<Vec<ServiceEntry>>>,
    peer_auths: BTreeMap<String, Option<Vec<PeerAuthentication>>>,
    virtual_services: Option<Option<Vec<VirtualService>>>,
    namespaces: BTreeMap<String, Option<(ObjectRef, Injection)>>,
    pods: BTreeMap<(String, String), Option<Vec<PodView>>>,
    /// Reads that failed for a reason other than "not found".
    pub gaps: Vec<String>,
}

impl Cluster {
    fn gap(&mut self, what: &str, e: &ToolError) {
        let line = format!("{what}: {e}");
        if !self.gaps.contains(&line) {
            self.gaps.push(line);
        }
    }

    fn list<T>(
        &mut self,
        kind: &str,
        ns: Option<&str>,
        sel: &str,
        f: fn(&Object) -> T,
    ) -> Option<Vec<T>> {
        self.list_where(kind, ns, sel, |_| true, f)
    }

    /// [`Self::list`], parsing only the objects `keep` accepts.
    fn list_where<T>(
        &mut self,
        kind: &str,
        ns: Option<&str>,
        sel: &str,
        keep: impl Fn(&Object) -> bool,
        f: fn(&Object) -> T,
    ) -> Option<Vec<T>> {
        match tools::list_objects(kind, ns, sel) {
            Ok(objs) => Some(objs.iter().filter(|o| keep(o)).map(f).collect()),
            // A kind the cluster does not serve (no CRD) simply has no objects.
            Err(ToolError::NotFound(_)) => Some(Vec::new()),
            Err(e) => {
                let what = match ns {
                    Some(ns) => format!("list {kind} in {ns}"),
                    None => format!("list {kind}"),
                };
                self.gap(&what, &e);
                None
            }
        }
    }

    /// The DestinationRules of the namespaces `nss` (each listed once per investigation), in
    /// that order; `None` when one of the reads failed. Istio looks a rule up only in the caller's
    /// namespace, the Service's and the root namespace (`routes::lookup_path`), so no call here
    /// lists the whole cluster.
    pub fn dest_rules_in(&mut self, nss: &[&str]) -> Option<Vec<DestinationRule>> {
        self.per_namespace(kinds::DR, nss, DestinationRule::parse, |c| {
            &mut c.dest_rules
        })
    }

    /// `kind` in each of the namespaces `nss`, each listed once per investigation (kept in
    /// `cache`), in that order; `None` when one of the reads failed.
    fn per_namespace<T: Clone>(
        &mut self,
        kind: &str,
        nss: &[&str],
        parse: fn(&Object) -> T,
        cache: fn(&mut Self) -> &mut BTreeMap<String, Option<Vec<T>>>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::new();
        for ns in dedup(nss) {
            if !cache(self).contains_key(ns) {
                let v = self.list(kind, Some(ns), "", parse);
                cache(self).insert(ns.to_string(), v);
            }
            out.extend(cache(self).get(ns)?.as_ref()?.iter().cloned());
        }
        Some(out)
    }

    /// Every ServiceEntry (read only when a host is not a Service).
    pub fn service_entries(&mut self) -> Option<&[ServiceEntry]> {
        if self.service_entries.is_none() {
            let v = self.list(kinds::SE, None, "", ServiceEntry::parse);
            self.service_entries = Some(v);
        }
        self.service_entries.as_ref().and_then(|o| o.as_deref())
    }

    /// The PeerAuthentications of the namespaces `nss`, in that order (`None` when a read
    /// failed): a workload's policy comes from its own namespace or the root namespace only.
    pub fn peer_auths_in(&mut self, nss: &[&str]) -> Option<Vec<PeerAuthentication>> {
        self.per_namespace(kinds::PA, nss, PeerAuthentication::parse, |c| {
            &mut c.peer_auths
        })
    }

    /// Every VirtualService (for DestinationRule and Gateway targets).
    pub fn virtual_services(&mut self) -> Option<&[VirtualService]> {
        if self.virtual_services.is_none() {
            let v = self.list(kinds::VS, None, "", VirtualService::parse);
            self.virtual_services = Some(v);
        }
        self.virtual_services.as_ref().and_then(|o| o.as_deref())
    }

    /// The VirtualServices whose text names `needle` (a host's short name, a Gateway's name),
    /// parsed only those: a VirtualService can route to a host or bind to a Gateway only by
    /// naming it, and parsing is most of what a long list costs. `None` when the read failed.
    pub fn virtual_services_naming(&mut self, needle: &str) -> Option<Vec<VirtualService>> {
        if let Some(all) = &self.virtual_services {
            return all.clone();
        }
        self.list_where(
            kinds::VS,
            None,
            "",
            |o| o.mentions(needle),
            VirtualService::parse,
        )
    }

    /// Service `ns/name`.
    pub fn service(&mut self, ns: &str, name: &str) -> Lookup<ServiceView> {
        let key = (ns.to_string(), name.to_string());
        if let Some(s) = self.services.get(&key) {
            return match s {
                Some(s) => Lookup::Found(s.clone()),
                None => Lookup::Missing,
            };
        }
        match tools::get_object("Service", Some(ns), name) {
            Ok(o) => {
                let s = ServiceView::parse(&o);
                self.services.insert(key, Some(s.clone()));
                Lookup::Found(s)
            }
            Err(ToolError::NotFound(_)) => {
                self.services.insert(key, None);
                Lookup::Missing
            }
            Err(e) => {
                self.gap(&format!("get Service {ns}/{name}"), &e);
                Lookup::Unknown
            }
        }
    }

    /// Names of the Services in `ns` (only read to suggest a near miss for a host not found).
    pub fn service_names(&mut self, ns: &str) -> Vec<String> {
        if let Some(v) = self.service_names.get(ns) {
            return v.clone();
        }
        let v = self
            .list("Service", Some(ns), "", |o| o.name().to_string())
            .unwrap_or_default();
        self.service_names.insert(ns.to_string(), v.clone());
        v
    }

    /// The injection labels of Namespace `ns`, and its reference (for findings).
    pub fn namespace(&mut self, ns: &str) -> Option<(ObjectRef, Injection)> {
        if let Some(v) = self.namespaces.get(ns) {
            return v.clone();
        }
        let v = match tools::get_object("Namespace", None, ns) {
            Ok(o) => Some((o.object_ref(), Injection::of(&o))),
            Err(ToolError::NotFound(_)) => None,
            Err(e) => {
                self.gap(&format!("get Namespace {ns}"), &e);
                None
            }
        };
        self.namespaces.insert(ns.to_string(), v.clone());
        v
    }

    /// Pods in `ns` (every namespace for `None`) matching the label selector `sel`.
    pub fn pods(&mut self, ns: Option<&str>, sel: &str) -> Option<Vec<PodView>> {
        let key = (ns.unwrap_or("").to_string(), sel.to_string());
        if let Some(v) = self.pods.get(&key) {
            return v.clone();
        }
        let v = self.list("Pod", ns, sel, PodView::parse);
        self.pods.insert(key, v.clone());
        v
    }

    /// Every pod, when an earlier call already listed them all (saves a second list).
    pub fn cached_all_pods(&self) -> Option<Vec<PodView>> {
        self.pods
            .get(&(String::new(), String::new()))
            .cloned()
            .flatten()
    }

    /// The pods a Service selects (its namespace, its selector). `None` for a selector-less
    /// Service (its endpoints are not chosen by labels) or when the read failed.
    pub fn service_pods(&mut self, svc: &ServiceView) -> Option<Vec<PodView>> {
        if svc.selector.is_empty() {
            return None;
        }
        self.pods(Some(&svc.ns), &fmt_selector(&svc.selector))
    }

    /// The Service's pods already read by earlier calls (other subsets' lists), or one list when
    /// none were: evidence on a failure path should not cost a second read of every pod.
    pub fn known_service_pods(&mut self, svc: &ServiceView) -> Vec<PodView> {
        let mut out: Vec<PodView> = Vec::new();
        for ((ns, _), pods) in &self.pods {
            if ns != &svc.ns {
                continue;
            }
            for p in pods.iter().flatten() {
                if crate::util::labels_match(&svc.selector, &p.labels)
                    && !out.iter().any(|q| q.r == p.r)
                {
                    out.push(p.clone());
                }
            }
        }
        if out.iter().any(|p| p.running) {
            return out;
        }
        self.service_pods(svc).unwrap_or_default()
    }

    /// The pods a subset of a Service selects: the Service selector and the subset labels in
    /// one label selector, so only those pods cross the sandbox. `Some(empty)` without a call
    /// when the two disagree on a key (no pod can match both).
    pub fn subset_pods(
        &mut self,
        svc: &ServiceView,
        labels: &BTreeMap<String, String>,
    ) -> Option<Vec<PodView>> {
        if svc.selector.is_empty() {
            return None;
        }
        let mut combined = svc.selector.clone();
        for (k, v) in labels {
            if combined.get(k).is_some_and(|x| x != v) {
                return Some(Vec::new());
            }
            combined.insert(k.clone(), v.clone());
        }
        self.pods(Some(&svc.ns), &fmt_selector(&combined))
    }

    /// Deployments in `ns` whose pod template carries every label of `sel` (read only to
    /// explain an empty subset).
    pub fn deployments(&mut self, ns: &str, sel: &BTreeMap<String, String>) -> Vec<DeploymentView> {
        let all = self
            .list(kinds::DEPLOY, Some(ns), "", |o| DeploymentView {
                r: o.object_ref(),
                name: o.name().to_string(),
                replicas: o.i64_at("spec.replicas").unwrap_or(1),
                template_labels: o.string_map("spec.template.metadata.labels"),
            })
            .unwrap_or_default();
        all.into_iter()
            .filter(|d| crate::util::labels_match(sel, &d.template_labels))
            .collect()
    }

    /// Names of the NetworkPolicies in `ns` (`None` when they could not be read).
    pub fn network_policies(&mut self, ns: &str) -> Option<Vec<ObjectRef>> {
        self.list(kinds::NP, Some(ns), "", Object::object_ref)
    }
}
