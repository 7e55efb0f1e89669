//! Cluster-scale benchmarks (`cargo bench -p skillbox-host --bench scale`); method and results in
//! BENCHMARKS.md. Snapshots come from `skillbox-synth` (deterministic, seed 1), written as YAML
//! to a temporary folder:
//!
//! - `load/<n>`: `SnapshotSource::load` of 1k, 10k and 100k objects — objects/s, and resident
//!   memory per object. Each load runs in a child process of this bench (it re-runs itself with
//!   `--child-load DIR`), so one load's freed memory cannot hide the next one's growth.
//! - `investigate/<n>`: every planted and healthy target of the snapshot, the built-in skills its
//!   kind selects, sandboxed, end to end — p50/p90/max per size, so "index, don't scan" shows as
//!   latency that stays flat from 1k to 100k objects.
//! - `concurrent/<n>`: N = 1, 2, 16, 256 threads investigating the 10k snapshot's targets
//!   round-robin on one engine (pool of 64 instances): investigations/s and peak resident memory,
//!   sampled every millisecond while they run.
//!
//! `SKILLBOX_SCALE_SIZES=1000,10000` (comma-separated) runs fewer sizes.

use skillbox::engine::{EngineConfig, LoadedSkill, SkillEngine};
use skillbox::evidence::{EvidenceSource, SnapshotSource};
use skillbox::investigate::{investigate, resolve_target, select_skills};
use skillbox::package::SkillPackage;
use skillbox_guest::{ObjectRef, Verdict};
use skillbox_synth::{Config, Format, Target};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn resident() -> u64 {
    skillbox::bench::resident_bytes().unwrap_or(0)
}

/// Child mode: load the folder once and print `objects micros resident_growth_bytes`.
fn child_load(dir: &Path) {
    let (snap, cost) = skillbox::bench::load_snapshot(dir).expect("the snapshot loads");
    assert!(snap.warnings().is_empty(), "{:?}", snap.warnings());
    println!(
        "{} {} {}",
        cost.objects,
        cost.load_micros,
        cost.resident_bytes.unwrap_or(0)
    );
}

