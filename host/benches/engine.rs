//! Engine benchmarks (`cargo bench -p skillbox --bench engine`); method and results in BENCHMARKS.md.
//!
//! - `call/empty/{pooling,on-demand}`: one `LoadedSkill::investigate` of the empty skill
//!   (skills-wasm/empty) on a Pod, which returns an empty outcome without any tool call: fresh `Store`,
//!   instantiate from the cached `InstancePre`, call, drop. The skill does no work, so this is the
//!   per-call overhead.
//! - `call/describe`: `describe()` of workload-health (another near-empty call).
//! - `investigate/<scenario>`: for every public scenario, the built-in skill its target selects,
//!   sandboxed, end to end (skipped with a note if `../shared` is absent);
//!   `native/<scenario>`: the same skill's logic compiled natively, its tools answered by the same
//!   `ToolContext` over the same snapshot (`skillbox::tools::NativeTools`) — what the work costs
//!   without the sandbox. The summary prints the ratio sandbox/native per scenario.
//! - `load/{cold,memory-cached,disk-cached}`: `SkillEngine::load` of workload-health: compiling on
//!   a fresh engine, again on the same engine, and on a fresh engine whose cache folder holds the
//!   artifact; `load/disk-parts/{read-artifact,sha256-artifact}` time two parts of a disk hit.
//! - `snapshot/load/workload-crashloop`: `SnapshotSource::load`, as objects/s.
//!
//! After criterion, it prints each bench's median with its 95% interval (read back from
//! criterion's `estimates.json`), and p50/p90/p99 of 10,000 individually timed `call/empty` calls.

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput};
use skillbox::engine::{CacheHit, EngineConfig, LoadedSkill, SkillEngine, sha256_hex};
use skillbox::evidence::{EvidenceSource, SnapshotSource};
use skillbox::investigate::{resolve_target, select_skills};
use skillbox::package::SkillPackage;
use skillbox::tools::{NativeTools, ResourcePolicy, ToolBudget, ToolContext};
use skillbox_guest::{ObjectRef, Verdict};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/scenarios");

/// Benchmarks whose results the summary reads back: (group, function, parameter).
const SUMMARY: &[(&str, &str, Option<&str>)] = &[
    ("call", "empty", Some("pooling")),
    ("call", "empty", Some("on-demand")),
    ("call", "describe", None),
    ("load", "cold", None),
    ("load", "memory-cached", None),
    ("load", "disk-cached", None),
    ("load", "disk-parts", Some("read-artifact")),
    ("load", "disk-parts", Some("sha256-artifact")),
    ("snapshot", "load", Some("workload-crashloop")),
];

fn engine(pooling: bool, cache_dir: Option<PathBuf>) -> SkillEngine {
    SkillEngine::new(EngineConfig {
        pooling,
        cache_dir,
        ..EngineConfig::default()
    })
    .expect("engine builds")
}

/// The empty skill's package, as the build writes it (skills-wasm/empty).
fn empty_package() -> SkillPackage {
    SkillPackage::load_dir(&skillbox::builtin::packages_dir().join("empty"))
        .expect("the build writes the empty skill's package")
}

fn workload_health() -> SkillPackage {
    SkillPackage::builtins()
        .expect("built-in packages are valid")
        .into_iter()
        .find(|p| p.name() == "workload-health")
        .expect("workload-health is built in")
}

/// A one-object snapshot: the empty call reads nothing, but `investigate` needs a source.
fn tiny_evidence() -> (tempfile::TempDir, Arc<dyn EvidenceSource>) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pods.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: benign, namespace: default}\nstatus: {phase: Running}\n",
    )
    .expect("write snapshot");
    let src = SnapshotSource::load(dir.path()).expect("tiny snapshot loads");
    (dir, Arc::new(src))
}

fn benign() -> ObjectRef {
    ObjectRef::namespaced("v1", "Pod", "default", "benign")
}

/// One empty call (what `call/empty` measures; `check_empty` checks it once beforehand).
fn empty_call(skill: &LoadedSkill, evidence: &Arc<dyn EvidenceSource>, target: &ObjectRef) {
    let run = skill.investigate(Arc::clone(evidence), target);
    black_box(run);
}

fn check_empty(skill: &LoadedSkill, evidence: &Arc<dyn EvidenceSource>, label: &str) {
    let run = skill.investigate(Arc::clone(evidence), &benign());
    let outcome = run.outcome.expect("the benign call succeeds");
    assert_eq!(outcome.verdict, Verdict::Healthy, "{label}");
    assert!(outcome.findings.is_empty(), "{label}");
    assert_eq!(
        run.stats.tool_calls, 0,
        "{label}: the empty call makes no tool call"
    );
    println!(
        "note: call/empty/{label}: fuel {} per call, no tool call",
        run.stats.fuel_consumed
    );
}

