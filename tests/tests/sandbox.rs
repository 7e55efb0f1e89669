//! The sandbox against real hostile components built by the normal build (skills-wasm/probes):
//! each attack is stopped at the layer meant to stop it, with a specific, classified error, and
//! the host goes on serving other skills.

use skillbox::engine::{CallError, EngineConfig, LoadError, SkillEngine, sha256_hex};
use skillbox::evidence::{EvidenceSource, SnapshotSource};
use skillbox::package::SkillPackage;
use skillbox::tools::ImportRefusal;
use skillbox_guest::{ObjectRef, Verdict};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

fn engine() -> &'static SkillEngine {
    static ENGINE: OnceLock<SkillEngine> = OnceLock::new();
    ENGINE.get_or_init(|| SkillEngine::new(EngineConfig::default()).expect("engine"))
}

const SNAPSHOT: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: victim, namespace: default, labels: {app: victim}}
  status: {phase: Running}
- apiVersion: v1
  kind: Secret
  metadata: {name: db-password, namespace: default}
  data: {password: aHVudGVyMg==}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: x, namespace: kube-system}
  data: {k: v}
"#;

fn evidence() -> Arc<dyn EvidenceSource> {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("objects.yaml"), SNAPSHOT).unwrap();
        d
    });
    Arc::new(SnapshotSource::load(dir.path()).unwrap())
}

/// A package folder for a probe component with the given grants and limits.
fn package(probe: &str, tools: &str, limits: &str) -> (tempfile::TempDir, SkillPackage) {
    let wasm = std::fs::read(skillbox::builtin::wasm_dir().join(format!("{probe}.wasm")))
        .expect("probe component built by host/build.rs");
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join(probe);
    std::fs::create_dir(&pkg).unwrap();
    std::fs::write(pkg.join("skill.wasm"), &wasm).unwrap();
    std::fs::write(
        pkg.join("SKILL.md"),
        format!("---\nname: {probe}\ndescription: hostile test skill\n---\n"),
    )
    .unwrap();
    std::fs::write(
        pkg.join("skill.yaml"),
        format!(
            "apiVersion: skillbox.dev/v1alpha1\nkind: Skill\nmetadata: {{name: {probe}}}\nspec:\n  codePrefix: probe.\n  module: {{url: skill.wasm, sha256: {}}}\n  grants:\n    tools: [{tools}]\n    resources: [{{kinds: [\"*\"], namespaces: [default]}}]\n  targets: [{{kind: Pod}}]\n  limits: {{{limits}}}\n",
            sha256_hex(&wasm)
        ),
    )
    .unwrap();
    // NB: the grant is `*` (every kind): Secrets must still be denied at call time.
    let p = SkillPackage::load_dir(&pkg).expect("probe package is valid");
    (dir, p)
}

fn target(name: &str) -> ObjectRef {
    ObjectRef::namespaced("v1", "Pod", "default", name)
}

const HOSTILE_TOOLS: &str = "get-object, list-objects, list-events";

fn run_hostile(name: &str, limits: &str) -> skillbox::engine::SkillRun {
    let (_dir, pkg) = package("hostile", HOSTILE_TOOLS, limits);
    let skill = engine().load(&pkg).expect("hostile probe loads");
    skill.investigate(evidence(), &target(name))
}

#[test]
fn a_tool_that_is_not_granted_is_refused_at_link_time_by_name() {
    let (_dir, pkg) = package("reads-logs", "get-object", "");
    match engine().load(&pkg) {
        Err(LoadError::Refused {
            skill,
            refusal: ImportRefusal::ToolNotGranted { import, .. },
        }) => {
            assert_eq!(skill, "reads-logs");
            assert!(import.starts_with("skillbox:skill/read-logs@"), "{import}");
        }
        Err(e) => panic!("wrong refusal: {e}"),
        Ok(_) => panic!("a component importing an ungranted tool was linked"),
    }
    // Granted, the same component links: the refusal was about the grant, nothing else.
    let (_dir, pkg) = package("reads-logs", "get-object, read-logs", "");
    engine()
        .load(&pkg)
        .expect("links once read-logs is granted");
}