struct Sized {
    objects: usize,
    _dir: tempfile::TempDir,
    cluster: PathBuf,
    /// `(target, expected verdict, codes)`.
    targets: Vec<(Target, Verdict, Vec<&'static str>)>,
    bytes: usize,
}

fn generate(objects: usize) -> Sized {
    let snap =
        skillbox_synth::generate(&Config { objects, seed: 1 }, Format::Yaml).expect("generate");
    let dir = tempfile::tempdir().expect("tempdir");
    let written = snap.write(&dir.path().join("out")).expect("write");
    let mut targets: Vec<(Target, Verdict, Vec<&'static str>)> = snap
        .planted
        .iter()
        .map(|p| (p.target.clone(), Verdict::Resolved, p.codes.clone()))
        .collect();
    targets.extend(
        snap.healthy
            .iter()
            .map(|t| (t.clone(), Verdict::Healthy, Vec::new())),
    );
    Sized {
        objects,
        cluster: written.snapshot_dir,
        _dir: dir,
        targets,
        bytes: snap.bytes(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn builtins(engine: &SkillEngine) -> Vec<Arc<LoadedSkill>> {
    SkillPackage::builtins()
        .expect("built-in packages")
        .iter()
        .map(|p| Arc::new(engine.load(p).expect("built-in skill loads")))
        .collect()
}

/// A target resolved against the snapshot, with the skills its kind selects.
struct Job {
    target: ObjectRef,
    skills: Vec<Arc<LoadedSkill>>,
    want: Verdict,
    codes: Vec<&'static str>,
}

fn jobs(snap: &SnapshotSource, skills: &[Arc<LoadedSkill>], s: &Sized) -> Vec<Job> {
    s.targets
        .iter()
        .map(|(t, want, codes)| {
            let target = resolve_target(snap, &t.kind, t.namespace.as_deref(), &t.name)
                .unwrap_or_else(|e| panic!("{t}: {e}"));
            let key = snap.resolve_kind(&t.kind).expect("kind");
            let skills = select_skills(skills, &key, &[])
                .expect("a skill targets the kind")
                .into_iter()
                .cloned()
                .collect();
            Job {
                target,
                skills,
                want: *want,
                codes: codes.clone(),
            }
        })
        .collect()
}

fn run(job: &Job, evidence: &Arc<dyn EvidenceSource>) -> skillbox::report::Report {
    let selected: Vec<&Arc<LoadedSkill>> = job.skills.iter().collect();
    investigate(&selected, Arc::clone(evidence), &job.target)
}

fn bench_load(s: &Sized) {
    let exe = std::env::current_exe().expect("current exe");
    let mut best: Option<(usize, u128, u64)> = None;
    let runs = if s.objects >= 100_000 { 2 } else { 3 };
    for _ in 0..runs {
        let out = Command::new(&exe)
            .arg("--child-load")
            .arg(&s.cluster)
            .output()
            .expect("run the child load");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let mut f = text.split_whitespace().map(|x| x.parse::<u128>().unwrap());
        let (objects, micros, rss) = (
            f.next().unwrap() as usize,
            f.next().unwrap(),
            f.next().unwrap() as u64,
        );
        assert_eq!(objects, s.objects);
        if best.is_none_or(|b| micros < b.1) {
            best = Some((objects, micros, rss));
        }
    }
    let (objects, micros, rss) = best.unwrap();
    println!(
        "load/{:<7} {:>8.1} MB YAML  best of {runs}: {:>9.1} ms = {:>7.0} objects/s ({:.0} MB/s); resident +{:.0} MiB = {:.1} KiB/object",
        s.objects,
        s.bytes as f64 / 1e6,
        micros as f64 / 1e3,
        objects as f64 / (micros as f64 / 1e6),
        s.bytes as f64 / micros as f64,
        rss as f64 / 1048576.0,
        rss as f64 / 1024.0 / objects as f64
    );
}

fn bench_investigate(s: &Sized, engine: &SkillEngine, iterations: usize) {
    let snap = SnapshotSource::load(&s.cluster).expect("load");
    let skills = builtins(engine);
    let jobs = jobs(&snap, &skills, s);
    let evidence: Arc<dyn EvidenceSource> = Arc::new(snap);
    let mut all = Vec::new();
    let mut by_skill: std::collections::BTreeMap<String, Vec<Duration>> = Default::default();
    for job in &jobs {
        let report = run(job, &evidence);
        assert_eq!(report.verdict, job.want, "{}: {report:?}", job.target);
        for c in &job.codes {
            assert!(
                report.findings.iter().any(|f| f.code == *c),
                "{}: no {c}",
                job.target
            );
        }
        for _ in 0..iterations {
            let t = Instant::now();
            std::hint::black_box(run(job, &evidence));
            let d = t.elapsed();
            all.push(d);
            let name = job
                .skills
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join("+");
            by_skill.entry(name).or_default().push(d);
        }
    }
    all.sort();
    println!(
        "investigate/{:<7} {} targets × {iterations}: p50 {:>8.1?}  p90 {:>8.1?}  max {:>8.1?}",
        s.objects,
        jobs.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.9),
        all.last().unwrap()
    );
    for (skill, mut v) in by_skill {
        v.sort();
        println!(
            "    {skill:<24} p50 {:>8.1?}  p90 {:>8.1?}  max {:>8.1?}",
            percentile(&v, 0.5),
            percentile(&v, 0.9),
            v.last().unwrap()
        );
    }
}

fn bench_concurrent(s: &Sized, total: usize) {
    let engine = Arc::new(SkillEngine::new(EngineConfig::default()).expect("engine"));
    let snap = SnapshotSource::load(&s.cluster).expect("load");
    let skills = builtins(&engine);
    let jobs = Arc::new(jobs(&snap, &skills, s));
    let evidence: Arc<dyn EvidenceSource> = Arc::new(snap);
    // Warm the pool and the caches once.
    for job in jobs.iter() {
        run(job, &evidence);
    }
    println!(
        "concurrent/{}: {} investigations per N, {} targets round-robin, pool of {} instances",
        s.objects,
        total,
        jobs.len(),
        engine.config().max_instances
    );
    for n in [1usize, 2, 16, 256] {
        let next = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(resident()));
        let base = resident();
        let sampler = {
            let (done, peak) = (done.clone(), peak.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(resident(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        let start = Arc::new(Barrier::new(n + 1));
        let workers: Vec<_> = (0..n)
            .map(|_| {
                let (next, jobs, evidence, start) =
                    (next.clone(), jobs.clone(), evidence.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        let job = &jobs[i % jobs.len()];
                        let r = run(job, &evidence);
                        assert_eq!(r.verdict, job.want, "{}", job.target);
                    }
                })
            })
            .collect();
        start.wait();
        let t = Instant::now();
        for w in workers {
            w.join().expect("worker");
        }
        let wall = t.elapsed();
        done.store(true, Ordering::Relaxed);
        sampler.join().expect("sampler");
        println!(
            "    N = {n:<4} {:>8.0} investigations/s  ({:>6.1} ms wall)  resident {:.0} MiB at start, peak {:.0} MiB (+{:.0} MiB)",
            total as f64 / wall.as_secs_f64(),
            wall.as_secs_f64() * 1e3,
            base as f64 / 1048576.0,
            peak.load(Ordering::Relaxed) as f64 / 1048576.0,
            peak.load(Ordering::Relaxed).saturating_sub(base) as f64 / 1048576.0
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-load") {
        child_load(Path::new(&args[i + 1]));
        return;
    }
    // `cargo test --benches` runs benches with `--test` (and `--list` lists them): only a smoke.
    let quick = args.iter().any(|a| a == "--test" || a == "--list");
    let sizes: Vec<usize> = match std::env::var("SKILLBOX_SCALE_SIZES") {
        Ok(v) => v.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) if quick => vec![1_000],
        Err(_) => vec![1_000, 10_000, 100_000],
    };
    let engine = SkillEngine::new(EngineConfig::default()).expect("engine");
    for objects in sizes {
        let t = Instant::now();
        let s = generate(objects);
        println!(
            "\nsnapshot {objects} objects: {:.1} MB of YAML, {} targets (generated and written in {:.1?})",
            s.bytes as f64 / 1e6,
            s.targets.len(),
            t.elapsed()
        );
        if quick {
            bench_investigate(&s, &engine, 1);
            continue;
        }
        bench_load(&s);
        bench_investigate(&s, &engine, 20);
        if objects == 10_000 {
            bench_concurrent(&s, 4_096);
        }
    }
}