fn bench_call(c: &mut Criterion) {
    let pkg = empty_package();
    let (_ev_dir, evidence) = tiny_evidence();
    let target = benign();
    let pooled_engine = engine(true, None);
    let on_demand_engine = engine(false, None);
    let pooled = pooled_engine.load(&pkg).expect("empty loads (pooling)");
    let on_demand = on_demand_engine
        .load(&pkg)
        .expect("empty loads (on-demand)");
    check_empty(&pooled, &evidence, "pooling");
    check_empty(&on_demand, &evidence, "on-demand");

    let wh_engine = engine(true, None);
    let wh = wh_engine
        .load(&workload_health())
        .expect("workload-health loads");
    let manifest = wh.describe().expect("describe succeeds");
    assert_eq!(manifest.name, "workload-health");

    let mut g = c.benchmark_group("call");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function(BenchmarkId::new("empty", "pooling"), |b| {
        b.iter(|| empty_call(&pooled, &evidence, &target))
    });
    g.bench_function(BenchmarkId::new("empty", "on-demand"), |b| {
        b.iter(|| empty_call(&on_demand, &evidence, &target))
    });
    g.bench_function("describe", |b| b.iter(|| black_box(wh.describe())));
    g.finish();
}

fn scenario(name: &str) -> Option<PathBuf> {
    let p = Path::new(SCENARIOS).join(name).join("cluster");
    if p.is_dir() {
        Some(p)
    } else {
        println!(
            "note: skipping the {name} benches: {} is absent (needs the shared scenarios beside the workspace)",
            p.display()
        );
        None
    }
}

/// Every public scenario: the skill its target's kind selects, sandboxed, end to end (fresh
/// store, instantiate, every tool call, the outcome). Returns the scenario names benched.
fn bench_investigate(c: &mut Criterion) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(SCENARIOS) else {
        println!("note: skipping investigate/*: {SCENARIOS} is absent");
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().join("scenario.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let eng = engine(true, None);
    let skills: Vec<Arc<LoadedSkill>> = SkillPackage::builtins()
        .expect("built-in packages")
        .iter()
        .map(|p| Arc::new(eng.load(p).expect("built-in skill loads")))
        .collect();
    let mut natives = Vec::new();
    let mut g = c.benchmark_group("investigate");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for name in &names {
        let dir = Path::new(SCENARIOS).join(name);
        let spec: serde_json::Value = serde_yaml_ng::from_str(
            &std::fs::read_to_string(dir.join("scenario.yaml")).expect("scenario.yaml"),
        )
        .expect("scenario.yaml parses");
        let t = &spec["target"];
        let snap = Arc::new(SnapshotSource::load(&dir.join("cluster")).expect("snapshot loads"));
        let target = resolve_target(
            snap.as_ref(),
            t["kind"].as_str().unwrap_or_default(),
            Some(t["namespace"].as_str().unwrap_or("default")),
            t["name"].as_str().unwrap_or_default(),
        )
        .expect("scenario target resolves");
        let key = snap.resolve_kind(&target.kind).expect("kind");
        let selected = select_skills(&skills, &key, &[]).expect("a skill targets the kind");
        let skill = Arc::clone(selected[0]);
        let evidence: Arc<dyn EvidenceSource> = snap;
        let run = skill.investigate(Arc::clone(&evidence), &target);
        let outcome = run.outcome.expect("the skill succeeds on the scenario");
        println!(
            "note: investigate/{name}: skill {}, {} tool calls, fuel {}, verdict {:?}, {} findings",
            skill.name(),
            run.stats.tool_calls,
            run.stats.fuel_consumed,
            outcome.verdict,
            outcome.findings.len()
        );
        g.bench_function(name.as_str(), |b| {
            b.iter(|| black_box(skill.investigate(Arc::clone(&evidence), &target)))
        });
        let native = native_run(skill.name());
        let again = native(&skill, &evidence, &target).expect("the native run succeeds");
        assert_eq!(
            again, outcome,
            "{name}: native and sandboxed outcomes differ"
        );
        natives.push((
            name.clone(),
            skill.clone(),
            evidence.clone(),
            target.clone(),
            native,
        ));
    }
    g.finish();
    // NB: a group of its own, benched right after, so the ratio compares one run's numbers.
    let mut g = c.benchmark_group("native");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, skill, evidence, target, native) in &natives {
        g.bench_function(name.as_str(), |b| {
            b.iter(|| black_box(native(skill, evidence, target)))
        });
    }
    g.finish();
    names
}

type NativeFn = fn(
    &LoadedSkill,
    &Arc<dyn EvidenceSource>,
    &ObjectRef,
) -> Result<skillbox_guest::Outcome, String>;

