//! Building blocks shared by every namespace: object metadata, the admission-time shape of a Pod
//! made from a pod template (service-account token volume, tolerations, the classic Istio
//! sidecar injection of 1.28: `istio-init`, `istio-proxy`, its volumes and probe rewrite), pod
//! statuses for each state the skills tell apart, and Events. Shapes are copied from the public
//! scenarios, which were printed by `kubectl get -o yaml` against Istio 1.28.2 on GKE.

use crate::emit::json_compact;
use crate::rng::Rng;
use crate::time::rfc3339;
use serde_json::{Map, Value, json};

/// The Istio release the sidecars come from.
pub const PROXY_IMAGE: &str = "docker.io/istio/proxyv2:1.28.2";
/// Its digest, as containerd reports it.
pub const PROXY_IMAGE_ID: &str = "docker.io/istio/proxyv2@sha256:3b8541a033c4b95d2fbc173b331ad926f9da57bc60944649a182fe7321665643";
/// What injection records on a pod (annotation `sidecar.istio.io/status`).
const SIDECAR_STATUS: &str = r#"{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}"#;

/// One node pods can run on.
#[derive(Debug, Clone)]
pub struct Node {
    /// `metadata.name`.
    pub name: String,
    /// Its InternalIP (a pod's `hostIP`).
    pub ip: String,
    /// `topology.kubernetes.io/zone`.
    pub zone: &'static str,
    /// The second and third octets of its pod CIDR `10.a.b.0/24`.
    pub cidr: (u32, u32),
}

/// Per-namespace generation state: the random stream and the resourceVersion counter.
#[derive(Debug)]
pub struct Ctx {
    /// This namespace's random stream.
    pub rng: Rng,
    rv: u64,
}

impl Ctx {
    /// A context whose resourceVersions start at `rv`.
    pub fn new(rng: Rng, rv: u64) -> Self {
        Self { rng, rv }
    }

    /// The next `metadata.resourceVersion` (strictly increasing, as etcd revisions are).
    pub fn rv(&mut self) -> String {
        self.rv += 1 + self.rng.below(40);
        self.rv.to_string()
    }

    /// A pod IP on `node`.
    pub fn pod_ip(&mut self, node: &Node) -> String {
        format!(
            "10.{}.{}.{}",
            node.cidr.0,
            node.cidr.1,
            2 + self.rng.below(252)
        )
    }

    /// A `containerd://…` container id.
    pub fn container_id(&mut self) -> String {
        format!("containerd://{}", self.rng.hex(64))
    }

    /// A Service address `<prefix>.x.y` (a cluster IP in `10.96`, a load balancer's public IP).
    pub fn service_ip(&mut self, prefix: &str) -> String {
        format!(
            "{prefix}.{}.{}",
            self.rng.below(256),
            1 + self.rng.below(254)
        )
    }

    /// `metadata` of a namespaced object as the API server stores it. Draws the
    /// resourceVersion before the uid: every later draw, and so the output's bytes, depend on it.
    pub fn meta(&mut self, ns: &str, name: &str, created: i64) -> Value {
        json!({
            "creationTimestamp": rfc3339(created),
            "name": name,
            "namespace": ns,
            "resourceVersion": self.rv(),
            "uid": self.rng.uid(),
        })
    }
}

/// A string map (labels, annotations, selectors) from pairs.
pub fn smap(pairs: &[(&str, &str)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert((*k).to_string(), Value::String((*v).to_string()));
    }
    Value::Object(m)
}

/// A Namespace object: `labels` plus the `kubernetes.io/metadata.name` label the API server adds.
pub fn namespace(ctx: &mut Ctx, name: &str, labels: &[(&str, &str)], created: i64) -> Value {
    let mut labels = smap(labels);
    labels["kubernetes.io/metadata.name"] = json!(name);
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "creationTimestamp": rfc3339(created),
            "labels": labels,
            "name": name,
            "resourceVersion": ctx.rv(),
            "uid": ctx.rng.uid(),
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    })
}

/// The `kube-root-ca.crt` ConfigMap the root CA publisher puts in every namespace.
pub fn kube_root_ca(ctx: &mut Ctx, ns: &str, created: i64, ca: &str) -> Value {
    let mut meta = ctx.meta(ns, "kube-root-ca.crt", created);
    meta["annotations"] = smap(&[(
        "kubernetes.io/description",
        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.",
    )]);
    json!({"apiVersion": "v1", "data": {"ca.crt": ca}, "kind": "ConfigMap", "metadata": meta})
}

