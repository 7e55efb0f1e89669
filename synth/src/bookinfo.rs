//! One Bookinfo namespace as `kubectl get -A -o yaml` shows it after `kubectl apply` of the
//! upstream `bookinfo.yaml`, `destination-rule-all.yaml`, `virtual-service-all-v1.yaml` and
//! `bookinfo-gateway.yaml` with sidecar injection: ServiceAccounts, ConfigMaps, Services,
//! Deployments with their ReplicaSets and Pods, EndpointSlices, Events, Istio routing — and, when
//! the plan says so, one planted failure in the shape of the public scenario for its code.
//!
//! Every namespace draws from its own random stream (seed, namespace index), so namespaces are
//! independent of each other and of how many there are.

use crate::k8s::{
    self, Ctx, EventText, Involved, Node, PodInfo, PodInput, PodState, event_events_k8s_io,
    event_v1, last_applied, owner_ref, pod, smap,
};
use crate::plan::Failure;
use crate::rng::Rng;
use crate::time::{DAY, HOUR, MINUTE, NOW, rfc3339};
use crate::{Planted, Target};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The Deployments of Bookinfo: (app, version).
const WORKLOADS: [(&str, &str); 6] = [
    ("details", "v1"),
    ("ratings", "v1"),
    ("reviews", "v1"),
    ("reviews", "v2"),
    ("reviews", "v3"),
    ("productpage", "v1"),
];
/// Its Services (one per app).
const SERVICES: [&str; 4] = ["details", "ratings", "reviews", "productpage"];
/// The subsets `destination-rule-all.yaml` defines per host.
const SUBSETS: [(&str, &[&str]); 4] = [
    ("productpage", &["v1"]),
    ("reviews", &["v1", "v2", "v3"]),
    ("ratings", &["v1", "v2", "v2-mysql", "v2-mysql-vm"]),
    ("details", &["v1", "v2"]),
];
/// What the crash-looping reviews container logs before it exits (the public scenario's log).
const CRASH_LOG: &str = "Launching defaultServer (Open Liberty 24.0.0.12/wlp-1.0.96.cl241220241119-0657) on Eclipse OpenJ9 VM, version 11.0.25+9 (en_US)
[AUDIT   ] CWWKE0001I: The server defaultServer has been launched.
[ERROR   ] CWWKE0055E: Unable to create directory /opt/ibm/wlp/output/defaultServer/workarea: java.io.IOException: Read-only file system
[ERROR   ] CWWKE0009E: The system could not start the server defaultServer because of an error creating the server workarea.
[AUDIT   ] CWWKE0036I: The server defaultServer stopped after 1.204 seconds.
";

/// Everything one namespace contributes to the snapshot.
#[derive(Debug)]
pub struct NsOut {
    /// The Namespace object (cluster-scoped: it goes to the cluster's `namespaces` file).
    pub namespace: Value,
    /// The namespace's objects by file stem (`pods`, `events`, …), sorted by stem.
    pub files: Vec<(&'static str, Vec<Value>)>,
    /// Container logs: (path under the snapshot root, text).
    pub logs: Vec<(String, String)>,
    /// The failure planted here, with its target.
    pub planted: Option<Planted>,
    /// Targets a correct investigation finds healthy (only meaningful in a healthy namespace).
    pub healthy: Vec<Target>,
}

impl NsOut {
    /// Objects in this namespace, its Namespace included.
    pub fn count(&self) -> usize {
        1 + self.files.iter().map(|(_, v)| v.len()).sum::<usize>()
    }
}

/// What to build.
#[derive(Debug)]
pub struct NsSpec<'a> {
    /// The config's seed.
    pub seed: u64,
    /// The namespace's index (its random stream).
    pub index: usize,
    /// Its name.
    pub name: &'a str,
    /// What to break, if anything.
    pub failure: Option<Failure>,
    /// The nodes pods are scheduled on.
    pub nodes: &'a [Node],
    /// The cluster's CA bundle (the same in every namespace, as in a real cluster).
    pub ca: &'a str,
    /// How many filler objects (Events, ConfigMaps) to add.
    pub extras: usize,
}

/// An object others point at (owner references, Events): name, uid, resourceVersion.
#[derive(Debug, Clone)]
struct Owned {
    name: String,
    uid: String,
    rv: String,
}

impl Owned {
    /// How the controllers' Events about this Deployment or ReplicaSet point at it.
    fn involved<'a>(&'a self, api_version: &'a str, kind: &'a str, ns: &'a str) -> Involved<'a> {
        Involved {
            api_version,
            kind,
            name: &self.name,
            namespace: ns,
            uid: &self.uid,
            rv: &self.rv,
        }
    }
}

/// One ReplicaSet revision of a Deployment: its template and its pods.
#[derive(Debug)]
struct Rev {
    template: Value,
    created: i64,
    replicas: i64,
    generation: i64,
    pods: Vec<(PodState, i64)>,
}

/// A Deployment to build.
#[derive(Debug)]
struct Wl {
    app: &'static str,
    version: &'static str,
    desired: i64,
    generation: i64,
    /// The newest revision's rollout is past its progress deadline.
    stuck: bool,
    revisions: Vec<Rev>,
}

/// A ReplicaSet as built: itself, its Deployment's name, its pods.
#[derive(Debug)]
struct RsBuilt {
    owned: Owned,
    deployment: String,
    pods: Vec<PodInfo>,
}

