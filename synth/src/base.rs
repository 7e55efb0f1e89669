//! What every generated cluster has besides its Bookinfo namespaces: the Nodes (one per four
//! namespaces, a GKE pool across three zones), the system namespaces, Istio's control plane and
//! ingress gateway in `istio-system`, and Config Sync in `config-management-system` with the
//! RootSync — broken with KNV2009 (its reconciler may not patch the Gateway of one Bookinfo
//! namespace), exactly as the public `rootsync-knv2009-forbidden` scenario.

use crate::Target;
use crate::k8s::{
    self, Ctx, Node, PodInfo, PodInput, PodState, Proxy, owner_ref, pod, proxy_container, smap,
};
use crate::rng::Rng;
use crate::time::{DAY, HOUR, MINUTE, NOW, rfc3339};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Random streams of the cluster-level parts (namespaces use their index as stream).
const NODES_STREAM: u64 = u64::MAX - 2;
const BASE_STREAM: u64 = u64::MAX - 3;
const CA_STREAM: u64 = u64::MAX - 4;

/// How many nodes a cluster with `namespaces` Bookinfo namespaces (six pods each) has.
pub fn nodes_for(namespaces: usize) -> usize {
    namespaces.div_ceil(4).max(3)
}

/// The cluster's CA bundle (what `kube-root-ca.crt` and `istio-ca-root-cert` hold).
pub fn ca(seed: u64) -> String {
    k8s::pem(&mut Ctx::new(Rng::stream(seed, CA_STREAM), 0))
}

/// `count` nodes: their facts for scheduling pods, and the Node objects.
pub fn nodes(seed: u64, count: usize) -> (Vec<Node>, Vec<Value>) {
    const ZONES: [&str; 3] = ["europe-west1-b", "europe-west1-c", "europe-west1-d"];
    let mut ctx = Ctx::new(Rng::stream(seed, NODES_STREAM), 1_000_000);
    let pools: Vec<String> = ZONES.iter().map(|_| ctx.rng.hex(8)).collect();
    let created = NOW - 12 * DAY - ctx.rng.range(0, DAY);
    let mut names = BTreeSet::new();
    let mut facts = Vec::with_capacity(count);
    let mut objects = Vec::with_capacity(count);
    for i in 0..count {
        let zone = ZONES[i % 3];
        let name = loop {
            let n = format!(
                "gke-prod-eu1-default-pool-{}-{}",
                pools[i % 3],
                ctx.rng.suffix(4)
            );
            if names.insert(n.clone()) {
                break n;
            }
        };
        let ip = format!("10.132.{}.{}", i / 250, i % 250 + 2);
        let cidr = (52 + (i / 256) as u32, (i % 256) as u32);
        let heartbeat = rfc3339(NOW - ctx.rng.range(0, 60));
        let since = rfc3339(created);
        let cond = |type_: &str, status: &str, reason: &str, message: &str| {
            json!({
                "lastHeartbeatTime": heartbeat,
                "lastTransitionTime": since,
                "message": message,
                "reason": reason,
                "status": status,
                "type": type_,
            })
        };
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "annotations": {
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                },
                "creationTimestamp": rfc3339(created + ctx.rng.range(0, HOUR)),
                "labels": {
                    "beta.kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/instance-type": "e2-standard-8",
                    "beta.kubernetes.io/os": "linux",
                    "cloud.google.com/gke-nodepool": "default-pool",
                    "cloud.google.com/gke-os-distribution": "cos",
                    "cloud.google.com/machine-family": "e2",
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "node.kubernetes.io/instance-type": "e2-standard-8",
                    "topology.kubernetes.io/region": "europe-west1",
                    "topology.kubernetes.io/zone": zone,
                },
                "name": name,
                "resourceVersion": ctx.rv(),
                "uid": ctx.rng.uid(),
            },
            "spec": {
                "podCIDR": format!("10.{}.{}.0/24", cidr.0, cidr.1),
                "podCIDRs": [format!("10.{}.{}.0/24", cidr.0, cidr.1)],
                "providerID": format!("gce://acme-prod/{zone}/{name}"),
            },
            "status": {
                "addresses": [
                    {"address": ip, "type": "InternalIP"},
                    {"address": name, "type": "Hostname"}
                ],
                "allocatable": {
                    "cpu": "7910m", "ephemeral-storage": "47060071478", "hugepages-1Gi": "0",
                    "hugepages-2Mi": "0", "memory": "29094328Ki", "pods": "110"
                },
                "capacity": {
                    "cpu": "8", "ephemeral-storage": "98831908Ki", "hugepages-1Gi": "0",
                    "hugepages-2Mi": "0", "memory": "32880564Ki", "pods": "110"
                },
                "conditions": [
                    cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": ctx.rng.uid(),
                    "containerRuntimeVersion": "containerd://2.1.4",
                    "kernelVersion": "6.6.97+",
                    "kubeProxyVersion": "",
                    "kubeletVersion": "v1.35.2",
                    "machineID": ctx.rng.hex(32),
                    "operatingSystem": "linux",
                    "osImage": "Container-Optimized OS from Google",
                    "systemUUID": ctx.rng.uid(),
                },
            },
        }));
        facts.push(Node {
            name,
            ip,
            zone,
            cidr,
        });
    }
    (facts, objects)
}

