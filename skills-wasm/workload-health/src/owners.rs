//! Which manifest in Git creates a pod: the Deployment behind its ReplicaSet, the CronJob behind
//! its Job, or the controller that owns it directly (a bare pod is its own manifest).

use skillbox_guest::k8s::OwnerReference;
use skillbox_guest::{Object, ObjectRef, tools};
use std::collections::BTreeMap;

/// At most this many extra reads to walk owner chains.
const MAX_LOOKUPS: u32 = 6;

/// Resolves and caches pods' manifest owners.
#[derive(Debug, Default)]
pub struct Owners {
    /// ReplicaSet/Job uid → its owner, from reads already made.
    known: BTreeMap<String, Option<ObjectRef>>,
    lookups_left: u32,
}

/// The ownerReferences of an object (empty when absent or odd).
pub fn owner_refs(o: &Object) -> Vec<OwnerReference> {
    o.owner_references()
}

/// The controller ownerReference (or the first one).
pub fn controller_of(o: &Object) -> Option<OwnerReference> {
    let refs = owner_refs(o);
    refs.iter()
        .find(|r| r.controller == Some(true))
        .or(refs.first())
        .cloned()
}

fn to_ref(r: &OwnerReference, ns: Option<&str>) -> ObjectRef {
    ObjectRef {
        api_version: r.api_version.clone(),
        kind: r.kind.clone(),
        namespace: ns.map(str::to_string),
        name: r.name.clone(),
    }
}

impl Owners {
    /// An empty resolver with the default lookup budget.
    pub fn new() -> Self {
        Self {
            known: BTreeMap::new(),
            lookups_left: MAX_LOOKUPS,
        }
    }

    /// Records what owns an intermediate object we already read (e.g. a listed ReplicaSet).
    pub fn remember(&mut self, intermediate: &Object) {
        if let Some(uid) = intermediate.uid() {
            let owner = controller_of(intermediate).map(|r| to_ref(&r, intermediate.namespace()));
            self.known.insert(uid.to_string(), owner);
        }
    }

    /// The object whose manifest defines `pod`'s template.
    pub fn manifest_of(&mut self, pod: &Object) -> ObjectRef {
        let ns = pod.namespace();
        let Some(ctl) = controller_of(pod) else {
            return pod_ref(pod);
        };
        let direct = to_ref(&ctl, ns);
        let walk = matches!(
            (
                ctl.kind.as_str(),
                ctl.api_version.split('/').next().unwrap_or("")
            ),
            ("ReplicaSet", "apps") | ("Job", "batch")
        );
        if !walk {
            return direct;
        }
        if !ctl.uid.is_empty()
            && let Some(found) = self.known.get(&ctl.uid)
        {
            return found.clone().unwrap_or(direct);
        }
        if self.lookups_left == 0 {
            return direct;
        }
        self.lookups_left -= 1;
        let query = if ctl.kind == "Job" {
            "Job.batch"
        } else {
            "ReplicaSet.apps"
        };
        let owner = tools::get_object(query, ns, &ctl.name)
            .ok()
            .and_then(|o| controller_of(&o).map(|r| to_ref(&r, ns)));
        if !ctl.uid.is_empty() {
            self.known.insert(ctl.uid.clone(), owner.clone());
        }
        owner.unwrap_or(direct)
    }
}

/// A pod's own reference, with its kind filled in if the object lacks it.
pub fn pod_ref(pod: &Object) -> ObjectRef {
    let mut r = pod.object_ref();
    if r.kind.is_empty() {
        r.kind = "Pod".into();
    }
    if r.api_version.is_empty() {
        r.api_version = "v1".into();
    }
    r
}

/// Where the pod template's container list lives in `owner`'s manifest.
pub fn containers_path(owner: &ObjectRef, init: bool) -> String {
    let list = if init { "initContainers" } else { "containers" };
    match owner.kind.as_str() {
        "Pod" => format!("spec.{list}"),
        "CronJob" => format!("spec.jobTemplate.spec.template.spec.{list}"),
        _ => format!("spec.template.spec.{list}"),
    }
}

/// Where the pod template's spec lives in `owner`'s manifest.
pub fn pod_spec_path(owner: &ObjectRef) -> &'static str {
    match owner.kind.as_str() {
        "Pod" => "spec",
        "CronJob" => "spec.jobTemplate.spec.template.spec",
        _ => "spec.template.spec",
    }
}

/// Where the pod template's labels live in `owner`'s manifest.
pub fn labels_path(owner: &ObjectRef) -> &'static str {
    match owner.kind.as_str() {
        "Pod" => "metadata.labels",
        "CronJob" => "spec.jobTemplate.spec.template.metadata.labels",
        _ => "spec.template.metadata.labels",
    }
}