/// The `istio-ca-root-cert` ConfigMap istiod writes into each namespace it serves.
pub fn istio_ca_root_cert(ctx: &mut Ctx, ns: &str, created: i64, ca: &str) -> Value {
    let mut meta = ctx.meta(ns, "istio-ca-root-cert", created);
    meta["labels"] = smap(&[("istio.io/config", "true")]);
    json!({"apiVersion": "v1", "data": {"root-cert.pem": ca}, "kind": "ConfigMap", "metadata": meta})
}

/// A pod template with the `pod-template-hash` label its ReplicaSet adds.
pub fn hashed(template: &Value, hash: &str) -> Value {
    let mut t = template.clone();
    t["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    t
}

/// A `ClusterIP` Service's `spec` with the defaults the API server fills in.
pub fn service_spec(ip: &str, ports: Value, selector: Value) -> Value {
    json!({
        "clusterIP": ip,
        "clusterIPs": [ip],
        "internalTrafficPolicy": "Cluster",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "ports": ports,
        "selector": selector,
        "sessionAffinity": "None",
        "type": "ClusterIP",
    })
}

/// A Deployment's `spec` with the defaults the API server fills in.
pub fn deployment_spec(replicas: i64, selector: Value, template: Value) -> Value {
    json!({
        "progressDeadlineSeconds": 600,
        "replicas": replicas,
        "revisionHistoryLimit": 10,
        "selector": {"matchLabels": selector},
        "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}, "type": "RollingUpdate"},
        "template": template,
    })
}

/// `kubectl.kubernetes.io/last-applied-configuration` for a manifest applied with kubectl: the
/// manifest as compact JSON, keys sorted, `annotations: {}` as kubectl records it.
pub fn last_applied(manifest: &Value) -> String {
    let mut m = manifest.clone();
    if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.entry("annotations").or_insert_with(|| json!({}));
    }
    format!("{}\n", json_compact(&m))
}

/// An owner reference with `controller: true`, as controllers set them.
pub fn owner_ref(api_version: &str, kind: &str, name: &str, uid: &str) -> Value {
    json!([{
        "apiVersion": api_version,
        "blockOwnerDeletion": true,
        "controller": true,
        "kind": kind,
        "name": name,
        "uid": uid,
    }])
}

/// The projected service-account token volume every pod gets at admission.
fn token_volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}], "name": "kube-root-ca.crt"}},
                {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}, "path": "namespace"}]}}
            ]
        }
    })
}

fn token_mount(name: &str) -> Value {
    json!({"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": name, "readOnly": true})
}

/// The volumes injection adds, in the order Istio 1.28 writes them (the gateway has them too).
pub fn istio_volumes() -> Vec<Value> {
    vec![
        json!({"emptyDir": {}, "name": "workload-socket"}),
        json!({"emptyDir": {}, "name": "credential-socket"}),
        json!({"emptyDir": {}, "name": "workload-certs"}),
        json!({"emptyDir": {"medium": "Memory"}, "name": "istio-envoy"}),
        json!({"emptyDir": {}, "name": "istio-data"}),
        json!({
            "downwardAPI": {"defaultMode": 420, "items": [
                {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}, "path": "labels"},
                {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}, "path": "annotations"}
            ]},
            "name": "istio-podinfo"
        }),
        json!({
            "name": "istio-token",
            "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}
            ]}
        }),
        json!({"configMap": {"defaultMode": 420, "name": "istio-ca-root-cert"}, "name": "istiod-ca-cert"}),
    ]
}

/// The proxy's own mounts (sidecar and gateway alike).
pub fn proxy_mounts() -> Vec<Value> {
    [
        ("/var/run/secrets/workload-spiffe-uds", "workload-socket"),
        ("/var/run/secrets/credential-uds", "credential-socket"),
        (
            "/var/run/secrets/workload-spiffe-credentials",
            "workload-certs",
        ),
        ("/var/run/secrets/istio", "istiod-ca-cert"),
        ("/var/lib/istio/data", "istio-data"),
        ("/etc/istio/proxy", "istio-envoy"),
        ("/var/run/secrets/tokens", "istio-token"),
        ("/etc/istio/pod", "istio-podinfo"),
    ]
    .iter()
    .map(|(p, n)| json!({"mountPath": p, "name": n}))
    .collect()
}