#[test]
fn wasi_filesystem_is_refused_at_link_time_whatever_the_grants() {
    let (_dir, pkg) = package(
        "uses-filesystem",
        "get-object, list-objects, list-events, read-logs",
        "",
    );
    match engine().load(&pkg) {
        Err(LoadError::Refused {
            refusal: ImportRefusal::Forbidden { import, reason },
            ..
        }) => {
            assert!(import.starts_with("wasi:filesystem/"), "{import}");
            assert!(reason.contains("no filesystem"), "{reason}");
        }
        Err(e) => panic!("wrong refusal: {e}"),
        Ok(_) => panic!("a component importing wasi:filesystem was linked"),
    }
}

#[test]
fn an_endless_loop_is_stopped_at_the_deadline() {
    let run = run_hostile("loop", "timeoutMillis: 100, fuel: 1000000000000");
    assert_eq!(
        run.outcome.unwrap_err(),
        CallError::Deadline {
            timeout_millis: 100
        }
    );
    assert!(
        run.stats.duration < Duration::from_secs(5),
        "stopped near the 100 ms deadline, took {:?}",
        run.stats.duration
    );
}

#[test]
fn an_endless_loop_is_stopped_by_fuel() {
    let run = run_hostile("loop", "timeoutMillis: 60000, fuel: 10000000");
    assert_eq!(
        run.outcome.unwrap_err(),
        CallError::FuelExhausted { fuel: 10_000_000 }
    );
    assert!(run.stats.fuel_consumed >= 10_000_000);
}

#[test]
fn unbounded_allocation_is_stopped_at_the_memory_cap() {
    let run = run_hostile("alloc", "memoryMib: 32");
    assert_eq!(
        run.outcome.unwrap_err(),
        CallError::MemoryCap { limit_mib: 32 }
    );
}

#[test]
fn a_panic_is_classified_with_its_message() {
    match run_hostile("panic", "").outcome {
        Err(CallError::Panic { message }) => {
            assert!(
                message.contains("hostile skill panics on purpose"),
                "{message}"
            )
        }
        other => panic!("want a classified panic, got {other:?}"),
    }
}

#[test]
fn unbounded_recursion_is_a_stack_overflow() {
    assert_eq!(
        run_hostile("recurse", "").outcome.unwrap_err(),
        CallError::StackOverflow
    );
}

#[test]
fn a_tool_call_flood_hits_the_budget() {
    let run = run_hostile("flood", "maxToolCalls: 50");
    match run.outcome {
        Err(CallError::ToolBudgetExhausted(msg)) => assert!(msg.contains("budget 50"), "{msg}"),
        other => panic!("want a tool budget error, got {other:?}"),
    }
    assert!(run.stats.tool_calls > 50 && run.stats.tool_calls <= 50 + 17);
}

#[test]
fn a_stderr_flood_is_cut_off() {
    assert_eq!(
        run_hostile("stderr", "").outcome.unwrap_err(),
        CallError::StderrLimit
    );
}

#[test]
fn secrets_are_denied_in_every_spelling_and_other_namespaces_too() {
    let run = run_hostile("secret", "");
    let outcome = run.outcome.expect("the probe reports its attempts");
    assert!(outcome.findings.len() >= 16, "{outcome:?}");
    // Every refusal is counted for the operator's skillbox_tool_denials_total.
    let denied = outcome
        .findings
        .iter()
        .filter(|f| f.evidence[0].starts_with("denied:"))
        .count();
    assert_eq!(run.stats.tool_denials as usize, denied);
    for f in &outcome.findings {
        let result = &f.evidence[0];
        assert!(!result.contains("LEAK"), "{}: {result}", f.summary);
        assert!(
            result.starts_with("denied:"),
            "{} was not denied: {result}",
            f.summary
        );
    }
    for r in &run.reads {
        for o in &r.objects {
            assert_ne!(o.kind.kind, "Secret", "a Secret reached the skill");
        }
    }
}

#[test]
fn the_host_survives_a_hostile_call_and_serves_the_next() {
    let (_dir, pkg) = package("hostile", HOSTILE_TOOLS, "memoryMib: 32");
    let skill = engine().load(&pkg).unwrap();
    assert!(
        skill
            .investigate(evidence(), &target("alloc"))
            .outcome
            .is_err()
    );
    assert!(
        skill
            .investigate(evidence(), &target("panic"))
            .outcome
            .is_err()
    );
    let ok = skill.investigate(evidence(), &target("benign"));
    assert_eq!(ok.outcome.unwrap().verdict, Verdict::Healthy);
}