/// The namespace being built: its random stream, what it holds so far, and what later parts
/// (EndpointSlices, Events, filler) need to know about the earlier ones.
struct Ns<'a> {
    ctx: Ctx,
    name: &'a str,
    nodes: &'a [Node],
    ca: &'a str,
    created: i64,
    apps_created: i64,
    injected: bool,
    items: BTreeMap<&'static str, Vec<Value>>,
    deployments: Vec<Owned>,
    replicasets: Vec<RsBuilt>,
    logs: Vec<(String, String)>,
    scaled: BTreeSet<String>,
}

fn target(api_version: &str, kind: &str, ns: &str, name: &str) -> Target {
    Target {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
        namespace: Some(ns.to_string()),
        name: name.to_string(),
    }
}

/// The pod template of a Bookinfo Deployment, as `bookinfo.yaml` declares it (plus the
/// defaults the API server fills in).
fn template(app: &str, version: &str) -> Value {
    let sa = format!("bookinfo-{app}");
    let mut c = json!({
        "image": format!("registry.istio.io/release/examples-bookinfo-{app}-{version}:1.20.3"),
        "imagePullPolicy": "IfNotPresent",
        "name": app,
        "ports": [{"containerPort": 9080, "protocol": "TCP"}],
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    });
    let mut spec = json!({
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "serviceAccount": sa,
        "serviceAccountName": sa,
        "terminationGracePeriodSeconds": 30,
    });
    let mut meta = json!({"creationTimestamp": null, "labels": {"app": app, "version": version}});
    match app {
        "reviews" => {
            c["env"] = json!([{"name": "LOG_DIR", "value": "/tmp/logs"}]);
            c["volumeMounts"] = json!([
                {"mountPath": "/tmp", "name": "tmp"},
                {"mountPath": "/opt/ibm/wlp/output", "name": "wlp-output"}
            ]);
            spec["volumes"] = json!([
                {"emptyDir": {}, "name": "wlp-output"},
                {"emptyDir": {}, "name": "tmp"}
            ]);
        }
        "productpage" => {
            c["volumeMounts"] = json!([{"mountPath": "/tmp", "name": "tmp"}]);
            spec["volumes"] = json!([{"emptyDir": {}, "name": "tmp"}]);
            meta["annotations"] = smap(&[
                ("prometheus.io/path", "/metrics"),
                ("prometheus.io/port", "9080"),
                ("prometheus.io/scrape", "true"),
            ]);
        }
        _ => {}
    }
    spec["containers"] = json!([c]);
    json!({"metadata": meta, "spec": spec})
}

/// `template` with `f` applied to its (only) app container.
fn with_container(mut template: Value, f: impl FnOnce(&mut Value)) -> Value {
    if let Some(c) = template["spec"]["containers"].get_mut(0) {
        f(c);
    }
    template
}