fn field_env(name: &str, path: &str) -> Value {
    json!({"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}})
}

fn resource_env(name: &str, resource: &str) -> Value {
    json!({"name": name, "valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": resource}}})
}

fn value_env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// What differs between a sidecar and a gateway proxy.
#[derive(Debug)]
pub enum Proxy<'a> {
    /// An injected sidecar next to the app containers.
    Sidecar {
        /// The app containers' ports (for `ISTIO_META_POD_PORTS`).
        ports: &'a [Value],
        /// The app containers' names.
        apps: &'a str,
        /// The rewritten app probes (`ISTIO_KUBE_APP_PROBERS`), if any.
        probers: Option<String>,
    },
    /// The ingress gateway's router.
    Router,
}

/// The `istio-proxy` container of workload `workload` (a Deployment) in `ns`.
pub fn proxy_container(proxy: &Proxy, workload: &str, ns: &str) -> Value {
    let sidecar = matches!(proxy, Proxy::Sidecar { .. });
    let mut env = vec![
        value_env("PILOT_CERT_PROVIDER", "istiod"),
        value_env("CA_ADDR", "istiod.istio-system.svc:15012"),
        field_env("POD_NAME", "metadata.name"),
        field_env("POD_NAMESPACE", "metadata.namespace"),
        field_env("INSTANCE_IP", "status.podIP"),
        field_env("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        field_env("HOST_IP", "status.hostIP"),
        resource_env("ISTIO_CPU_LIMIT", "limits.cpu"),
        value_env("PROXY_CONFIG", "{}\n"),
    ];
    if let Proxy::Sidecar { ports, apps, .. } = proxy {
        let lines: Vec<String> = ports.iter().map(json_compact).collect();
        env.push(value_env(
            "ISTIO_META_POD_PORTS",
            &format!("[\n    {}\n]", lines.join(",\n    ")),
        ));
        env.push(value_env("ISTIO_META_APP_CONTAINERS", apps));
    }
    env.extend([
        resource_env("GOMEMLIMIT", "limits.memory"),
        resource_env("GOMAXPROCS", "limits.cpu"),
        value_env("ISTIO_META_CLUSTER_ID", "Kubernetes"),
        field_env("ISTIO_META_NODE_NAME", "spec.nodeName"),
        value_env("ISTIO_META_INTERCEPTION_MODE", "REDIRECT"),
        value_env("ISTIO_META_WORKLOAD_NAME", workload),
        value_env(
            "ISTIO_META_OWNER",
            &format!("kubernetes://apis/apps/v1/namespaces/{ns}/deployments/{workload}"),
        ),
        value_env("ISTIO_META_MESH_ID", "cluster.local"),
        value_env("TRUST_DOMAIN", "cluster.local"),
    ]);
    if let Proxy::Sidecar {
        probers: Some(p), ..
    } = proxy
    {
        env.push(value_env("ISTIO_KUBE_APP_PROBERS", p));
    }
    let ports = if sidecar {
        json!([{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}])
    } else {
        json!([
            {"containerPort": 15021, "protocol": "TCP"},
            {"containerPort": 8080, "protocol": "TCP"},
            {"containerPort": 8443, "protocol": "TCP"},
            {"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}
        ])
    };
    let ready = json!({
        "failureThreshold": 4,
        "httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
        "periodSeconds": 15,
        "successThreshold": 1,
        "timeoutSeconds": 3
    });
    let mut c = json!({
        "args": ["proxy", if sidecar { "sidecar" } else { "router" }, "--domain", "$(POD_NAMESPACE).svc.cluster.local",
                 "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
        "env": env,
        "image": PROXY_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "name": "istio-proxy",
        "ports": ports,
        "readinessProbe": ready,
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]},
            "privileged": false,
            "readOnlyRootFilesystem": true,
            "runAsGroup": 1337,
            "runAsNonRoot": true,
            "runAsUser": 1337
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": proxy_mounts(),
    });
    if sidecar {
        c["startupProbe"] = json!({
            "failureThreshold": 600,
            "httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
            "periodSeconds": 1,
            "successThreshold": 1,
            "timeoutSeconds": 3
        });
    }
    c
}

/// The `istio-init` init container that sets up the iptables redirect.
fn istio_init() -> Value {
    json!({
        "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*",
                 "-x", "", "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"],
        "image": PROXY_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "name": "istio-init",
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
            "privileged": false,
            "readOnlyRootFilesystem": false,
            "runAsGroup": 0,
            "runAsNonRoot": false,
            "runAsUser": 0
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    })
}

