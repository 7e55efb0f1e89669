//! The generator's promise, checked with the real thing: a generated snapshot loads through the
//! host's snapshot loader without a single warning and with exactly the objects asked for, and
//! the built-in skills, run in the sandbox as `skillbox investigate` runs them, report exactly
//! the planted codes on every planted target and `healthy` on every healthy one.

use serde_json::Value;
use skillbox::engine::{EngineConfig, LoadedSkill, SkillEngine};
use skillbox::evidence::{EvidenceSource, SnapshotSource};
use skillbox::investigate::{investigate, resolve_target, select_skills};
use skillbox::package::SkillPackage;
use skillbox_synth::{Config, Failure, Format, PLANTED_FILE, SNAPSHOT_DIR, Snapshot, Target};
use std::collections::BTreeSet;
use std::sync::Arc;

fn skills() -> Vec<Arc<LoadedSkill>> {
    let engine = SkillEngine::new(EngineConfig::default()).expect("engine");
    [
        "workload-health",
        "mesh-investigation",
        "rootsync-investigation",
    ]
    .into_iter()
    .map(|name| {
        let builtin = skillbox::builtin::find(name).expect("built-in skill");
        let package = SkillPackage::from_builtin(builtin).expect("package");
        Arc::new(engine.load(&package).expect("load"))
    })
    .collect()
}

/// The verdict and the codes of error and warning findings, plus anything the host refused.
fn run(
    installed: &[Arc<LoadedSkill>],
    snap: &Arc<SnapshotSource>,
    t: &Target,
) -> (String, BTreeSet<String>, Vec<String>) {
    let target = resolve_target(snap.as_ref(), &t.kind, t.namespace.as_deref(), &t.name)
        .unwrap_or_else(|e| panic!("{t}: {e}"));
    let key = snap.resolve_kind(&target.kind).expect("kind");
    let selected = select_skills(installed, &key, &[]).expect("skills");
    let evidence: Arc<dyn EvidenceSource> = snap.clone();
    let report = serde_json::to_value(investigate(&selected, evidence, &target)).expect("json");
    let codes = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] != "info")
        .filter_map(|f| f["code"].as_str().map(String::from))
        .collect();
    let mut problems = Vec::new();
    for s in report["skills"].as_array().into_iter().flatten() {
        for key in ["error", "rejected"] {
            if !s[key].is_null() {
                problems.push(format!("skill {} {key}: {}", s["name"], s[key]));
            }
        }
    }
    let verdict = report["verdict"].as_str().unwrap_or_default().to_string();
    (verdict, codes, problems)
}

fn check(objects: usize, seed: u64, format: Format, want_every_failure: bool) {
    let snapshot = Snapshot::generate(&Config { objects, seed }, format).expect("generate");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let written = snapshot.write(&out).expect("write");
    assert_eq!(written.snapshot_dir, out.join(SNAPSHOT_DIR));

    let snap = Arc::new(SnapshotSource::load(&written.snapshot_dir).expect("load"));
    let warnings: Vec<String> = snap.warnings().iter().map(ToString::to_string).collect();
    assert!(warnings.is_empty(), "loader warnings: {warnings:#?}");
    assert_eq!(snap.object_count(), objects);

    // planted.json says what the API says.
    let planted: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(PLANTED_FILE)).unwrap()).unwrap();
    assert_eq!(
        planted["planted"].as_array().unwrap().len(),
        snapshot.planted.len()
    );
    assert_eq!(
        planted["healthy"].as_array().unwrap().len(),
        snapshot.healthy.len()
    );
    assert_eq!(planted["objects"], objects);

    let kinds: BTreeSet<Failure> = snapshot.planted.iter().map(|p| p.failure).collect();
    let required = [
        Failure::CrashLoop,
        Failure::ImagePull,
        Failure::OomKilled,
        Failure::Unschedulable,
        Failure::ServiceNoEndpoints,
        Failure::ConfigMissing,
        Failure::SubsetNotFound,
        Failure::HostNotFound,
        Failure::FaultInjection,
        Failure::SidecarNotInjected,
        Failure::SubsetNoPods,
        Failure::RootSyncForbidden,
    ];
    for f in required {
        assert!(kinds.contains(&f), "{objects} objects: {f:?} not planted");
    }
    if want_every_failure {
        assert_eq!(kinds.len(), Failure::NAMESPACED.len() + 1, "{kinds:?}");
    }
    assert!(!snapshot.healthy.is_empty());

    let installed = skills();
    let mut failures = Vec::new();
    for p in &snapshot.planted {
        let (verdict, codes, problems) = run(&installed, &snap, &p.target);
        let want: BTreeSet<String> = p.codes.iter().map(|c| c.to_string()).collect();
        if verdict != "resolved" || codes != want || !problems.is_empty() {
            failures.push(format!(
                "{:?} {}: verdict {verdict}, codes {codes:?} (want {want:?}) {problems:?}",
                p.failure, p.target
            ));
        }
    }
    for t in &snapshot.healthy {
        let (verdict, codes, problems) = run(&installed, &snap, t);
        if verdict != "healthy" || !codes.is_empty() || !problems.is_empty() {
            failures.push(format!(
                "healthy {t}: verdict {verdict}, codes {codes:?} {problems:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_1k_yaml_snapshot_loads_cleanly_and_every_planted_failure_is_found() {
    check(1_000, 1, Format::Yaml, false);
}

#[test]
fn a_3k_json_snapshot_has_every_kind_of_failure_and_each_is_found() {
    check(3_000, 42, Format::Json, true);
}
