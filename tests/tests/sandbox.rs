//! The sandbox's machinery, beside the attacks of `probes.rs`: a corrupt component does not
//! compile and says so, compiled components are cached on disk (and a corrupt entry recompiled),
//! packages from `--skills` run through the CLI, the built-ins' `detect` runs sandboxed.

#[path = "support/probes.rs"]
mod support;

use skillbox::engine::{EngineConfig, LoadError, SkillEngine, sha256_hex};
use skillbox::package::SkillPackage;
use skillbox_guest::Verdict;
use std::path::Path;
use support::{SNAPSHOT, engine, evidence, package, victim};

#[test]
fn a_corrupt_component_does_not_compile_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("corrupt");
    std::fs::create_dir(&pkg).unwrap();
    let mut wasm = std::fs::read(skillbox::builtin::wasm_dir().join("panics.wasm")).unwrap();
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
    // NB: detect-hang's investigate is harmless (healthy); only its detect hangs.
    let pkg = package("detect-hang");
    let first = SkillEngine::new(cfg()).unwrap();
    assert_eq!(first.load(&pkg).unwrap().cache_hit(), CacheHit::Compiled);
    assert_eq!(first.load(&pkg).unwrap().cache_hit(), CacheHit::Memory);
    let second = SkillEngine::new(cfg()).unwrap();
    let from_disk = second.load(&pkg).unwrap();
    assert_eq!(from_disk.cache_hit(), CacheHit::Disk);
    assert_eq!(
        from_disk
            .investigate(evidence(), &victim())
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
            .investigate(evidence(), &victim())
            .outcome
            .is_ok()
    );
}

#[test]
fn packages_from_skills_dirs_run_through_the_cli() {
    let (dir, _pkg) = support::package_with("detect-hang", |_| {});
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
        "detect-hang",
        "-o",
        "json",
        "--no-cache",
    ]
    .map(std::ffi::OsString::from);
    let code = skillbox::cli::run(args, &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["skills"].as_array().unwrap().len(), 1);
    assert_eq!(report["skills"][0]["name"], "detect-hang");
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