/// The cluster base: cluster-scoped objects and system namespaces.
#[derive(Debug)]
pub struct Base {
    /// System Namespace objects.
    pub namespaces: Vec<Value>,
    /// Cluster-scoped objects besides Namespaces and Nodes, by file stem.
    pub cluster: Vec<(&'static str, Vec<Value>)>,
    /// Namespaced objects: (namespace, stem, items), sorted.
    pub namespaced: BTreeMap<(String, &'static str), Vec<Value>>,
}

impl Base {
    /// Objects in the base (Nodes not included).
    pub fn count(&self) -> usize {
        self.namespaces.len()
            + self.cluster.iter().map(|(_, v)| v.len()).sum::<usize>()
            + self.namespaced.values().map(Vec::len).sum::<usize>()
    }
}

struct B<'a> {
    ctx: Ctx,
    nodes: &'a [Node],
    base: Base,
    installed: i64,
}

impl B<'_> {
    fn push(&mut self, ns: &str, stem: &'static str, v: Value) {
        self.base
            .namespaced
            .entry((ns.to_string(), stem))
            .or_default()
            .push(v);
    }

    fn namespace(&mut self, name: &str, labels: &[(&str, &str)], created: i64, ca: &str) {
        let ns = k8s::namespace(&mut self.ctx, name, labels, created);
        self.base.namespaces.push(ns);
        let meta = self.ctx.meta(name, "default", created);
        self.push(
            name,
            "serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}),
        );
        let root_ca = k8s::kube_root_ca(&mut self.ctx, name, created, ca);
        self.push(name, "configmaps", root_ca);
    }

    fn service_account(&mut self, ns: &str, name: &str, labels: &[(&str, &str)]) {
        let mut meta = self.ctx.meta(ns, name, self.installed);
        if !labels.is_empty() {
            meta["labels"] = smap(labels);
        }
        self.push(
            ns,
            "serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}),
        );
    }