#[test]
fn concurrent_neighbours_are_unaffected() {
    let (_dir, pkg) = package(
        "hostile",
        HOSTILE_TOOLS,
        "timeoutMillis: 200, memoryMib: 32",
    );
    let skill = Arc::new(engine().load(&pkg).unwrap());
    let handles: Vec<_> = ["loop", "alloc", "benign", "panic", "benign"]
        .into_iter()
        .map(|name| {
            let skill = skill.clone();
            std::thread::spawn(move || (name, skill.investigate(evidence(), &target(name)).outcome))
        })
        .collect();
    for h in handles {
        let (name, outcome) = h.join().unwrap();
        match name {
            "benign" => assert_eq!(outcome.unwrap().verdict, Verdict::Healthy),
            _ => assert!(outcome.is_err(), "{name}"),
        }
    }
}

#[test]
fn findings_outside_the_prefix_or_about_unread_objects_are_rejected() {
    use skillbox::investigate::{investigate, select_skills};
    let (_dir, pkg) = package("hostile", HOSTILE_TOOLS, "");
    let skill = Arc::new(engine().load(&pkg).unwrap());
    let installed = vec![skill];
    let key = evidence().resolve_kind("Pod").unwrap();
    let selected = select_skills(&installed, &key, &[]).unwrap();
    for (name, why) in [
        ("fabricate", "never read"),
        ("foreign-code", "must start with \"probe.\""),
    ] {
        let report = investigate(&selected, evidence(), &target(name));
        assert!(report.findings.is_empty(), "{name}: {:?}", report.findings);
        let entry = &report.skills[0];
        assert!(
            entry.rejected.iter().any(|r| r.contains(why)),
            "{name}: {:?}",
            entry.rejected
        );
        assert_eq!(report.verdict, Verdict::Inconclusive, "{name}");
    }
}

#[test]
fn a_corrupt_component_does_not_compile_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("corrupt");
    std::fs::create_dir(&pkg).unwrap();
    let mut wasm = std::fs::read(skillbox::builtin::wasm_dir().join("hostile.wasm")).unwrap();
    wasm.truncate(wasm.len() / 2);
    std::fs::write(pkg.join("skill.wasm"), &wasm).unwrap();
    std::fs::write(
        pkg.join("SKILL.md"),
        "---\nname: corrupt\ndescription: half a component\n---\n",
    )
    .unwrap();
    std::fs::write(pkg.join("skill.yaml"), format!(
        "apiVersion: skillbox.dev/v1alpha1\nkind: Skill\nmetadata: {{name: corrupt}}\nspec:\n  codePrefix: probe.\n  module: {{url: skill.wasm, sha256: {}}}\n  grants: {{tools: [get-object]}}\n  targets: [{{kind: Pod}}]\n",
        sha256_hex(&wasm)
    )).unwrap();
    let p = SkillPackage::load_dir(Path::new(&pkg)).unwrap();
    match engine().load(&p) {
        Err(LoadError::Compile { skill, .. }) => assert_eq!(skill, "corrupt"),
        Err(e) => panic!("want a compile error, got {e}"),
        Ok(_) => panic!("half a component compiled"),
    }
}

#[test]
fn compiled_components_are_cached_on_disk_and_a_corrupt_entry_is_recompiled() {
    use skillbox::engine::CacheHit;
    let cache = tempfile::tempdir().unwrap();
    let cfg = || EngineConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        max_instances: 4,
        ..EngineConfig::default()
    };
    let (_dir, pkg) = package("hostile", HOSTILE_TOOLS, "");
    let first = SkillEngine::new(cfg()).unwrap();
    assert_eq!(first.load(&pkg).unwrap().cache_hit(), CacheHit::Compiled);
    assert_eq!(first.load(&pkg).unwrap().cache_hit(), CacheHit::Memory);
    let second = SkillEngine::new(cfg()).unwrap();
    let from_disk = second.load(&pkg).unwrap();
    assert_eq!(from_disk.cache_hit(), CacheHit::Disk);
    assert_eq!(
        from_disk
            .investigate(evidence(), &target("benign"))
            .outcome
            .unwrap()
            .verdict,
        Verdict::Healthy
    );
    let mut corrupted = 0;
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "cwasm") {
            std::fs::write(&p, b"not a compiled component").unwrap();
            corrupted += 1;
        }
    }
    assert_eq!(corrupted, 1);
    let third = SkillEngine::new(cfg()).unwrap();
    let recompiled = third.load(&pkg).unwrap();
    assert_eq!(recompiled.cache_hit(), CacheHit::Compiled);
    assert!(
        recompiled
            .investigate(evidence(), &target("benign"))
            .outcome
            .is_ok()
    );
}