/// What a pod's containers are doing, in the states the workload rules tell apart.
#[derive(Debug, Clone)]
pub enum PodState {
    /// Scheduled, all containers running and ready.
    Running,
    /// The app container exits and is waiting in `CrashLoopBackOff`.
    CrashLoop {
        /// `restartCount`.
        restarts: u32,
        /// The last exit code.
        exit_code: i64,
    },
    /// The app container's image cannot be pulled (`ImagePullBackOff`).
    ImagePull {
        /// The `state.waiting.message`.
        message: String,
    },
    /// The app container cannot be created: a ConfigMap or Secret it needs is missing.
    ConfigError {
        /// The `state.waiting.message`, e.g. `configmap "x" not found`.
        message: String,
    },
    /// Not scheduled: `PodScheduled=False`, reason `Unschedulable`.
    Unschedulable {
        /// The scheduler's message.
        message: String,
    },
    /// Running and ready again after the app container was OOMKilled.
    OomRecovered {
        /// `restartCount`.
        restarts: u32,
    },
    /// Running, but the app container's readiness probe fails.
    NotReady,
}

impl PodState {
    /// Running, ready and serving.
    pub fn serving(&self) -> bool {
        matches!(self, Self::Running | Self::OomRecovered { .. })
    }

    fn scheduled(&self) -> bool {
        !matches!(self, Self::Unschedulable { .. })
    }
}

/// Everything a pod is made from.
#[derive(Debug)]
pub struct PodInput<'a> {
    /// Namespace.
    pub ns: &'a str,
    /// The ReplicaSet's name (the pod's `generateName` prefix) and uid.
    pub rs: (&'a str, &'a str),
    /// The owning Deployment (the sidecar's workload name).
    pub workload: &'a str,
    /// The ReplicaSet's pod template (`metadata` and `spec`, with `pod-template-hash`).
    pub template: &'a Value,
    /// Whether the sidecar injector mutated it.
    pub injected: bool,
    /// The node it runs on (ignored when unschedulable).
    pub node: &'a Node,
    /// When it was created.
    pub created: i64,
    /// What its containers are doing.
    pub state: PodState,
}