    /// A single-replica Deployment with its ReplicaSet and running pod; returns the pod (its
    /// Service's endpoint).
    fn workload(
        &mut self,
        ns: &str,
        name: &str,
        labels: &Value,
        selector: &Value,
        template: Value,
    ) -> PodInfo {
        let hash = self.ctx.rng.suffix(10);
        let rs_name = format!("{name}-{hash}");
        let mut dep_meta = self.ctx.meta(ns, name, self.installed);
        let dep_uid = dep_meta["uid"].as_str().unwrap_or_default().to_string();
        let mut rs_meta = self.ctx.meta(ns, &rs_name, self.installed);
        let rs_uid = rs_meta["uid"].as_str().unwrap_or_default().to_string();
        let tmpl = k8s::hashed(&template, &hash);
        let node = &self.nodes[self.ctx.rng.index(self.nodes.len())];
        let created = NOW - 6 * DAY - self.ctx.rng.range(0, DAY);
        let (p, info) = pod(
            &mut self.ctx,
            PodInput {
                ns,
                rs: (&rs_name, &rs_uid),
                workload: name,
                template: &tmpl,
                injected: false,
                node,
                created,
                state: PodState::Running,
            },
        );
        self.push(ns, "pods", p);
        let mut rs_selector = selector.clone();
        rs_selector["pod-template-hash"] = json!(hash);
        rs_meta["annotations"] = smap(&[
            ("deployment.kubernetes.io/desired-replicas", "1"),
            ("deployment.kubernetes.io/max-replicas", "2"),
            ("deployment.kubernetes.io/revision", "1"),
        ]);
        rs_meta["generation"] = json!(1);
        rs_meta["labels"] = tmpl["metadata"]["labels"].clone();
        rs_meta["ownerReferences"] = owner_ref("apps/v1", "Deployment", name, &dep_uid);
        self.push(
            ns,
            "replicasets",
            json!({
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": rs_meta,
                "spec": {"replicas": 1, "selector": {"matchLabels": rs_selector}, "template": tmpl},
                "status": {"availableReplicas": 1, "fullyLabeledReplicas": 1, "observedGeneration": 1, "readyReplicas": 1, "replicas": 1},
            }),
        );
        dep_meta["annotations"] = smap(&[("deployment.kubernetes.io/revision", "1")]);
        dep_meta["generation"] = json!(1);
        dep_meta["labels"] = labels.clone();
        let ready_at = rfc3339(created + 35);
        self.push(
            ns,
            "deployments",
            json!({
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": dep_meta,
                "spec": k8s::deployment_spec(1, selector.clone(), template),
                "status": {
                    "availableReplicas": 1,
                    "conditions": [
                        {"lastTransitionTime": ready_at, "lastUpdateTime": ready_at,
                         "message": "Deployment has minimum availability.", "reason": "MinimumReplicasAvailable",
                         "status": "True", "type": "Available"},
                        {"lastTransitionTime": rfc3339(self.installed), "lastUpdateTime": ready_at,
                         "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                         "reason": "NewReplicaSetAvailable", "status": "True", "type": "Progressing"}
                    ],
                    "observedGeneration": 1,
                    "readyReplicas": 1,
                    "replicas": 1,
                    "updatedReplicas": 1,
                },
            }),
        );
        info
    }

    #[allow(clippy::too_many_arguments)] // NB: the parts of one Service and its EndpointSlice.
    fn service(
        &mut self,
        ns: &str,
        name: &str,
        labels: &Value,
        selector: &Value,
        ports: Value,
        slice_ports: Value,
        endpoint: &PodInfo,
        load_balancer: bool,
    ) {
        let ip = self.ctx.service_ip("10.96");
        let mut meta = self.ctx.meta(ns, name, self.installed);
        let uid = meta["uid"].as_str().unwrap_or_default().to_string();
        meta["labels"] = labels.clone();
        let mut spec = k8s::service_spec(&ip, ports, selector.clone());
        let mut status = json!({"loadBalancer": {}});
        if load_balancer {
            spec["type"] = json!("LoadBalancer");
            spec["allocateLoadBalancerNodePorts"] = json!(true);
            spec["externalTrafficPolicy"] = json!("Cluster");
            let public = self.ctx.service_ip("34.76");
            status = json!({"loadBalancer": {"ingress": [{"ip": public, "ipMode": "VIP"}]}});
        }
        self.push(
            ns,
            "services",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec, "status": status}),
        );
        let slice = format!("{name}-{}", self.ctx.rng.suffix(5));
        let mut meta = self.ctx.meta(ns, &slice, self.installed);
        let mut slice_labels = labels.clone();
        slice_labels["endpointslice.kubernetes.io/managed-by"] =
            json!("endpointslice-controller.k8s.io");
        slice_labels["kubernetes.io/service-name"] = json!(name);
        meta["annotations"] =
            json!({"endpoints.kubernetes.io/last-change-trigger-time": rfc3339(NOW - 5 * DAY)});
        meta["generateName"] = json!(format!("{name}-"));
        meta["generation"] = json!(3);
        meta["labels"] = slice_labels;
        meta["ownerReferences"] = owner_ref("v1", "Service", name, &uid);
        self.push(
            ns,
            "endpointslices",
            json!({
                "addressType": "IPv4",
                "apiVersion": "discovery.k8s.io/v1",
                "endpoints": [{
                    "addresses": [endpoint.ip.as_deref().unwrap_or_default()],
                    "conditions": {"ready": true, "serving": true, "terminating": false},
                    "nodeName": endpoint.node.as_deref().unwrap_or_default(),
                    "targetRef": {"kind": "Pod", "name": endpoint.name, "namespace": ns, "uid": endpoint.uid},
                    "zone": endpoint.zone,
                }],
                "kind": "EndpointSlice",
                "metadata": meta,
                "ports": slice_ports,
            }),
        );
    }

    fn istio_system(&mut self, ca: &str) {
        let ns = "istio-system";
        self.service_account(
            ns,
            "istiod",
            &[("app", "istiod"), ("istio.io/rev", "default")],
        );
        self.service_account(
            ns,
            "istio-ingressgateway-service-account",
            &[("app", "istio-ingressgateway"), ("istio.io/rev", "default")],
        );
        let root_cert = k8s::istio_ca_root_cert(&mut self.ctx, ns, self.installed, ca);
        self.push(ns, "configmaps", root_cert);
        let mut meta = self.ctx.meta(ns, "istio", self.installed);
        meta["labels"] = smap(&[
            ("install.operator.istio.io/owning-resource", "unknown"),
            ("istio.io/rev", "default"),
            ("operator.istio.io/component", "Pilot"),
            ("release", "istio"),
        ]);
        self.push(
            ns,
            "configmaps",
            json!({
                "apiVersion": "v1",
                "data": {
                    "mesh": "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n  tracing:\n    zipkin:\n      address: zipkin.istio-system:9411\ndefaultProviders:\n  metrics:\n  - prometheus\nenablePrometheusMerge: true\nrootNamespace: istio-system\ntrustDomain: cluster.local\n",
                    "meshNetworks": "networks: {}\n"
                },
                "kind": "ConfigMap",
                "metadata": meta,
            }),
        );

        let istiod_labels = smap(&[
            ("app", "istiod"),
            ("install.operator.istio.io/owning-resource", "unknown"),
            ("istio", "pilot"),
            ("istio.io/rev", "default"),
            ("operator.istio.io/component", "Pilot"),
        ]);
        let mut tmpl_labels = istiod_labels.clone();
        tmpl_labels["sidecar.istio.io/inject"] = json!("false");
        let template = json!({
            "metadata": {
                "annotations": {"prometheus.io/port": "15014", "prometheus.io/scrape": "true", "sidecar.istio.io/inject": "false"},
                "creationTimestamp": null,
                "labels": tmpl_labels,
            },
            "spec": {
                "containers": [{
                    "args": ["discovery", "--monitoringAddr=:15014", "--log_output_level=default:info", "--domain",
                             "cluster.local", "--keepaliveMaxServerConnectionAge", "30m"],
                    "image": "docker.io/istio/pilot:1.28.2",
                    "imagePullPolicy": "IfNotPresent",
                    "name": "discovery",
                    "ports": [
                        {"containerPort": 8080, "name": "http-debug", "protocol": "TCP"},
                        {"containerPort": 15010, "name": "grpc-xds", "protocol": "TCP"},
                        {"containerPort": 15012, "name": "tls-xds", "protocol": "TCP"},
                        {"containerPort": 15017, "name": "https-webhooks", "protocol": "TCP"},
                        {"containerPort": 15014, "name": "http-monitoring", "protocol": "TCP"}
                    ],
                    "readinessProbe": {
                        "failureThreshold": 3,
                        "httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
                        "initialDelaySeconds": 1,
                        "periodSeconds": 3,
                        "successThreshold": 1,
                        "timeoutSeconds": 5
                    },
                    "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File"
                }],
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "serviceAccount": "istiod",
                "serviceAccountName": "istiod",
                "terminationGracePeriodSeconds": 30
            }
        });
        let sel = smap(&[("istio", "pilot")]);
        let pod = self.workload(ns, "istiod", &istiod_labels, &sel, template);
        self.service(
            ns,
            "istiod",
            &istiod_labels,
            &smap(&[("app", "istiod"), ("istio", "pilot")]),
            json!([
                {"name": "grpc-xds", "port": 15010, "protocol": "TCP", "targetPort": 15010},
                {"name": "https-dns", "port": 15012, "protocol": "TCP", "targetPort": 15012},
                {"name": "https-webhook", "port": 443, "protocol": "TCP", "targetPort": 15017},
                {"name": "http-monitoring", "port": 15014, "protocol": "TCP", "targetPort": 15014}
            ]),
            json!([
                {"name": "grpc-xds", "port": 15010, "protocol": "TCP"},
                {"name": "https-dns", "port": 15012, "protocol": "TCP"},
                {"name": "https-webhook", "port": 15017, "protocol": "TCP"},
                {"name": "http-monitoring", "port": 15014, "protocol": "TCP"}
            ]),
            &pod,
            false,
        );

        let gw_labels = smap(&[
            ("app", "istio-ingressgateway"),
            ("istio", "ingressgateway"),
            ("istio.io/rev", "default"),
            ("operator.istio.io/component", "IngressGateways"),
        ]);
        let proxy = proxy_container(&Proxy::Router, "istio-ingressgateway", ns);
        let mut volumes = k8s::istio_volumes();
        volumes.push(json!({"name": "ingressgateway-certs", "secret": {"defaultMode": 420, "optional": true, "secretName": "istio-ingressgateway-certs"}}));
        let template = json!({
            "metadata": {
                "annotations": {
                    "istio.io/rev": "default",
                    "prometheus.io/path": "/stats/prometheus",
                    "prometheus.io/port": "15020",
                    "prometheus.io/scrape": "true",
                    "sidecar.istio.io/inject": "false"
                },
                "creationTimestamp": null,
                "labels": {
                    "app": "istio-ingressgateway",
                    "chart": "gateways",
                    "heritage": "Tiller",
                    "install.operator.istio.io/owning-resource": "unknown",
                    "istio": "ingressgateway",
                    "istio.io/rev": "default",
                    "operator.istio.io/component": "IngressGateways",
                    "release": "istio",
                    "service.istio.io/canonical-name": "istio-ingressgateway",
                    "service.istio.io/canonical-revision": "latest",
                    "sidecar.istio.io/inject": "false"
                },
            },
            "spec": {
                "containers": [proxy],
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "serviceAccount": "istio-ingressgateway-service-account",
                "serviceAccountName": "istio-ingressgateway-service-account",
                "terminationGracePeriodSeconds": 30,
                "volumes": volumes,
            }
        });
        let sel = smap(&[("app", "istio-ingressgateway"), ("istio", "ingressgateway")]);
        let pod = self.workload(ns, "istio-ingressgateway", &gw_labels, &sel, template);
        let nodeport = |r: &mut Rng| 30_000 + r.below(2_768);
        let ports = json!([
            {"name": "status-port", "nodePort": nodeport(&mut self.ctx.rng), "port": 15021, "protocol": "TCP", "targetPort": 15021},
            {"name": "http2", "nodePort": nodeport(&mut self.ctx.rng), "port": 80, "protocol": "TCP", "targetPort": 8080},
            {"name": "https", "nodePort": nodeport(&mut self.ctx.rng), "port": 443, "protocol": "TCP", "targetPort": 8443}
        ]);
        self.service(
            ns,
            "istio-ingressgateway",
            &gw_labels,
            &sel,
            ports,
            json!([
                {"name": "status-port", "port": 15021, "protocol": "TCP"},
                {"name": "http2", "port": 8080, "protocol": "TCP"},
                {"name": "https", "port": 8443, "protocol": "TCP"}
            ]),
            &pod,
            true,
        );
    }

    fn config_sync(&mut self, gateway_ns: &str) {
        let ns = "config-management-system";
        let sync_labels = [
            ("configmanagement.gke.io/arch", "csmr"),
            ("configmanagement.gke.io/system", "true"),
            ("configsync.gke.io/sync-kind", "RootSync"),
            ("configsync.gke.io/sync-name", "root-sync"),
            ("configsync.gke.io/sync-namespace", ns),
        ];
        self.service_account(ns, "root-reconciler", &sync_labels);
        let labels = smap(&[
            ("app", "reconciler"),
            ("configmanagement.gke.io/arch", "csmr"),
            ("configmanagement.gke.io/system", "true"),
            ("configsync.gke.io/deployment-name", "root-reconciler"),
            ("configsync.gke.io/sync-kind", "RootSync"),
            ("configsync.gke.io/sync-name", "root-sync"),
            ("configsync.gke.io/sync-namespace", ns),
        ]);
        let container = |name: &str,
                         image: &str,
                         args: Value,
                         cpu: &str,
                         mem: &str,
                         mounts: Value| {
            json!({
                "args": args,
                "image": format!("gcr.io/config-management-release/{image}"),
                "imagePullPolicy": "IfNotPresent",
                "name": name,
                "resources": {"limits": {"memory": "1Gi"}, "requests": {"cpu": cpu, "memory": mem}},
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "capabilities": {"drop": ["NET_RAW"]},
                    "readOnlyRootFilesystem": name != "otel-agent",
                    "runAsNonRoot": true
                },
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "volumeMounts": mounts,
            })
        };
        let mut reconciler = container(
            "reconciler",
            "reconciler:v1.21.1-rc.2",
            json!([
                "--reconciler-name=root-reconciler",
                "--root-dir=/repo/source/rev",
                "--source-type=git",
                "--sync-dir=.",
                "--source-format=unstructured",
                "--reconciler-polling-period=50ms",
                "--hydration-polling-period=5s",
                "--status-mode=enabled",
                "--api-server-timeout=15s",
                "--reconcile-timeout=5m0s",
                "--sync-name=root-sync",
                "--sync-namespace=config-management-system"
            ]),
            "50m",
            "200Mi",
            json!([{"mountPath": "/repo", "name": "repo", "readOnly": true}, {"mountPath": "/.kube", "name": "kube"}]),
        );
        reconciler["env"] = json!([{"name": "KUBECACHEDIR", "value": "/.kube/cache"}]);
        let template = json!({
            "metadata": {
                "annotations": {
                    "cluster-autoscaler.kubernetes.io/safe-to-evict": "true",
                    "configsync.gke.io/deployment-name": "root-reconciler"
                },
                "creationTimestamp": null,
                "labels": {
                    "app": "reconciler",
                    "configsync.gke.io/deployment-name": "root-reconciler",
                    "configsync.gke.io/sync-generation": "2",
                    "configsync.gke.io/sync-kind": "RootSync",
                    "configsync.gke.io/sync-name": "root-sync",
                    "configsync.gke.io/sync-namespace": ns
                }
            },
            "spec": {
                "containers": [
                    container("hydration-controller", "hydration-controller:v1.21.1-rc.2",
                        json!(["--source-root=/repo/source", "--hydrated-root=/repo/hydrated", "--source-link=rev",
                               "--hydrated-link=rev", "--sync-dir=."]),
                        "10m", "64Mi",
                        json!([{"mountPath": "/repo", "name": "repo"},
                               {"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "name": "service-account", "readOnly": true}])),
                    reconciler,
                    container("git-sync", "git-sync:v4.4.2-gke.2__linux_amd64",
                        json!(["--root=/repo/source", "--link=rev", "--max-failures=30", "--error-file=error.json", "--v=5"]),
                        "10m", "64Mi",
                        json!([{"mountPath": "/repo", "name": "repo"}, {"mountPath": "/etc/git-secret", "name": "git-creds", "readOnly": true}])),
                    container("otel-agent", "otelcontribcol:v0.119.0-gke.2",
                        json!(["--config=/conf/otel-agent-config.yaml", "--feature-gates=-pkg.translator.prometheus.NormalizeName"]),
                        "10m", "64Mi",
                        json!([{"mountPath": "/conf", "name": "otel-agent-config-reconciler-vol"}]))
                ],
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {"fsGroup": 65533, "runAsGroup": 65533, "runAsUser": 65533, "seccompProfile": {"type": "RuntimeDefault"}},
                "serviceAccount": "root-reconciler",
                "serviceAccountName": "root-reconciler",
                "terminationGracePeriodSeconds": 30,
                "volumes": [
                    {"emptyDir": {}, "name": "repo"},
                    {"emptyDir": {}, "name": "kube"},
                    {"name": "git-creds", "secret": {"defaultMode": 288, "secretName": "root-reconciler-git-creds"}},
                    {"emptyDir": {}, "name": "service-account"},
                    {"configMap": {"defaultMode": 420, "name": "otel-agent-reconciler"}, "name": "otel-agent-config-reconciler-vol"}
                ]
            }
        });
        let sel = smap(&[
            ("app", "reconciler"),
            ("configsync.gke.io/deployment-name", "root-reconciler"),
        ]);
        self.workload(ns, "root-reconciler", &labels, &sel, template);

        // The RootSync: synced until a commit added a Gateway its reconciler may not patch.
        let commit = self.ctx.rng.hex(40);
        let synced = self.ctx.rng.hex(40);
        let failed_at = NOW - self.ctx.rng.range(10 * MINUTE, 6 * HOUR);
        let checked = rfc3339(failed_at - MINUTE);
        let at = rfc3339(failed_at);
        let created = rfc3339(self.installed);
        let git = json!({"branch": "main", "dir": "clusters/prod", "repo": "https://github.com/acme-retail/platform-config", "revision": "HEAD"});
        let message = format!(
            "KNV2009: failed to apply Gateway.networking.istio.io, {gateway_ns}/bookinfo-gateway: gateways.networking.istio.io \"bookinfo-gateway\" is forbidden: User \"system:serviceaccount:config-management-system:root-reconciler\" cannot patch resource \"gateways\" in API group \"networking.istio.io\" in the namespace \"{gateway_ns}\"\n\nsource: clusters/prod/{gateway_ns}/gateway.yaml\nnamespace: {gateway_ns}\nmetadata.name: bookinfo-gateway\ngroup: networking.istio.io\nversion: v1\nkind: Gateway\n\nFor more information, see https://g.co/cloud/acm-errors#knv2009"
        );
        let mut meta = self.ctx.meta(ns, "root-sync", self.installed);
        meta["annotations"] = smap(&[("configsync.gke.io/requires-rendering", "false")]);
        meta["generation"] = json!(3);
        self.push(
            ns,
            "rootsyncs",
            json!({
                "apiVersion": "configsync.gke.io/v1beta1",
                "kind": "RootSync",
                "metadata": meta,
                "spec": {
                    "git": {
                        "auth": "token", "branch": "main", "dir": "clusters/prod", "period": "15s",
                        "repo": "https://github.com/acme-retail/platform-config", "revision": "HEAD",
                        "secretRef": {"name": "git-creds"}
                    },
                    "override": {"roleRefs": [{"kind": "ClusterRole", "name": "bookinfo-reconciler"}]},
                    "sourceFormat": "unstructured",
                    "sourceType": "git"
                },
                "status": {
                    "conditions": [
                        {"lastTransitionTime": created, "lastUpdateTime": created, "status": "False", "type": "Reconciling"},
                        {"lastTransitionTime": created, "lastUpdateTime": created, "status": "False", "type": "Stalled"},
                        {"commit": commit, "errorSourceRefs": ["status.sync.errors"],
                         "errorSummary": {"errorCountAfterTruncation": 1, "totalCount": 1},
                         "lastTransitionTime": at, "lastUpdateTime": at, "message": "Sync Completed",
                         "reason": "Sync", "status": "False", "type": "Syncing"}
                    ],
                    "lastSyncedCommit": synced,
                    "observedGeneration": 3,
                    "reconciler": "root-reconciler",
                    "rendering": {"commit": commit, "errorSummary": {}, "gitStatus": git, "lastUpdate": checked, "message": "Rendering skipped"},
                    "source": {"commit": commit, "errorSummary": {}, "gitStatus": git, "lastUpdate": checked},
                    "sync": {
                        "commit": commit,
                        "errorSummary": {"errorCountAfterTruncation": 1, "totalCount": 1},
                        "errors": [{
                            "code": "2009",
                            "errorMessage": message,
                            "errorResources": [{
                                "gvk": {"group": "networking.istio.io", "kind": "Gateway", "version": "v1"},
                                "name": "bookinfo-gateway",
                                "namespace": gateway_ns,
                                "sourcePath": format!("clusters/prod/{gateway_ns}/gateway.yaml")
                            }]
                        }],
                        "gitStatus": git,
                        "lastUpdate": at
                    }
                }
            }),
        );

        let rv = self.ctx.rv();
        let uid = self.ctx.rng.uid();
        let rule = |groups: &[&str], resources: &[&str], verbs: &[&str]| json!({"apiGroups": groups, "resources": resources, "verbs": verbs});
        self.base.cluster.push((
            "clusterroles",
            vec![json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"creationTimestamp": rfc3339(self.installed + DAY), "name": "bookinfo-reconciler", "resourceVersion": rv, "uid": uid},
                "rules": [
                    rule(&[""], &["namespaces", "services", "serviceaccounts", "configmaps"], &["*"]),
                    rule(&["apps"], &["deployments"], &["*"]),
                    rule(&["networking.istio.io"], &["virtualservices", "destinationrules"], &["*"]),
                    rule(&["networking.istio.io"], &["gateways"], &["get", "list", "watch"]),
                    rule(&["security.istio.io"], &["peerauthentications"], &["*"]),
                    rule(&["kpt.dev"], &["resourcegroups", "resourcegroups/status"], &["*"]),
                    rule(&["configsync.gke.io"], &["rootsyncs", "rootsyncs/status"], &["get", "list", "watch", "update", "patch"]),
                    rule(&["", "events.k8s.io"], &["events"], &["create", "patch"]),
                ],
            })],
        ));
    }
}