#[test]
fn packages_from_skills_dirs_run_through_the_cli() {
    let (dir, _pkg) = package("hostile", HOSTILE_TOOLS, "");
    let snap = tempfile::tempdir().unwrap();
    std::fs::write(snap.path().join("objects.yaml"), SNAPSHOT).unwrap();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let args = [
        "skillbox",
        "investigate",
        "pod/victim",
        "--snapshot",
        &snap.path().display().to_string(),
        "--skills",
        &dir.path().display().to_string(),
        "--skill",
        "hostile",
        "-o",
        "json",
        "--no-cache",
    ]
    .map(std::ffi::OsString::from);
    let code = skillbox::cli::run(args, &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["skills"].as_array().unwrap().len(), 1);
    assert_eq!(report["skills"][0]["name"], "hostile");
    assert_eq!(report["verdict"], "healthy");
}

#[test]
fn builtin_detect_runs_sandboxed_and_tells_failing_from_healthy() {
    let cases = [
        (
            "workload-health",
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a"},"status":{"phase":"Running","containerStatuses":[{"name":"c","state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}"#,
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a"},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"c","ready":true,"state":{"running":{}}}]}}"#,
        ),
        (
            "rootsync-investigation",
            r#"{"apiVersion":"configsync.gke.io/v1beta1","kind":"RootSync","metadata":{"name":"root-sync","namespace":"config-management-system"},"status":{"sync":{"errors":[{"code":"2009","errorMessage":"KNV2009: failed to apply"}]}}}"#,
            r#"{"apiVersion":"configsync.gke.io/v1beta1","kind":"RootSync","metadata":{"name":"root-sync","namespace":"config-management-system"},"status":{"sync":{"commit":"abc"},"source":{"commit":"abc"}}}"#,
        ),
        (
            "mesh-investigation",
            r#"{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"r","namespace":"a"},"spec":{"hosts":["r"],"http":[{"fault":{"abort":{"httpStatus":500,"percentage":{"value":100}}},"route":[{"destination":{"host":"r"}}]}]}}"#,
            r#"{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"r","namespace":"a"},"spec":{"hosts":["r"],"http":[{"route":[{"destination":{"host":"r"}}]}]}}"#,
        ),
    ];
    for (name, failing, healthy) in cases {
        let pkg = SkillPackage::from_builtin(skillbox::builtin::find(name).unwrap()).unwrap();
        let skill = engine().load(&pkg).unwrap();
        assert_eq!(
            skill.detect(failing),
            Ok(true),
            "{name} on a failing object"
        );
        assert_eq!(
            skill.detect(healthy),
            Ok(false),
            "{name} on a healthy object"
        );
        assert_eq!(skill.detect("not json"), Ok(false), "{name} on garbage");
        let m = skill.describe().unwrap();
        assert_eq!(m.name, name);
        assert_eq!(m.code_prefix, pkg.spec().code_prefix);
    }
}

#[test]
fn destructive_suggestions_from_a_skill_are_removed() {
    use skillbox::investigate::{investigate, select_skills};
    let (_dir, pkg) = package("hostile", HOSTILE_TOOLS, "");
    let installed = vec![Arc::new(engine().load(&pkg).unwrap())];
    let key = evidence().resolve_kind("Pod").unwrap();
    let selected = select_skills(&installed, &key, &[]).unwrap();
    let report = investigate(&selected, evidence(), &target("destructive"));
    assert_eq!(report.findings.len(), 1);
    let f = &report.findings[0];
    assert_eq!(
        f.suggestions,
        ["Raise the memory limit in the Deployment manifest in Git"]
    );
    let rejected = &report.skills[0].rejected;
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert!(rejected[0].contains("kubectl delete"), "{rejected:?}");
    assert_eq!(report.verdict, Verdict::Resolved);
}