/// What the kubelet records, in order, when it starts container `c` from `image` that is
/// already on the node.
fn start_messages(c: &str, image: &str) -> [(&'static str, String); 3] {
    [
        (
            "Pulled",
            format!("Container image \"{image}\" already present on machine"),
        ),
        ("Created", format!("Created container: {c}")),
        ("Started", format!("Started container {c}")),
    ]
}

/// Builds a namespace.
pub fn build(spec: &NsSpec) -> NsOut {
    let mut rng = Rng::stream(spec.seed, spec.index as u64);
    let rv_base = 8_000_000 + rng.below(8_000_000) + (spec.index as u64) * 5_000;
    let created = NOW - rng.range(25 * DAY, 55 * DAY);
    let apps_created = created + rng.range(5 * MINUTE, 2 * HOUR);
    let mut ns = Ns {
        ctx: Ctx::new(rng, rv_base),
        name: spec.name,
        nodes: spec.nodes,
        ca: spec.ca,
        created,
        apps_created,
        injected: spec.failure != Some(Failure::SidecarNotInjected),
        items: BTreeMap::new(),
        deployments: Vec::new(),
        replicasets: Vec::new(),
        logs: Vec::new(),
        scaled: BTreeSet::new(),
    };
    let namespace = ns.namespace_object();
    ns.service_accounts();
    ns.config_maps();
    let svc_uids = ns.services(spec.failure);
    let planted_pod = ns.workloads(spec.failure);
    ns.endpoint_slices(&svc_uids);
    ns.istio(spec.failure);
    ns.pod_events();
    ns.extras(spec.extras);

    let name = spec.name;
    let pod_named = |p: Option<&PodInfo>| p.map(|p| p.name.clone()).unwrap_or_default();
    let planted = spec.failure.map(|f| {
        let t = match f {
            Failure::CrashLoop | Failure::Unschedulable | Failure::ReadinessFailing => {
                target("v1", "Pod", name, &pod_named(planted_pod.as_ref()))
            }
            Failure::ImagePull => target("apps/v1", "Deployment", name, "ratings-v1"),
            Failure::OomKilled => target("apps/v1", "Deployment", name, "productpage-v1"),
            Failure::ConfigMissing => target("apps/v1", "Deployment", name, "details-v1"),
            Failure::ServiceNoEndpoints => target("v1", "Service", name, "details"),
            Failure::SubsetNotFound | Failure::SidecarNotInjected | Failure::SubsetNoPods => {
                target("networking.istio.io/v1", "VirtualService", name, "reviews")
            }
            Failure::HostNotFound | Failure::FaultInjection => {
                target("networking.istio.io/v1", "VirtualService", name, "ratings")
            }
            Failure::MtlsStrict => target(
                "security.istio.io/v1",
                "PeerAuthentication",
                name,
                "default",
            ),
            Failure::RootSyncForbidden => crate::base::root_sync_target(),
        };
        Planted {
            failure: f,
            target: t,
            codes: f.codes().to_vec(),
        }
    });
    let rs_of = |d: &str| {
        ns.replicasets
            .iter()
            .rev()
            .find(|r| r.deployment == d)
            .map(|r| r.owned.name.clone())
            .unwrap_or_default()
    };
    let ratings_pod = ns
        .replicasets
        .iter()
        .filter(|r| r.deployment == "ratings-v1")
        .flat_map(|r| &r.pods)
        .next()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let healthy = vec![
        target("networking.istio.io/v1", "VirtualService", name, "reviews"),
        target("networking.istio.io/v1", "VirtualService", name, "bookinfo"),
        target("networking.istio.io/v1", "DestinationRule", name, "reviews"),
        target(
            "networking.istio.io/v1",
            "Gateway",
            name,
            "bookinfo-gateway",
        ),
        target(
            "security.istio.io/v1",
            "PeerAuthentication",
            name,
            "default",
        ),
        target("apps/v1", "Deployment", name, "reviews-v2"),
        target("apps/v1", "ReplicaSet", name, &rs_of("details-v1")),
        target("v1", "Service", name, "productpage"),
        target("v1", "Pod", name, &ratings_pod),
    ];
    NsOut {
        namespace,
        files: ns.items.into_iter().collect(),
        logs: ns.logs,
        planted,
        healthy,
    }
}

impl Ns<'_> {
    fn push(&mut self, stem: &'static str, v: Value) {
        self.items.entry(stem).or_default().push(v);
    }

    fn meta(&mut self, name: &str, created: i64) -> Value {
        self.ctx.meta(self.name, name, created)
    }

    fn namespace_object(&mut self) -> Value {
        let injection: &[(&str, &str)] = if self.injected {
            &[("istio-injection", "enabled")]
        } else {
            &[]
        };
        k8s::namespace(&mut self.ctx, self.name, injection, self.created)
    }

    fn service_accounts(&mut self) {
        let meta = self.meta("default", self.created);
        self.push(
            "serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}),
        );
        for app in SERVICES {
            let mut meta = self.meta(&format!("bookinfo-{app}"), self.apps_created);
            meta["labels"] = smap(&[("account", app)]);
            self.push(
                "serviceaccounts",
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}),
            );
        }
    }

    fn config_maps(&mut self) {
        let root_cert =
            k8s::istio_ca_root_cert(&mut self.ctx, self.name, self.created + 1, self.ca);
        self.push("configmaps", root_cert);
        let root_ca = k8s::kube_root_ca(&mut self.ctx, self.name, self.created, self.ca);
        self.push("configmaps", root_ca);
    }

    /// The four Services; returns (name, uid, selector) for the EndpointSlices.
    fn services(&mut self, failure: Option<Failure>) -> Vec<(String, String, Map<String, Value>)> {
        let mut out = Vec::new();
        for app in SERVICES {
            let mut selector = Map::new();
            selector.insert("app".into(), json!(app));
            if app == "details" && failure == Some(Failure::ServiceNoEndpoints) {
                selector.insert("version".into(), json!("v2"));
            }
            let manifest = json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"labels": {"app": app, "service": app}, "name": app, "namespace": self.name},
                "spec": {"ports": [{"name": "http", "port": 9080}], "selector": selector},
            });
            let mut meta = self.meta(app, self.apps_created);
            meta["annotations"] = json!({
                "kubectl.kubernetes.io/last-applied-configuration": last_applied(&manifest)
            });
            meta["labels"] = json!({"app": app, "service": app});
            let ip = self.ctx.service_ip("10.96");
            let uid = meta["uid"].as_str().unwrap_or_default().to_string();
            self.push(
                "services",
                json!({
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": meta,
                    "spec": k8s::service_spec(
                        &ip,
                        json!([{"name": "http", "port": 9080, "protocol": "TCP", "targetPort": 9080}]),
                        Value::Object(selector.clone()),
                    ),
                    "status": {"loadBalancer": {}},
                }),
            );
            out.push((app.to_string(), uid, selector));
        }
        out
    }

    /// When a long-running healthy pod was (re)created: within the last ten days.
    fn pod_time(&mut self) -> i64 {
        (NOW - self.ctx.rng.range(HOUR * 6, 10 * DAY)).max(self.apps_created + MINUTE)
    }

    /// The six Deployments, one broken as the failure says; returns the pod a Pod target names
    /// when the failure has one.
    fn workloads(&mut self, failure: Option<Failure>) -> Option<PodInfo> {
        let rollout = NOW - self.ctx.rng.range(40 * MINUTE, 2 * HOUR);
        let mut found = None;
        for (app, version) in WORKLOADS {
            let dep = format!("{app}-{version}");
            let base = template(app, version);
            let t0 = self.pod_time();
            let (wl, pick) = self.plan_workload(failure, &dep, app, version, base, t0, rollout);
            let built = self.workload(wl, rollout);
            if let Some(rev) = pick {
                found = built.get(rev).and_then(|r| r.pods.last()).cloned();
            }
            self.replicasets.extend(built);
        }
        found
    }

    /// The Deployment `dep` as the failure shapes it, and which revision's last pod is the
    /// planted Pod target (if the target is a Pod of this Deployment).
    #[allow(clippy::too_many_arguments)] // NB: each is a distinct fact of the workload planned.
    fn plan_workload(
        &mut self,
        failure: Option<Failure>,
        dep: &str,
        app: &'static str,
        version: &'static str,
        base: Value,
        t0: i64,
        rollout: i64,
    ) -> (Wl, Option<usize>) {
        let rev = |template: &Value, created: i64, replicas: i64, pods| Rev {
            template: template.clone(),
            created,
            replicas,
            generation: 1,
            pods,
        };
        let plain = Wl {
            app,
            version,
            desired: 1,
            generation: 1,
            stuck: false,
            revisions: vec![rev(&base, 0, 1, vec![(PodState::Running, t0)])],
        };
        // A rollout of `broken` whose new pod is stuck in `state`.
        let stuck = |broken: Value, state: PodState| Wl {
            generation: 2,
            stuck: true,
            revisions: vec![
                rev(&base, 0, 1, vec![(PodState::Running, t0)]),
                rev(&broken, rollout, 1, vec![(state, rollout + 3)]),
            ],
            app,
            version,
            desired: 1,
        };
        match (failure, dep) {
            (Some(Failure::CrashLoop), "reviews-v2") => {
                // The rollout dropped the writable wlp-output mount and made the root
                // filesystem read-only; Liberty cannot create its workarea.
                let broken = with_container(base.clone(), |c| {
                    c["securityContext"] =
                        json!({"readOnlyRootFilesystem": true, "runAsNonRoot": true});
                    c["volumeMounts"] = json!([{"mountPath": "/tmp", "name": "tmp"}]);
                });
                let restarts = 8 + u32::try_from(self.ctx.rng.below(12)).unwrap_or(0);
                let state = PodState::CrashLoop {
                    restarts,
                    exit_code: 1,
                };
                (stuck(broken, state), Some(1))
            }
            (Some(Failure::ImagePull), "ratings-v1") => {
                let image = "registry.istio.io/release/examples-bookinfo-ratings-v1:1.21.0";
                let broken = with_container(base.clone(), |c| c["image"] = json!(image));
                let message = format!(
                    "Back-off pulling image \"{image}\": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
                );
                (stuck(broken, PodState::ImagePull { message }), None)
            }
            (Some(Failure::ConfigMissing), "details-v1") => {
                let broken = with_container(base.clone(), |c| {
                    c["envFrom"] = json!([{"configMapRef": {"name": "details-settings"}}]);
                });
                let state = PodState::ConfigError {
                    message: "configmap \"details-settings\" not found".into(),
                };
                (stuck(broken, state), None)
            }
            (Some(Failure::ReadinessFailing), "productpage-v1") => {
                let broken = with_container(base.clone(), |c| {
                    c["readinessProbe"] = json!({
                        "failureThreshold": 3,
                        "httpGet": {"path": "/health", "port": 9080, "scheme": "HTTP"},
                        "periodSeconds": 10,
                        "successThreshold": 1,
                        "timeoutSeconds": 1
                    });
                });
                (stuck(broken, PodState::NotReady), Some(1))
            }
            (Some(Failure::OomKilled), "productpage-v1") => {
                let limited = with_container(base, |c| {
                    c["resources"] = json!({
                        "limits": {"memory": "64Mi"},
                        "requests": {"cpu": "100m", "memory": "64Mi"}
                    });
                });
                let restarts = 2 + u32::try_from(self.ctx.rng.below(6)).unwrap_or(0);
                let state = PodState::OomRecovered { restarts };
                let wl = Wl {
                    revisions: vec![rev(&limited, 0, 1, vec![(state, t0)])],
                    ..plain
                };
                (wl, None)
            }
            (Some(Failure::Unschedulable), "productpage-v1") => {
                let big = with_container(base, |c| {
                    c["resources"] = json!({
                        "limits": {"cpu": "2", "memory": "1Gi"},
                        "requests": {"cpu": "1500m", "memory": "512Mi"}
                    });
                });
                let n = self.nodes.len();
                let message = format!(
                    "0/{n} nodes are available: {n} Insufficient cpu. preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod."
                );
                let pods = vec![
                    (PodState::Running, t0),
                    (PodState::Unschedulable { message }, rollout),
                ];
                let wl = Wl {
                    desired: 2,
                    revisions: vec![rev(&big, 0, 2, pods)],
                    ..plain
                };
                (wl, Some(0))
            }
            (Some(Failure::SubsetNoPods), "reviews-v3") => {
                let mut scaled = rev(&base, 0, 0, vec![]);
                scaled.generation = 2;
                let wl = Wl {
                    desired: 0,
                    generation: 2,
                    revisions: vec![scaled],
                    ..plain
                };
                (wl, None)
            }
            _ => (plain, None),
        }
    }

    /// Builds a Deployment with its ReplicaSets and their pods, plus the deployment
    /// controller's ScalingReplicaSet event when it rolled or scaled recently.
    fn workload(&mut self, wl: Wl, rollout: i64) -> Vec<RsBuilt> {
        let name = format!("{}-{}", wl.app, wl.version);
        let mut dep_meta = self.meta(&name, self.apps_created);
        let dep = Owned {
            name: name.clone(),
            uid: dep_meta["uid"].as_str().unwrap_or_default().to_string(),
            rv: dep_meta["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
        let revisions = wl.revisions.len();
        let mut built: Vec<RsBuilt> = Vec::new();
        let surge = wl.desired + (wl.desired + 3) / 4;
        for (i, rev) in wl.revisions.iter().enumerate() {
            let hash = self.ctx.rng.suffix(10);
            let rs_name = format!("{name}-{hash}");
            let created = if rev.created == 0 {
                self.apps_created
            } else {
                rev.created
            };
            let tmpl = k8s::hashed(&rev.template, &hash);
            let mut meta = self.meta(&rs_name, created);
            let rs = Owned {
                name: rs_name.clone(),
                uid: meta["uid"].as_str().unwrap_or_default().to_string(),
                rv: meta["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            };
            meta["annotations"] = json!({
                "deployment.kubernetes.io/desired-replicas": wl.desired.to_string(),
                "deployment.kubernetes.io/max-replicas": surge.max(1).to_string(),
                "deployment.kubernetes.io/revision": (i + 1).to_string(),
            });
            meta["generation"] = json!(rev.generation);
            meta["labels"] = tmpl["metadata"]["labels"].clone();
            meta["ownerReferences"] = owner_ref("apps/v1", "Deployment", &name, &dep.uid);
            let mut pods = Vec::new();
            for (state, at) in &rev.pods {
                let node = &self.nodes[self.ctx.rng.index(self.nodes.len())];
                let (p, info) = pod(
                    &mut self.ctx,
                    PodInput {
                        ns: self.name,
                        rs: (&rs_name, &rs.uid),
                        workload: &name,
                        template: &tmpl,
                        injected: self.injected,
                        node,
                        created: *at,
                        state: state.clone(),
                    },
                );
                self.push("pods", p);
                pods.push(info);
            }
            let n = pods.len();
            let ready = pods.iter().filter(|p| p.state.serving()).count();
            let mut status = json!({"observedGeneration": rev.generation, "replicas": n});
            if n > 0 {
                status["fullyLabeledReplicas"] = json!(n);
            }
            if ready > 0 {
                status["availableReplicas"] = json!(ready);
                status["readyReplicas"] = json!(ready);
            }
            self.push(
                "replicasets",
                json!({
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": meta,
                    "spec": {
                        "replicas": rev.replicas,
                        "selector": {"matchLabels": {"app": wl.app, "pod-template-hash": hash, "version": wl.version}},
                        "template": tmpl,
                    },
                    "status": status,
                }),
            );
            built.push(RsBuilt {
                owned: rs,
                deployment: name.clone(),
                pods,
            });
        }

        let all: Vec<&PodInfo> = built.iter().flat_map(|r| &r.pods).collect();
        let total = all.len();
        let ready = all.iter().filter(|p| p.state.serving()).count() as i64;
        let updated = built.last().map_or(0, |r| r.pods.len());
        let newest = built
            .last()
            .map(|r| r.owned.name.clone())
            .unwrap_or_default();
        let first_ready = all
            .iter()
            .map(|p| p.created)
            .min()
            .unwrap_or(self.apps_created)
            + 35;
        let mut status = json!({"observedGeneration": wl.generation});
        if total > 0 {
            status["replicas"] = json!(total);
        }
        if ready > 0 {
            status["availableReplicas"] = json!(ready);
            status["readyReplicas"] = json!(ready);
        }
        if updated > 0 {
            status["updatedReplicas"] = json!(updated);
        }
        if (total as i64) > ready {
            status["unavailableReplicas"] = json!(total as i64 - ready);
        }
        let available = ready >= wl.desired - wl.desired / 4;
        let avail_at = if available { first_ready } else { rollout };
        let available_cond = if available {
            json!({"message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable", "status": "True"})
        } else {
            json!({"message": "Deployment does not have minimum availability.", "reason": "MinimumReplicasUnavailable", "status": "False"})
        };
        let progressing = if wl.stuck {
            json!({
                "lastTransitionTime": rfc3339(rollout + 600),
                "lastUpdateTime": rfc3339(rollout + 600),
                "message": format!("ReplicaSet \"{newest}\" has timed out progressing."),
                "reason": "ProgressDeadlineExceeded",
                "status": "False",
                "type": "Progressing",
            })
        } else {
            json!({
                "lastTransitionTime": rfc3339(self.apps_created),
                "lastUpdateTime": rfc3339(first_ready),
                "message": format!("ReplicaSet \"{newest}\" has successfully progressed."),
                "reason": "NewReplicaSetAvailable",
                "status": "True",
                "type": "Progressing",
            })
        };
        let mut available_cond = available_cond;
        available_cond["lastTransitionTime"] = json!(rfc3339(avail_at));
        available_cond["lastUpdateTime"] = json!(rfc3339(avail_at));
        available_cond["type"] = json!("Available");
        status["conditions"] = json!([available_cond, progressing]);

        let template = wl
            .revisions
            .last()
            .map(|r| r.template.clone())
            .unwrap_or_default();
        dep_meta["annotations"] =
            json!({"deployment.kubernetes.io/revision": revisions.to_string()});
        dep_meta["generation"] = json!(wl.generation);
        dep_meta["labels"] = json!({"app": wl.app, "version": wl.version});
        self.push(
            "deployments",
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": dep_meta,
                "spec": k8s::deployment_spec(
                    wl.desired,
                    json!({"app": wl.app, "version": wl.version}),
                    template,
                ),
                "status": status,
            }),
        );

        // What the deployment controller said about the change that broke it.
        let scaling = match (revisions, wl.desired) {
            (2.., _) => Some(format!("Scaled up replica set {newest} from 0 to 1")),
            (_, 0) => Some(format!("Scaled down replica set {newest} from 1 to 0")),
            (_, 2) => Some(format!("Scaled up replica set {newest} from 1 to 2")),
            _ => None,
        };
        if let Some(message) = scaling {
            self.deployment_event(&dep, message, rollout);
        }
        self.deployments.push(dep);
        built
    }

    fn deployment_event(&mut self, dep: &Owned, message: String, at: i64) {
        self.scaled.insert(dep.name.clone());
        let about = dep.involved("apps/v1", "Deployment", self.name);
        self.controller_event(
            &about,
            "ScalingReplicaSet",
            message,
            at,
            "deployment-controller",
        );
    }

    /// An Event a controller recorded once (no node, no container).
    fn controller_event(
        &mut self,
        about: &Involved,
        reason: &'static str,
        message: String,
        at: i64,
        component: &'static str,
    ) {
        let text = EventText {
            reason,
            message,
            warning: false,
            count: 1,
            first: at,
            last: at,
            component,
            host: None,
            field_path: None,
        };
        let e = event_v1(&mut self.ctx, about, text);
        self.push("events", e);
    }

    fn all_pods(&self) -> Vec<PodInfo> {
        self.replicasets
            .iter()
            .flat_map(|r| r.pods.iter().cloned())
            .collect()
    }

    /// One EndpointSlice per Service: the pods its selector matches that have an IP.
    fn endpoint_slices(&mut self, services: &[(String, String, Map<String, Value>)]) {
        let pods = self.all_pods();
        for (svc, uid, selector) in services {
            let endpoints: Vec<Value> = pods
                .iter()
                .filter(|p| selector.iter().all(|(k, v)| p.labels.get(k) == Some(v)))
                .filter_map(|p| {
                    let ip = p.ip.as_ref()?;
                    let serving = p.state.serving();
                    Some(json!({
                        "addresses": [ip],
                        "conditions": {"ready": serving, "serving": serving, "terminating": false},
                        "nodeName": p.node,
                        "targetRef": {"kind": "Pod", "name": p.name, "namespace": self.name, "uid": p.uid},
                        "zone": p.zone,
                    }))
                })
                .collect();
            let name = format!("{svc}-{}", self.ctx.rng.suffix(5));
            let mut meta = self.meta(&name, self.apps_created);
            let changed = pods
                .iter()
                .map(|p| p.created)
                .max()
                .unwrap_or(self.apps_created)
                + 40;
            meta["annotations"] =
                json!({"endpoints.kubernetes.io/last-change-trigger-time": rfc3339(changed)});
            meta["generateName"] = json!(format!("{svc}-"));
            meta["generation"] = json!(1 + endpoints.len());
            meta["labels"] = json!({
                "app": svc,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                "kubernetes.io/service-name": svc,
                "service": svc,
            });
            meta["ownerReferences"] = owner_ref("v1", "Service", svc, uid);
            let endpoints = if endpoints.is_empty() {
                Value::Null
            } else {
                Value::Array(endpoints)
            };
            self.push(
                "endpointslices",
                json!({
                    "addressType": "IPv4",
                    "apiVersion": "discovery.k8s.io/v1",
                    "endpoints": endpoints,
                    "kind": "EndpointSlice",
                    "metadata": meta,
                    "ports": [{"name": "http", "port": 9080, "protocol": "TCP"}],
                }),
            );
        }
    }

    /// An Istio object applied with kubectl.
    fn istio_object(
        &mut self,
        stem: &'static str,
        api_version: &str,
        kind: &str,
        name: &str,
        spec: Value,
        generation: i64,
    ) {
        let manifest = json!({
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": name, "namespace": self.name},
            "spec": spec,
        });
        let mut meta = self.meta(name, self.apps_created + 10 * MINUTE);
        meta["annotations"] =
            json!({"kubectl.kubernetes.io/last-applied-configuration": last_applied(&manifest)});
        meta["generation"] = json!(generation);
        self.push(
            stem,
            json!({"apiVersion": api_version, "kind": kind, "metadata": meta, "spec": manifest["spec"].clone()}),
        );
    }

    /// VirtualServices, DestinationRules, the Gateway and the PeerAuthentication.
    fn istio(&mut self, failure: Option<Failure>) {
        const NET: &str = "networking.istio.io/v1";
        let route = |host: &str, subset: &str| json!({"hosts": [host], "http": [{"route": [{"destination": {"host": host, "subset": subset}}]}]});
        for svc in ["productpage", "reviews", "ratings", "details"] {
            let (spec, generation) = match (failure, svc) {
                (Some(Failure::SubsetNotFound), "reviews") => (route("reviews", "v3"), 2),
                (Some(Failure::SubsetNoPods), "reviews") => (
                    json!({"hosts": ["reviews"], "http": [{"route": [
                        {"destination": {"host": "reviews", "subset": "v1"}, "weight": 50},
                        {"destination": {"host": "reviews", "subset": "v3"}, "weight": 50}
                    ]}]}),
                    2,
                ),
                (Some(Failure::HostNotFound), "ratings") => (
                    json!({"hosts": ["ratings"], "http": [{
                        "route": [{"destination": {"host": "ratings-v1", "port": {"number": 9080}}}],
                        "timeout": "3s"
                    }]}),
                    3,
                ),
                (Some(Failure::FaultInjection), "ratings") => (
                    json!({"hosts": ["ratings"], "http": [{
                        "fault": {"abort": {"httpStatus": 500, "percentage": {"value": 100.0}}},
                        "route": [{"destination": {"host": "ratings", "subset": "v1"}}]
                    }]}),
                    2,
                ),
                _ => (route(svc, "v1"), 1),
            };
            self.istio_object(
                "virtualservices",
                NET,
                "VirtualService",
                svc,
                spec,
                generation,
            );
        }
        let gateway_vs = json!({
            "gateways": ["bookinfo-gateway"],
            "hosts": ["*"],
            "http": [{
                "match": [
                    {"uri": {"exact": "/productpage"}},
                    {"uri": {"prefix": "/static"}},
                    {"uri": {"exact": "/login"}},
                    {"uri": {"exact": "/logout"}},
                    {"uri": {"prefix": "/api/v1/products"}}
                ],
                "route": [{"destination": {"host": "productpage", "port": {"number": 9080}}}]
            }]
        });
        self.istio_object(
            "virtualservices",
            NET,
            "VirtualService",
            "bookinfo",
            gateway_vs,
            1,
        );
        for (host, subsets) in SUBSETS {
            let mut subsets: Vec<&str> = subsets.to_vec();
            let mut spec = json!({"host": host});
            let mut generation = 1;
            if failure == Some(Failure::SubsetNotFound) && host == "reviews" {
                subsets.retain(|s| *s != "v3");
                spec["trafficPolicy"] = json!({"loadBalancer": {"simple": "RANDOM"}});
                generation = 2;
            }
            spec["subsets"] = subsets
                .iter()
                .map(|s| json!({"labels": {"version": s}, "name": s}))
                .collect();
            self.istio_object(
                "destinationrules",
                NET,
                "DestinationRule",
                host,
                spec,
                generation,
            );
        }
        let gateway = json!({
            "selector": {"istio": "ingressgateway"},
            "servers": [{"hosts": ["*"], "port": {"name": "http", "number": 80, "protocol": "HTTP"}}]
        });
        self.istio_object("gateways", NET, "Gateway", "bookinfo-gateway", gateway, 1);
        let (mode, generation) = if failure == Some(Failure::MtlsStrict) {
            ("STRICT", 2)
        } else {
            ("PERMISSIVE", 1)
        };
        self.istio_object(
            "peerauthentications",
            "security.istio.io/v1",
            "PeerAuthentication",
            "default",
            json!({"mtls": {"mode": mode}}),
            generation,
        );
    }

    /// The Events about each pod, as its state would have produced them.
    fn pod_events(&mut self) {
        for p in self.all_pods() {
            self.events_for(&p);
        }
    }

    #[allow(clippy::too_many_arguments)] // NB: the fields of one Event.
    fn pod_event(
        &mut self,
        p: &PodInfo,
        reason: &'static str,
        message: String,
        warning: bool,
        count: u32,
        (first, last): (i64, i64),
        component: &'static str,
        container: Option<&str>,
    ) {
        let host = (component == "kubelet").then(|| p.node.clone().unwrap_or_default());
        // `istio-init` is the only init container a pod has (the injector's).
        let field_path = container.map(|c| {
            let list = if c == "istio-init" {
                "initContainers"
            } else {
                "containers"
            };
            format!("spec.{list}{{{c}}}")
        });
        let text = EventText {
            reason,
            message,
            warning,
            count,
            first,
            last,
            component,
            host: host.as_deref(),
            field_path,
        };
        let e = event_v1(&mut self.ctx, &Involved::pod(self.name, p), text);
        self.push("events", e);
    }

    /// The scheduler placing `p` when it was created.
    fn scheduled_event(&mut self, p: &PodInfo) {
        let node = p.node.as_deref().unwrap_or_default();
        let message = format!("Successfully assigned {}/{} to {node}", self.name, p.name);
        let t = p.created;
        self.pod_event(
            p,
            "Scheduled",
            message,
            false,
            1,
            (t, t),
            "default-scheduler",
            None,
        );
    }

    /// The kubelet starting container `c` of `p` from `image` (already on the node), `count`
    /// times: Pulled and Created over `created`, Started over `started`.
    fn start_events(
        &mut self,
        p: &PodInfo,
        (c, image): (&str, &str),
        count: u32,
        created: (i64, i64),
        started: (i64, i64),
    ) {
        for (reason, message) in start_messages(c, image) {
            let seen = if reason == "Started" {
                started
            } else {
                created
            };
            self.pod_event(p, reason, message, false, count, seen, "kubelet", Some(c));
        }
    }

    fn events_for(&mut self, p: &PodInfo) {
        let ns = self.name.to_string();
        let app = p.app_containers.first().cloned().unwrap_or_default();
        let image = p.images.first().cloned().unwrap_or_default();
        let c = Some(app.as_str());
        let t = p.created;
        match &p.state {
            PodState::Running | PodState::NotReady | PodState::OomRecovered { .. } => {
                let n = match p.state {
                    PodState::OomRecovered { restarts } => restarts + 1,
                    _ => 1,
                };
                let last = if n > 1 { NOW - 15 * MINUTE } else { t + 5 };
                self.scheduled_event(p);
                self.start_events(p, (&app, &image), n, (t + 4, last), (t + 5, last));
                if matches!(p.state, PodState::NotReady) {
                    self.unhealthy_event(p, &app);
                }
            }
            PodState::CrashLoop { restarts, .. } => {
                let k = "kubelet";
                let backoff = format!(
                    "Back-off restarting failed container {app} in pod {}_{ns}({})",
                    p.name, p.uid
                );
                let seen = (t + 5 * MINUTE, NOW - 2 * MINUTE);
                let pulls = restarts / 2 + 1;
                self.pod_event(p, "BackOff", backoff, true, restarts * 3, seen, k, c);
                self.start_events(p, (&app, &image), pulls, seen, seen);
                let path = format!("logs/{ns}/{}/{app}.log", p.name);
                self.logs.push((path, CRASH_LOG.to_string()));
            }
            PodState::ImagePull { .. } => {
                let k = "kubelet";
                let seen = (t + 1, NOW - 3 * MINUTE);
                let failed = format!(
                    "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found"
                );
                self.scheduled_event(p);
                self.pod_event(
                    p,
                    "Pulling",
                    format!("Pulling image \"{image}\""),
                    false,
                    14,
                    seen,
                    k,
                    c,
                );
                self.pod_event(p, "Failed", failed, true, 14, seen, k, c);
                self.pod_event(
                    p,
                    "Failed",
                    "Error: ErrImagePull".into(),
                    true,
                    14,
                    seen,
                    k,
                    c,
                );
                self.pod_event(
                    p,
                    "BackOff",
                    format!("Back-off pulling image \"{image}\""),
                    false,
                    221,
                    seen,
                    k,
                    c,
                );
                self.pod_event(
                    p,
                    "Failed",
                    "Error: ImagePullBackOff".into(),
                    true,
                    221,
                    seen,
                    k,
                    c,
                );
            }
            PodState::ConfigError { .. } => {
                let k = "kubelet";
                let seen = (t + 4, NOW - 2 * MINUTE);
                let failed = "Error: configmap \"details-settings\" not found".to_string();
                // The image is on the node: creating the container is what fails.
                let [(_, present), ..] = start_messages(&app, &image);
                self.scheduled_event(p);
                self.pod_event(p, "Pulled", present, false, 37, seen, k, c);
                self.pod_event(p, "Failed", failed, true, 37, seen, k, c);
            }
            PodState::Unschedulable { message } => {
                let seen = (t, NOW - 4 * MINUTE);
                self.pod_event(
                    p,
                    "FailedScheduling",
                    message.clone(),
                    true,
                    1,
                    seen,
                    "default-scheduler",
                    None,
                );
                self.pod_event(
                    p,
                    "NotTriggerScaleUp",
                    "pod didn't trigger scale-up: 1 max node group size reached".into(),
                    false,
                    108,
                    seen,
                    "cluster-autoscaler",
                    None,
                );
            }
        }
    }

    /// The kubelet's readiness-probe failures, through the events.k8s.io API.
    fn unhealthy_event(&mut self, p: &PodInfo, app: &str) {
        let node = p.node.clone().unwrap_or_default();
        let about = Involved::pod(self.name, p);
        let text = EventText {
            reason: "Unhealthy",
            message: "Readiness probe failed: HTTP probe failed with statuscode: 503".into(),
            warning: true,
            count: 240,
            first: p.created + 30,
            last: NOW - MINUTE,
            component: "kubelet",
            host: Some(&node),
            field_path: Some(format!("spec.containers{{{app}}}")),
        };
        let e = event_events_k8s_io(&mut self.ctx, &about, text);
        self.push("events.events.k8s.io", e);
    }

    /// `n` filler objects: first the kubelet's events about the sidecar containers of serving
    /// pods, the deployment and ReplicaSet controllers' events, then generated ConfigMaps.
    fn extras(&mut self, n: usize) {
        let mut left = n;
        let serving: Vec<PodInfo> = self
            .all_pods()
            .into_iter()
            .filter(|p| p.state.serving() && p.injected)
            .collect();
        'pods: for p in &serving {
            let t = p.created + 2;
            for c in ["istio-init", "istio-proxy"] {
                for (reason, message) in start_messages(c, k8s::PROXY_IMAGE) {
                    if left == 0 {
                        break 'pods;
                    }
                    left -= 1;
                    self.pod_event(p, reason, message, false, 1, (t, t), "kubelet", Some(c));
                }
            }
        }
        let deployments: Vec<Owned> = self
            .deployments
            .iter()
            .filter(|d| !self.scaled.contains(&d.name))
            .cloned()
            .collect();
        for d in deployments {
            if left == 0 {
                break;
            }
            left -= 1;
            let rs = self
                .replicasets
                .iter()
                .rev()
                .find(|r| r.deployment == d.name)
                .map(|r| r.owned.name.clone())
                .unwrap_or_default();
            self.deployment_event(
                &d,
                format!("Scaled up replica set {rs} from 0 to 1"),
                self.apps_created,
            );
        }
        let created: Vec<(Owned, PodInfo)> = self
            .replicasets
            .iter()
            .flat_map(|r| r.pods.iter().map(|p| (r.owned.clone(), p.clone())))
            .collect();
        for (rs, p) in created {
            if left == 0 {
                break;
            }
            left -= 1;
            let about = rs.involved("apps/v1", "ReplicaSet", self.name);
            let message = format!("Created pod: {}", p.name);
            self.controller_event(
                &about,
                "SuccessfulCreate",
                message,
                p.created,
                "replicaset-controller",
            );
        }
        let mut names = BTreeSet::new();
        while left > 0 {
            left -= 1;
            let app = SERVICES[self.ctx.rng.index(SERVICES.len())];
            let name = loop {
                let n = format!("{app}-config-{}", self.ctx.rng.suffix(10));
                if names.insert(n.clone()) {
                    break n;
                }
            };
            let at = self.apps_created + self.ctx.rng.range(0, 20 * DAY);
            let mut meta = self.meta(&name, at);
            meta["labels"] = smap(&[("app", app), ("app.kubernetes.io/part-of", "bookinfo")]);
            let level = ["info", "warn", "debug"][self.ctx.rng.index(3)];
            let settings = format!(
                "{{\n  \"service\": \"{app}\",\n  \"port\": 9080,\n  \"timeoutMs\": {},\n  \"retries\": {},\n  \"featureFlags\": {{\"newLayout\": {}, \"cacheRatings\": {}}}\n}}\n",
                250 * (1 + self.ctx.rng.below(8)),
                self.ctx.rng.below(4),
                self.ctx.rng.below(2) == 1,
                self.ctx.rng.below(2) == 1,
            );
            self.push(
                "configmaps",
                json!({
                    "apiVersion": "v1",
                    "data": {"LOG_LEVEL": level, "settings.json": settings},
                    "kind": "ConfigMap",
                    "metadata": meta,
                }),
            );
        }
    }
}