/// What the rest of the namespace needs to know about a pod.
#[derive(Debug, Clone)]
pub struct PodInfo {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`.
    pub uid: String,
    /// `metadata.resourceVersion`.
    pub rv: String,
    /// `metadata.labels` (without the injector's).
    pub labels: Map<String, Value>,
    /// `status.podIP`, when it has one.
    pub ip: Option<String>,
    /// Its node's name, when scheduled.
    pub node: Option<String>,
    /// Its node's zone.
    pub zone: &'static str,
    /// Its state.
    pub state: PodState,
    /// App container names (not the sidecar).
    pub app_containers: Vec<String>,
    /// App container images, in container order.
    pub images: Vec<String>,
    /// Whether it has the sidecar.
    pub injected: bool,
    /// When it was created.
    pub created: i64,
}

/// The image digest containerd reports for an image we know (`imageID`).
pub fn image_id(image: &str) -> String {
    let digest = match image {
        PROXY_IMAGE => return PROXY_IMAGE_ID.to_string(),
        i if i.contains("details-v1") => {
            "8175e60ea651ec99b94f06f405eef4aa341642f160bf2cb735f6d776b82167d1"
        }
        i if i.contains("ratings-v1") => {
            "bbf990832d1feae0920771870e980755e7e7efa96ca13ac3f8f3039df5b50300"
        }
        i if i.contains("reviews-v1") => {
            "fe8e8b99f41b14fccf94d767798d65a3ec9ae5f161763d6b2f9ba21c21d79078"
        }
        i if i.contains("reviews-v2") => {
            "d7e6b6b2770657db09f62bd52c85163078bffcf1f397b50be2441d40cebd7c6f"
        }
        i if i.contains("reviews-v3") => {
            "0f78554e5384c3ae6d251bd1794efdf15a69a1b9c6fc6d6740736984872c07e2"
        }
        i if i.contains("productpage-v1") => {
            "1c8820a77e651f319dac104f8ad3a0951ddbe4fda53ce8d791bc14cbee448dd3"
        }
        "docker.io/istio/pilot:1.28.2" => {
            "1d7311cb0055e71c41f895f8db57bd9b2b217f3ce7fdc3b4fa0904032d288088"
        }
        _ => "0000000000000000000000000000000000000000000000000000000000000000",
    };
    let repo = image.rsplit_once(':').map_or(image, |(r, _)| r);
    format!("{repo}@sha256:{digest}")
}

fn condition(type_: &str, status: bool, at: i64, reason: Option<(&str, &str)>) -> Value {
    let mut c = json!({
        "lastProbeTime": null,
        "lastTransitionTime": rfc3339(at),
        "status": if status { "True" } else { "False" },
        "type": type_,
    });
    if let Some((reason, message)) = reason {
        c["reason"] = json!(reason);
        if !message.is_empty() {
            c["message"] = json!(message);
        }
    }
    c
}

/// Builds a pod from its ReplicaSet's template as the API server stores it after admission
/// (and injection), with a status for its state. Returns the object and what others need.
pub fn pod(ctx: &mut Ctx, input: PodInput) -> (Value, PodInfo) {
    let PodInput {
        ns,
        rs,
        workload,
        template,
        injected,
        node,
        created,
        state,
    } = input;
    let name = format!("{}-{}", rs.0, ctx.rng.suffix(5));
    let uid = ctx.rng.uid();
    let token = format!("kube-api-access-{}", ctx.rng.suffix(5));
    let tmeta = template.get("metadata").cloned().unwrap_or_default();
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    let base_labels: Map<String, Value> = tmeta
        .get("labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let app = base_labels
        .get("app")
        .and_then(Value::as_str)
        .unwrap_or(workload)
        .to_string();
    let version = base_labels
        .get("version")
        .and_then(Value::as_str)
        .unwrap_or("latest")
        .to_string();

    // Admission: the token mount in every container, the token volume, defaults.
    let mut app_names = Vec::new();
    let mut images = Vec::new();
    let mut ports = Vec::new();
    let mut probers = Map::new();
    if let Some(containers) = spec.get_mut("containers").and_then(Value::as_array_mut) {
        for c in containers.iter_mut() {
            let cname = c["name"].as_str().unwrap_or_default().to_string();
            app_names.push(cname.clone());
            images.push(c["image"].as_str().unwrap_or_default().to_string());
            if let Some(p) = c.get("ports").and_then(Value::as_array) {
                ports.extend(p.iter().cloned());
            }
            match c.get_mut("volumeMounts").and_then(Value::as_array_mut) {
                Some(m) => m.push(token_mount(&token)),
                None => c["volumeMounts"] = json!([token_mount(&token)]),
            }
            // Injection rewrites HTTP probes to the agent's port, keeping the original for it.
            if injected && let Some(probe) = c.get_mut("readinessProbe") {
                let path = format!("/app-health/{cname}/readyz");
                probers.insert(
                    path.clone(),
                    json!({"httpGet": probe.get("httpGet").cloned().unwrap_or_default(),
                           "timeoutSeconds": probe.get("timeoutSeconds").cloned().unwrap_or(json!(1))}),
                );
                probe["httpGet"] = json!({"path": path, "port": 15020, "scheme": "HTTP"});
            }
        }
    }
    let mut volumes: Vec<Value> = Vec::new();
    if injected {
        volumes.extend(istio_volumes());
    }
    if let Some(v) = spec.get("volumes").and_then(Value::as_array) {
        volumes.extend(v.iter().cloned());
    }
    volumes.push(token_volume(&token));
    if injected {
        let mut proxy = proxy_container(
            &Proxy::Sidecar {
                ports: &ports,
                apps: &app_names.join(","),
                probers: (!probers.is_empty()).then(|| json_compact(&Value::Object(probers))),
            },
            workload,
            ns,
        );
        if let Some(m) = proxy["volumeMounts"].as_array_mut() {
            m.push(token_mount(&token));
        }
        if let Some(c) = spec["containers"].as_array_mut() {
            c.push(proxy);
        }
        let mut init = istio_init();
        init["volumeMounts"] = json!([token_mount(&token)]);
        spec["initContainers"] = json!([init]);
    }
    spec["volumes"] = Value::Array(volumes);
    spec["enableServiceLinks"] = json!(true);
    spec["preemptionPolicy"] = json!("PreemptLowerPriority");
    spec["priority"] = json!(0);
    spec["tolerations"] = json!([
        {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
        {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
    ]);
    if state.scheduled() {
        spec["nodeName"] = json!(node.name);
    }

    let mut labels = base_labels.clone();
    let mut annotations: Map<String, Value> = tmeta
        .get("annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if injected {
        labels.insert("security.istio.io/tlsMode".into(), json!("istio"));
        labels.insert("service.istio.io/canonical-name".into(), json!(app));
        labels.insert("service.istio.io/canonical-revision".into(), json!(version));
        let first = app_names.first().cloned().unwrap_or_default();
        for (k, v) in [
            ("istio.io/rev", "default"),
            ("kubectl.kubernetes.io/default-container", first.as_str()),
            (
                "kubectl.kubernetes.io/default-logs-container",
                first.as_str(),
            ),
            ("prometheus.io/path", "/stats/prometheus"),
            ("prometheus.io/port", "15020"),
            ("prometheus.io/scrape", "true"),
            ("sidecar.istio.io/status", SIDECAR_STATUS),
        ] {
            annotations.insert(k.into(), json!(v));
        }
    }
    let rv = ctx.rv();
    let mut meta = json!({
        "creationTimestamp": rfc3339(created),
        "generateName": format!("{}-", rs.0),
        "labels": labels,
        "name": name,
        "namespace": ns,
        "ownerReferences": owner_ref("apps/v1", "ReplicaSet", rs.0, rs.1),
        "resourceVersion": rv,
        "uid": uid,
    });
    if !annotations.is_empty() {
        meta["annotations"] = Value::Object(annotations);
    }

    let ip = state.scheduled().then(|| ctx.pod_ip(node));
    let status = pod_status(
        ctx,
        &spec,
        &state,
        created,
        node,
        ip.as_deref(),
        &name,
        ns,
        &uid,
    );
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": spec,
        "status": status,
    });
    let info = PodInfo {
        name,
        uid,
        rv,
        labels: base_labels,
        ip,
        node: state.scheduled().then(|| node.name.clone()),
        zone: node.zone,
        state,
        app_containers: app_names,
        images,
        injected,
        created,
    };
    (pod, info)
}

/// Whether a container's resources make the pod Burstable rather than BestEffort.
fn has_resources(c: &Value) -> bool {
    c.get("resources")
        .and_then(Value::as_object)
        .is_some_and(|r| !r.is_empty())
}

#[allow(clippy::too_many_arguments)] // NB: each is a distinct fact of the pod being described.
fn pod_status(
    ctx: &mut Ctx,
    spec: &Value,
    state: &PodState,
    created: i64,
    node: &Node,
    ip: Option<&str>,
    name: &str,
    ns: &str,
    uid: &str,
) -> Value {
    let containers: Vec<Value> = spec["containers"].as_array().cloned().unwrap_or_default();
    let inits: Vec<Value> = spec
        .get("initContainers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let qos = if containers.iter().chain(&inits).any(has_resources) {
        "Burstable"
    } else {
        "BestEffort"
    };
    if let PodState::Unschedulable { message } = state {
        return json!({
            "conditions": [condition("PodScheduled", false, created, Some(("Unschedulable", message)))],
            "phase": "Pending",
            "qosClass": qos,
        });
    }
    let started = created + 1;
    let init_done = created + 3 + i64::try_from(ctx.rng.below(3)).unwrap_or(0);
    let run_at = init_done + 2;
    let ready_at = run_at + 20 + i64::try_from(ctx.rng.below(15)).unwrap_or(0);
    let app = containers
        .first()
        .and_then(|c| c["name"].as_str())
        .unwrap_or_default()
        .to_string();
    let unready = |why: &str| -> Option<(String, String)> {
        Some((
            "ContainersNotReady".into(),
            format!("containers with unready status: [{why}]"),
        ))
    };
    let not_ready: Option<(String, String)> = match state {
        PodState::Running | PodState::OomRecovered { .. } | PodState::Unschedulable { .. } => None,
        _ => unready(&app),
    };
    let mut statuses = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let cname = c["name"].as_str().unwrap_or_default();
        let image = c["image"].as_str().unwrap_or_default();
        let is_app = i == 0;
        let mut s = json!({
            "containerID": ctx.container_id(),
            "image": image,
            "imageID": image_id(image),
            "lastState": {},
            "name": cname,
            "ready": true,
            "restartCount": 0,
            "started": true,
            "state": {"running": {"startedAt": rfc3339(run_at)}},
        });
        if let Some(m) = c.get("volumeMounts") {
            s["volumeMounts"] = m.clone();
        }
        if is_app {
            match state {
                PodState::CrashLoop {
                    restarts,
                    exit_code,
                } => {
                    let finished =
                        crate::time::NOW - 60 - i64::try_from(ctx.rng.below(240)).unwrap_or(0);
                    s["lastState"] = json!({"terminated": {
                        "containerID": s["containerID"].clone(),
                        "exitCode": exit_code,
                        "finishedAt": rfc3339(finished),
                        "reason": "Error",
                        "startedAt": rfc3339(finished - 4),
                    }});
                    s["ready"] = json!(false);
                    s["restartCount"] = json!(restarts);
                    s["started"] = json!(false);
                    s["state"] = json!({"waiting": {
                        "message": format!("back-off 5m0s restarting failed container={cname} pod={name}_{ns}({uid})"),
                        "reason": "CrashLoopBackOff",
                    }});
                }
                PodState::ImagePull { message } => {
                    s.as_object_mut().map(|m| m.remove("containerID"));
                    s["imageID"] = json!("");
                    s["ready"] = json!(false);
                    s["started"] = json!(false);
                    s["state"] =
                        json!({"waiting": {"message": message, "reason": "ImagePullBackOff"}});
                }
                PodState::ConfigError { message } => {
                    s.as_object_mut().map(|m| m.remove("containerID"));
                    s["imageID"] = json!("");
                    s["ready"] = json!(false);
                    s["started"] = json!(false);
                    s["state"] = json!({"waiting": {"message": message, "reason": "CreateContainerConfigError"}});
                }
                PodState::OomRecovered { restarts } => {
                    let finished =
                        crate::time::NOW - 600 - i64::try_from(ctx.rng.below(3_000)).unwrap_or(0);
                    s["lastState"] = json!({"terminated": {
                        "containerID": ctx.container_id(),
                        "exitCode": 137,
                        "finishedAt": rfc3339(finished),
                        "reason": "OOMKilled",
                        "startedAt": rfc3339(finished - 1_800),
                    }});
                    s["restartCount"] = json!(restarts);
                    s["state"] = json!({"running": {"startedAt": rfc3339(finished + 1)}});
                }
                PodState::NotReady => {
                    s["ready"] = json!(false);
                }
                PodState::Running | PodState::Unschedulable { .. } => {}
            }
        }
        statuses.push(s);
    }
    let init_statuses: Vec<Value> = inits
        .iter()
        .map(|c| {
            let id = ctx.container_id();
            let image = c["image"].as_str().unwrap_or_default();
            let mut s = json!({
                "containerID": id,
                "image": image,
                "imageID": image_id(image),
                "lastState": {},
                "name": c["name"].clone(),
                "ready": true,
                "restartCount": 0,
                "started": false,
                "state": {"terminated": {
                    "containerID": id,
                    "exitCode": 0,
                    "finishedAt": rfc3339(init_done),
                    "reason": "Completed",
                    "startedAt": rfc3339(init_done - 1),
                }},
            });
            if let Some(m) = c.get("volumeMounts") {
                s["volumeMounts"] = m.clone();
            }
            s
        })
        .collect();
    let ready_reason = not_ready.as_ref().map(|(r, m)| (r.as_str(), m.as_str()));
    let ready_time = if not_ready.is_some() {
        run_at
    } else {
        ready_at
    };
    let phase = match state {
        PodState::ImagePull { .. } | PodState::ConfigError { .. } => "Pending",
        _ => "Running",
    };
    let mut status = json!({
        "conditions": [
            condition("PodReadyToStartContainers", true, init_done - 1, None),
            condition("Initialized", true, init_done, None),
            condition("Ready", not_ready.is_none(), ready_time, ready_reason),
            condition("ContainersReady", not_ready.is_none(), ready_time, ready_reason),
            condition("PodScheduled", true, created, None),
        ],
        "containerStatuses": statuses,
        "hostIP": node.ip,
        "hostIPs": [{"ip": node.ip}],
        "phase": phase,
        "qosClass": qos,
        "startTime": rfc3339(started),
    });
    if let Some(ip) = ip {
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
    }
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = Value::Array(init_statuses);
    }
    status
}

/// The object an Event is about.
#[derive(Debug, Clone)]
pub struct Involved<'a> {
    /// `apiVersion`.
    pub api_version: &'a str,
    /// `kind`.
    pub kind: &'a str,
    /// `name`.
    pub name: &'a str,
    /// `namespace`.
    pub namespace: &'a str,
    /// `uid`.
    pub uid: &'a str,
    /// `resourceVersion`.
    pub rv: &'a str,
}

/// What happened, by whom, how often.
#[derive(Debug, Clone)]
pub struct EventText<'a> {
    /// `reason`.
    pub reason: &'a str,
    /// `message`.
    pub message: String,
    /// `Normal` or `Warning`.
    pub warning: bool,
    /// `count`.
    pub count: u32,
    /// `firstTimestamp`.
    pub first: i64,
    /// `lastTimestamp`.
    pub last: i64,
    /// `source.component` / `reportingComponent`.
    pub component: &'a str,
    /// `source.host` / `reportingInstance` (kubelet events).
    pub host: Option<&'a str>,
    /// `involvedObject.fieldPath`, e.g. `spec.containers{reviews}`.
    pub field_path: Option<String>,
}

impl<'a> Involved<'a> {
    /// The pod `p` in `namespace`.
    pub fn pod(namespace: &'a str, p: &'a PodInfo) -> Self {
        Self {
            api_version: "v1",
            kind: "Pod",
            name: &p.name,
            namespace,
            uid: &p.uid,
            rv: &p.rv,
        }
    }

    /// The object reference both Event APIs carry (`involvedObject`, `regarding`).
    fn reference(&self, field_path: Option<&str>) -> Value {
        let mut r = json!({
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "namespace": self.namespace,
            "resourceVersion": self.rv,
            "uid": self.uid,
        });
        if let Some(f) = field_path {
            r["fieldPath"] = json!(f);
        }
        r
    }
}

/// An Event's `metadata`, named after the object it is about as the recorders name them. The
/// name's suffix is drawn before the resourceVersion and uid, as the generated bytes require.
fn event_meta(ctx: &mut Ctx, about: &Involved, created: i64) -> Value {
    let name = format!("{}.{}", about.name, ctx.rng.hex(16));
    ctx.meta(about.namespace, &name, created)
}

/// A core `v1` Event, as `kubectl get events -o yaml` prints it.
pub fn event_v1(ctx: &mut Ctx, about: &Involved, e: EventText) -> Value {
    let involved = about.reference(e.field_path.as_deref());
    let mut source = json!({"component": e.component});
    if let Some(h) = e.host {
        source["host"] = json!(h);
    }
    json!({
        "apiVersion": "v1",
        "count": e.count,
        "eventTime": null,
        "firstTimestamp": rfc3339(e.first),
        "involvedObject": involved,
        "kind": "Event",
        "lastTimestamp": rfc3339(e.last),
        "message": e.message,
        "metadata": event_meta(ctx, about, e.first),
        "reason": e.reason,
        "reportingComponent": e.component,
        "reportingInstance": e.host.unwrap_or(""),
        "source": source,
        "type": if e.warning { "Warning" } else { "Normal" },
    })
}

/// An `events.k8s.io/v1` Event (the newer API kubelet writes through), for the same facts.
pub fn event_events_k8s_io(ctx: &mut Ctx, about: &Involved, e: EventText) -> Value {
    let regarding = about.reference(e.field_path.as_deref());
    json!({
        "action": "Probing",
        "apiVersion": "events.k8s.io/v1",
        "eventTime": crate::time::micro(e.first),
        "kind": "Event",
        "metadata": event_meta(ctx, about, e.first),
        "note": e.message,
        "reason": e.reason,
        "regarding": regarding,
        "reportingController": e.component,
        "reportingInstance": e.host.unwrap_or(""),
        "series": {"count": e.count, "lastObservedTime": crate::time::micro(e.last)},
        "type": if e.warning { "Warning" } else { "Normal" },
    })
}

/// A fake but well-formed PEM certificate (base64 body in 64-column lines), the size of a real
/// cluster CA, for `kube-root-ca.crt` and `istio-ca-root-cert`.
pub fn pem(ctx: &mut Ctx) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for _ in 0..17 {
        s.push_str(&ctx.rng.chars(B64, 64));
        s.push('\n');
    }
    s.push_str(&ctx.rng.chars(B64, 40));
    s.push_str("==\n-----END CERTIFICATE-----\n");
    s
}