/// The native run of a built-in skill: a fresh `ToolContext` with the skill's grants and budget
/// (as a sandboxed call gets), installed as this thread's tool backend, then the skill's own
/// `investigate` compiled for the host.
fn native_run(skill: &str) -> NativeFn {
    fn run<S: skillbox_guest::Skill>(
        skill: &LoadedSkill,
        evidence: &Arc<dyn EvidenceSource>,
        target: &ObjectRef,
    ) -> Result<skillbox_guest::Outcome, String> {
        let tools = ToolContext::new(
            Arc::clone(evidence),
            Arc::new(ResourcePolicy::new(&skill.spec().grants.resources)),
            ToolBudget::from(&skill.spec().limits),
        );
        skillbox_guest::tools::set_backend(std::rc::Rc::new(NativeTools::new(tools)));
        let out = S::investigate(target);
        skillbox_guest::tools::clear_backend();
        out
    }
    match skill {
        "workload-health" => run::<workload_health::WorkloadHealth>,
        "mesh-investigation" => run::<mesh_investigation::MeshInvestigation>,
        "rootsync-investigation" => run::<rootsync_investigation::RootSyncInvestigation>,
        other => panic!("no native build of skill {other}"),
    }
}

fn bench_load(c: &mut Criterion) {
    let pkg = workload_health();
    println!(
        "note: load/*: workload-health, {} bytes of wasm",
        pkg.wasm().len()
    );

    // The disk cache: filled once, then only read (each fresh engine finds the artifact there).
    let cache = tempfile::tempdir().expect("tempdir");
    let first = engine(true, Some(cache.path().to_path_buf()))
        .load(&pkg)
        .expect("workload-health loads")
        .cache_hit();
    assert_eq!(first, CacheHit::Compiled);
    let artifact = std::fs::read_dir(cache.path())
        .expect("cache folder")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .expect("the cache holds an artifact");
    let artifact_bytes = std::fs::read(&artifact).expect("read the artifact");
    println!(
        "note: load/disk-cached: artifact {} bytes",
        artifact_bytes.len()
    );
    let again = engine(true, Some(cache.path().to_path_buf()))
        .load(&pkg)
        .expect("workload-health loads")
        .cache_hit();
    assert_eq!(again, CacheHit::Disk, "a fresh engine finds the artifact");

    let mut g = c.benchmark_group("load");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    // Engine construction is setup, not timed; only `load` (and its output) is.
    g.bench_function("cold", |b| {
        b.iter_batched_ref(
            || engine(true, None),
            |e| {
                let s = e.load(&pkg).expect("loads");
                debug_assert_eq!(s.cache_hit(), CacheHit::Compiled);
                s
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("disk-cached", |b| {
        b.iter_batched_ref(
            || engine(true, Some(cache.path().to_path_buf())),
            |e| {
                let s = e.load(&pkg).expect("loads");
                debug_assert_eq!(s.cache_hit(), CacheHit::Disk);
                s
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let warm = engine(true, None);
    assert_eq!(
        warm.load(&pkg).expect("loads").cache_hit(),
        CacheHit::Compiled
    );
    assert_eq!(
        warm.load(&pkg).expect("loads").cache_hit(),
        CacheHit::Memory
    );
    let mut g = c.benchmark_group("load");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("memory-cached", |b| {
        b.iter(|| black_box(warm.load(&pkg).expect("loads")))
    });
    // Two parts of a disk hit, to attribute its cost: reading the artifact, and the sha256 check
    // of it against its sidecar (the rest is wasmtime's deserialize plus the memory-cached work).
    g.bench_function(BenchmarkId::new("disk-parts", "read-artifact"), |b| {
        b.iter(|| black_box(std::fs::read(&artifact).expect("read")))
    });
    g.bench_function(BenchmarkId::new("disk-parts", "sha256-artifact"), |b| {
        b.iter(|| black_box(sha256_hex(&artifact_bytes)))
    });
    g.finish();
}

fn bench_snapshot(c: &mut Criterion) {
    let Some(dir) = scenario("workload-crashloop") else {
        return;
    };
    let once = SnapshotSource::load(&dir).expect("scenario snapshot loads");
    let objects = once.object_count() as u64;
    let files = walk_count(&dir);
    println!(
        "note: snapshot/load/workload-crashloop: {objects} objects, {} files, {} bytes, {} warnings",
        files.0,
        files.1,
        once.warnings().len()
    );
    let mut g = c.benchmark_group("snapshot");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(objects));
    g.bench_function(BenchmarkId::new("load", "workload-crashloop"), |b| {
        b.iter(|| black_box(SnapshotSource::load(&dir).expect("loads")))
    });
    g.finish();
}

/// (files, bytes) under `dir`.
fn walk_count(dir: &Path) -> (u64, u64) {
    let mut out = (0, 0);
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            let (f, b) = walk_count(&p);
            out.0 += f;
            out.1 += b;
        } else if let Ok(m) = e.metadata() {
            out.0 += 1;
            out.1 += m.len();
        }
    }
    out
}

/// p50/p90/p99 of individually timed empty calls (the spike's method: 200 warm-up, 10,000 timed).
fn call_percentiles() {
    let pkg = empty_package();
    let (_ev_dir, evidence) = tiny_evidence();
    let target = benign();
    println!("\nindividually timed call/empty (200 warm-up, 10000 timed calls), µs:");
    for (label, pooling) in [("pooling", true), ("on-demand", false)] {
        let eng = engine(pooling, None);
        let skill = eng.load(&pkg).expect("empty loads");
        for _ in 0..200 {
            empty_call(&skill, &evidence, &target);
        }
        let mut times: Vec<Duration> = (0..10_000)
            .map(|_| {
                let t = Instant::now();
                empty_call(&skill, &evidence, &target);
                t.elapsed()
            })
            .collect();
        times.sort_unstable();
        let q = |p: f64| {
            let i = ((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1;
            times[i].as_secs_f64() * 1e6
        };
        println!(
            "  {label:<10} p50 {:>7.2}  p90 {:>7.2}  p99 {:>7.2}  max {:>8.2}",
            q(0.50),
            q(0.90),
            q(0.99),
            q(1.0)
        );
    }
}

/// Where criterion writes its results, found as criterion finds it.
fn criterion_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d).join("criterion");
    }
    let from_metadata = std::env::var_os("CARGO").and_then(|cargo| {
        let out = std::process::Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .output()
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        v.get("target_directory")?.as_str().map(PathBuf::from)
    });
    from_metadata
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion")
}

/// Each bench's median and its 95% interval, from criterion's `new/estimates.json`.
fn summary(scenarios: &[String]) {
    let root = criterion_dir();
    println!(
        "\ncriterion medians (p50 of sample means) with 95% interval, from {}:",
        root.display()
    );
    let investigate: Vec<(&str, &str, Option<&str>)> = scenarios
        .iter()
        .flat_map(|n| {
            [
                ("investigate", n.as_str(), None),
                ("native", n.as_str(), None),
            ]
        })
        .collect();
    for (group, function, param) in SUMMARY.iter().chain(investigate.iter()) {
        let mut dir = root.join(group).join(function);
        let mut id = format!("{group}/{function}");
        if let Some(p) = param {
            dir = dir.join(p);
            id = format!("{id}/{p}");
        }
        let read = |file: &str| -> Option<serde_json::Value> {
            let text = std::fs::read_to_string(dir.join("new").join(file)).ok()?;
            serde_json::from_str(&text).ok()
        };
        let Some(est) = read("estimates.json") else {
            println!("  {id:<38} (not run)");
            continue;
        };
        let median = &est["median"];
        let ns = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        let point = ns(&median["point_estimate"]);
        let lo = ns(&median["confidence_interval"]["lower_bound"]);
        let hi = ns(&median["confidence_interval"]["upper_bound"]);
        let mut line = format!(
            "  {id:<38} median {}  [{}, {}]",
            human(point),
            human(lo),
            human(hi)
        );
        let elements = read("benchmark.json")
            .and_then(|b| b["throughput"]["Elements"].as_u64())
            .map(|n| n as f64);
        if let Some(n) = elements {
            line.push_str(&format!(
                "  = {:.0} objects/s [{:.0}, {:.0}]",
                n / (point * 1e-9),
                n / (hi * 1e-9),
                n / (lo * 1e-9)
            ));
        }
        println!("{line}");
    }
    let median = |group: &str, name: &str| -> Option<f64> {
        let text =
            std::fs::read_to_string(root.join(group).join(name).join("new/estimates.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v["median"]["point_estimate"].as_f64()
    };
    if !scenarios.is_empty() {
        println!("\nsandbox/native (criterion medians of this run's investigate/ and native/):");
        let mut worst: f64 = 0.0;
        for n in scenarios {
            if let (Some(sb), Some(nat)) = (median("investigate", n), median("native", n)) {
                worst = worst.max(sb / nat);
                println!("  {n:<40} {} / {} = {:.2}", human(sb), human(nat), sb / nat);
            }
        }
        println!("  worst ratio {worst:.2} (target ≤ 1.5)");
    }
}

fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else {
        format!("{:.3} µs", ns / 1e3)
    }
}

fn main() {
    let listing = std::env::args().any(|a| a == "--list" || a == "--test");
    let mut c = Criterion::default().configure_from_args();
    bench_call(&mut c);
    let scenarios = bench_investigate(&mut c);
    bench_load(&mut c);
    bench_snapshot(&mut c);
    c.final_summary();
    if !listing {
        call_percentiles();
        summary(&scenarios);
    }
}
