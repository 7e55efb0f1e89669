//! The controller's reconcile throughput against kube's mocked API service
//! (`cargo bench -p skillbox-operator --bench reconcile`); method and results in BENCHMARKS.md.
//!
//! Each reconcile is a fresh Investigation (so none is skipped as current) of Deployment
//! `shop/checkout` in the `examples/checkout-oom` snapshot: resolve the target, run
//! workload-health in the sandbox (`spawn_blocking`), write the report by server-side apply on
//! `/status`, record an Event. The mock answers at once (status patches echo the object), so what
//! is measured is the controller's own work per reconcile. Run sequentially, then with 2, 8 and 32
//! reconciles in flight (the controller's `--concurrency` bounds how many investigate at once).

use http::{Request, Response};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use skillbox::engine::{EngineConfig, SkillEngine};
use skillbox::evidence::{EvidenceSource, SnapshotSource};
use skillbox_crds::{Investigation, Skill};
use skillbox_operator::context::{Context, EvidenceFactory, KeySource};
use skillbox_operator::metrics::Metrics;
use skillbox_operator::{investigations, skills};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A mock API server that accepts every write: status patches echo the object with its new
/// status (as a real server returns it), Events are created. Counts requests.
fn mock_api(requests: Arc<AtomicU64>) -> Client {
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        while let Some((req, send)) = handle.next_request().await {
            requests.fetch_add(1, Ordering::Relaxed);
            let (method, path) = (req.method().clone(), req.uri().path().to_string());
            let bytes = req.into_body().collect_bytes().await.unwrap_or_default();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let (code, answer) = if path.contains("/events") {
                (
                    201,
                    json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "shop"}, "eventTime": null}),
                )
            } else if method == http::Method::PATCH && path.ends_with("/status") {
                let name = path.rsplit('/').nth(1).unwrap_or("x");
                let mut obj = investigation(name);
                obj["status"] = body["status"].clone();
                (200, obj)
            } else {
                (
                    404,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404}),
                )
            };
            let resp = Response::builder()
                .status(code)
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                .unwrap();
            send.send_response(resp);
        }
    });
    Client::new(svc, "default")
}

fn investigation(name: &str) -> Value {
    json!({
        "apiVersion": "skillbox.dev/v1alpha1", "kind": "Investigation",
        "metadata": {"name": name, "namespace": "shop", "generation": 1, "uid": format!("uid-{name}")},
        "spec": {"target": {"kind": "Deployment", "name": "checkout"}},
    })
}

struct Snapshot(Arc<dyn EvidenceSource>);

impl EvidenceFactory for Snapshot {
    fn source(&self, _: Handle) -> Arc<dyn EvidenceSource> {
        self.0.clone()
    }
}

struct NoKeys;

impl KeySource for NoKeys {
    fn key(&self, secret: &str, key: &str) -> Result<String, String> {
        Err(format!("Secret {secret:?} key {key:?} is not mounted"))
    }
}

async fn context(requests: Arc<AtomicU64>, concurrency: usize) -> Arc<Context> {
    let snapshot = SnapshotSource::load(&repo().join("examples/checkout-oom/cluster"))
        .expect("the example snapshot loads");
    let ctx = Arc::new(
        Context::new(
            mock_api(requests),
            "skillbox-system".into(),
            Arc::new(SkillEngine::new(EngineConfig::default()).expect("engine")),
            Arc::new(Metrics::new()),
            concurrency,
            Arc::new(Snapshot(Arc::new(snapshot))),
            Arc::new(NoKeys),
        )
        .expect("context"),
    );
    let yaml = std::fs::read_to_string(repo().join("skills-wasm/workload-health/skill.yaml"))
        .expect("skill.yaml");
    let mut skill: Skill = serde_yaml_ng::from_str(&yaml).expect("the Skill parses");
    skill.metadata.generation = Some(1);
    skill.metadata.uid = Some("uid-workload-health".into());
    let reg = skills::accept(&skill, &ctx)
        .await
        .expect("workload-health is accepted");
    ctx.registry.insert(reg);
    ctx
}

/// Runs `n` reconciles of fresh Investigations, `in_flight` at a time; returns the wall time and
/// each reconcile's own latency.
async fn run(
    ctx: &Arc<Context>,
    n: usize,
    in_flight: usize,
    tag: &str,
) -> (Duration, Vec<Duration>) {
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(n);
    let mut next = 0;
    let mut tasks = tokio::task::JoinSet::new();
    while next < n || !tasks.is_empty() {
        while next < n && tasks.len() < in_flight {
            let inv: Investigation =
                serde_json::from_value(investigation(&format!("{tag}-{next}"))).unwrap();
            let ctx = ctx.clone();
            tasks.spawn(async move {
                let t = Instant::now();
                investigations::reconcile(Arc::new(inv), ctx)
                    .await
                    .expect("the reconcile succeeds");
                t.elapsed()
            });
            next += 1;
        }
        if let Some(done) = tasks.join_next().await {
            latencies.push(done.expect("the reconcile task"));
        }
    }
    (started.elapsed(), latencies)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = std::env::args().any(|a| a == "--test");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let requests = Arc::new(AtomicU64::new(0));
        let ctx = context(requests.clone(), 8).await;
        // Warm up: compile caches, the pool, the allocator.
        run(&ctx, 20, 1, "warm").await;
        let n = if quick { 20 } else { 2_000 };
        println!("reconcile/investigation (workload-health on examples/checkout-oom), {n} each:");
        println!(
            "  in flight  reconciles/s   p50        p90        p99        API requests/reconcile"
        );
        for in_flight in [1, 2, 8, 32] {
            let before = requests.load(Ordering::Relaxed);
            let (wall, mut lat) = run(&ctx, n, in_flight, &format!("c{in_flight}")).await;
            lat.sort();
            let reqs = requests.load(Ordering::Relaxed) - before;
            println!(
                "  {in_flight:>9}  {:>12.0}   {:>8.0?}   {:>8.0?}   {:>8.0?}   {:.1}",
                n as f64 / wall.as_secs_f64(),
                percentile(&lat, 0.5),
                percentile(&lat, 0.9),
                percentile(&lat, 0.99),
                reqs as f64 / n as f64
            );
        }
    });
}