/// The RootSync [`build`] breaks, named once for the namespaced-failure code path and the
/// cluster-wide one that always plants it.
pub fn root_sync_target() -> Target {
    Target {
        api_version: "configsync.gke.io/v1beta1".into(),
        kind: "RootSync".into(),
        namespace: Some("config-management-system".into()),
        name: "root-sync".into(),
    }
}

/// Builds the base; `gateway_ns` is the Bookinfo namespace whose Gateway the RootSync fails to
/// apply.
pub fn build(seed: u64, nodes: &[Node], ca: &str, gateway_ns: &str) -> Base {
    let mut b = B {
        ctx: Ctx::new(Rng::stream(seed, BASE_STREAM), 4_000_000),
        nodes,
        base: Base {
            namespaces: Vec::new(),
            cluster: Vec::new(),
            namespaced: BTreeMap::new(),
        },
        installed: NOW - 90 * DAY,
    };
    let cluster_born = NOW - 120 * DAY;
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        b.namespace(ns, &[], cluster_born, ca);
    }
    b.namespace("istio-system", &[], b.installed, ca);
    b.namespace(
        "config-management-system",
        &[("configmanagement.gke.io/system", "true")],
        b.installed,
        ca,
    );
    b.istio_system(ca);
    b.config_sync(gateway_ns);
    b.base
}
