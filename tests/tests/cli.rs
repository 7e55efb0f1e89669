//! The `skillbox` command, driven in-process: reports on public scenarios, and a clear message
//! with a non-zero exit for every bad input.

use std::path::{Path, PathBuf};

fn run(args: &[&str]) -> (i32, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let argv = std::iter::once("skillbox")
        .chain(args.iter().copied())
        .map(Into::into);
    let code = skillbox::cli::run(argv, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/scenarios");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("NOTE: ../shared/scenarios is absent; scenario checks skipped");
        None
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn snapshot(scenario: &str) -> Option<String> {
    shared().map(|s| s.join(scenario).join("cluster").display().to_string())
}

#[test]
fn json_report_follows_the_report_spec() {
    let Some(snap) = snapshot("workload-crashloop") else {
        return;
    };
    let (code, out, err) = run(&[
        "investigate",
        "pods/reviews-v2-cxplld9gj5-pkmth",
        "-n",
        "bookinfo",
        "--snapshot",
        &snap,
        "-o",
        "json",
        "--no-cache",
    ]);
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["verdict"], "resolved");
    assert_eq!(r["target"]["kind"], "Pod");
    assert_eq!(r["target"]["apiVersion"], "v1");
    assert_eq!(r["findings"][0]["code"], "workload.crashloop");
    assert_eq!(r["findings"][0]["skill"], "workload-health");
    assert_eq!(r["llm"]["required"], false);
    assert_eq!(r["llm"]["called"], false);
    let skill = &r["skills"][0];
    assert_eq!(skill["name"], "workload-health");
    assert!(skill["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(skill["fuelConsumed"].as_u64().unwrap() > 0);
    assert!(skill["toolCalls"].as_u64().unwrap() > 0);
    for key in ["durationMicros", "startedAt", "completedAt"] {
        assert!(skill.get(key).is_some() || r.get(key).is_some(), "{key}");
    }
}

#[test]
fn yaml_and_text_outputs_carry_the_same_findings() {
    let Some(snap) = snapshot("workload-image-pull") else {
        return;
    };
    let base = [
        "investigate",
        "Deployment.apps/ratings-v1",
        "-n",
        "bookinfo",
        "--snapshot",
        &snap,
    ];
    let (code, yaml, err) = run(&[&base[..], &["-o", "yaml"]].concat());
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(r["verdict"], "resolved");
    let (code, text, _) = run(&base);
    assert_eq!(code, 0);
    assert!(
        text.contains("Error [workload.image-pull] (Pod bookinfo/"),
        "{text}"
    );
    assert!(text.contains("Verdict: resolved"), "{text}");
}

#[test]
fn identical_input_gives_identical_findings() {
    let Some(snap) = snapshot("workload-service-no-endpoints") else {
        return;
    };
    let args = [
        "investigate",
        "svc/details",
        "-n",
        "bookinfo",
        "--snapshot",
        &snap,
        "-o",
        "json",
    ];
    let strip = |s: String| {
        let mut v: serde_json::Value = serde_json::from_str(&s).unwrap();
        for k in ["startedAt", "completedAt"] {
            v[k] = serde_json::Value::Null;
        }
        for s in v["skills"].as_array_mut().unwrap() {
            s["durationMicros"] = serde_json::Value::Null;
        }
        v
    };
    assert_eq!(strip(run(&args).1), strip(run(&args).1));
}

#[test]
fn demo_investigates_the_bundled_examples() {
    let (code, out, err) = run(&["demo"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("workload.oom-killed"), "{out}");
    assert!(out.contains("workload.service-no-endpoints"), "{out}");
    assert!(out.contains("Verdict: healthy"), "{out}");
}

#[test]
fn missing_snapshot_folder() {
    let (code, _, err) = run(&[
        "investigate",
        "pod/x",
        "--snapshot",
        "/nonexistent/snapshot",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/snapshot"), "{err}");
}

#[test]
fn target_not_in_the_snapshot_suggests_close_names() {
    let Some(snap) = snapshot("workload-crashloop") else {
        return;
    };
    let (code, _, err) = run(&[
        "investigate",
        "deployment/reviews-v4",
        "-n",
        "bookinfo",
        "--snapshot",
        &snap,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("not found"), "{err}");
    assert!(err.contains("did you mean"), "{err}");
    assert!(err.contains("bookinfo/reviews-v"), "{err}");
    let (code, _, err) = run(&["investigate", "deployment/reviews-v1", "--snapshot", &snap]);
    assert_eq!(code, 1);
    assert!(
        err.contains("another namespace: bookinfo/reviews-v1"),
        "{err}"
    );
}

#[test]
fn unknown_kind_lists_the_kinds_present() {
    let Some(snap) = snapshot("workload-crashloop") else {
        return;
    };
    let (code, _, err) = run(&["investigate", "widget/x", "--snapshot", &snap]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown kind \"widget\""), "{err}");
    assert!(err.contains("Deployment"), "{err}");
}

#[test]
fn malformed_target_and_usage_errors() {
    let (code, _, err) = run(&["investigate", "just-a-name", "--snapshot", "."]);
    assert_eq!(code, 1);
    assert!(err.contains("KIND/NAME"), "{err}");
    let (code, _, err) = run(&["investigate", "pod/x"]);
    assert_eq!(code, 2, "missing --snapshot is a usage error");
    assert!(err.contains("--snapshot"), "{err}");
}

#[test]
fn malformed_yaml_is_warned_about_and_the_rest_still_investigated() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pods.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nstatus:\n  phase: Running\n  conditions: [{type: Ready, status: \"True\"}]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.yaml"), "kind: [unclosed\n").unwrap();
    let snap = dir.path().display().to_string();
    let (code, out, err) = run(&["investigate", "pod/p", "--snapshot", &snap, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("broken.yaml"), "{err}");
    assert!(err.contains("warning"), "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["verdict"], "healthy");
}

#[test]
fn no_skill_for_a_kind_and_unknown_skill_names() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: default}\n",
    )
    .unwrap();
    let snap = dir.path().display().to_string();
    let (code, _, err) = run(&["investigate", "cm/c", "--snapshot", &snap]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no installed skill investigates ConfigMap"),
        "{err}"
    );
    let (code, _, err) = run(&[
        "investigate",
        "cm/c",
        "--snapshot",
        &snap,
        "--skill",
        "nope",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("skill \"nope\" is not installed"), "{err}");
}

/// A copy of the workload-health package folder with its component beside it.
fn package_copy(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let src = repo().join("skills-wasm/workload-health");
    let pkg = dir.join("workload-health");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::copy(src.join("SKILL.md"), pkg.join("SKILL.md")).unwrap();
    let manifest = std::fs::read_to_string(src.join("skill.yaml")).unwrap();
    std::fs::write(pkg.join("skill.yaml"), edit(manifest)).unwrap();
    pkg
}

#[test]
fn skill_validate_accepts_the_builtin_package() {
    let (code, out, err) = run(&[
        "skill",
        "validate",
        &repo()
            .join("skills-wasm/workload-health")
            .display()
            .to_string(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("valid:"), "{out}");
    assert!(out.contains("imports within grants"), "{out}");
}

#[test]
fn skill_validate_names_the_broken_rule() {
    let dir = tempfile::tempdir().unwrap();
    // A manifest granting Secret.
    let pkg = package_copy(dir.path(), |m| {
        m.replace("kinds: [Pod,", "kinds: [Secret, Pod,")
    });
    let (code, _, err) = run(&["skill", "validate", &pkg.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("Secrets are never granted"), "{err}");

    // An invalid SKILL.md.
    let pkg = package_copy(dir.path(), |m| m);
    std::fs::write(
        pkg.join("SKILL.md"),
        "---\nname: Workload_Health\ndescription: x\n---\n",
    )
    .unwrap();
    let (code, _, err) = run(&["skill", "validate", &pkg.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("[a-z0-9-]"), "{err}");

    // A corrupt component.
    let pkg = package_copy(dir.path(), |m| {
        m.replace(
            "builtin: workload-health",
            &format!(
                "url: skill.wasm\n    sha256: {}",
                skillbox::engine::sha256_hex(b"\0asm\x0d\0\x01\0junk")
            ),
        )
    });
    std::fs::copy(
        repo().join("skills-wasm/workload-health/SKILL.md"),
        pkg.join("SKILL.md"),
    )
    .unwrap();
    std::fs::write(pkg.join("skill.wasm"), b"\0asm\x0d\0\x01\0junk").unwrap();
    let (code, _, err) = run(&[
        "skill",
        "validate",
        &pkg.display().to_string(),
        "--no-cache",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("does not compile"), "{err}");

    // A tool the component imports but the manifest does not grant.
    let pkg = package_copy(dir.path(), |m| {
        m.replace(
            "tools: [get-object, list-objects, list-events, read-logs]",
            "tools: [get-object, list-objects, list-events]",
        )
    });
    let (code, _, err) = run(&["skill", "validate", &pkg.display().to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("read-logs"), "{err}");
    assert!(err.contains("does not grant"), "{err}");
}

#[test]
fn skill_inspect_lists_imports_exports_and_digest() {
    let (code, out, err) = run(&[
        "skill",
        "inspect",
        &repo()
            .join("skills-wasm/workload-health")
            .display()
            .to_string(),
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["name"], "workload-health");
    assert!(v["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(v["sizeBytes"].as_u64().unwrap() > 1000);
    let imports: Vec<&str> = v["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect();
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("skillbox:skill/get-object@0.1")),
        "{imports:?}"
    );
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:filesystem")),
        "{imports:?}"
    );
    let exports = v["exports"].as_array().unwrap();
    for e in ["describe", "investigate", "detect"] {
        assert!(exports.iter().any(|x| x == e), "{e}");
    }
}

#[test]
fn bench_names_targets_as_investigate_does() {
    let snap = repo().join("examples/checkout-oom/cluster");
    let snap = snap.to_str().unwrap();
    let (code, out, err) = run(&[
        "bench",
        "--snapshot",
        snap,
        "deployment/checkout",
        "-n",
        "shop",
        "--iterations",
        "1",
        "-o",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let targets = report["targets"].as_array().expect("targets");
    assert!(
        targets
            .iter()
            .any(|t| t["target"] == "Deployment shop/checkout" && t["result"] == "resolved"),
        "{out}"
    );
    // Without -n the namespace is `default`, as for `investigate`, with the same hint.
    let (code, _, err) = run(&["bench", "--snapshot", snap, "deployment/checkout"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("default/checkout") && err.contains("shop/checkout (use -n)"),
        "{err}"
    );
    let (code, _, err) = run(&["bench", "--snapshot", snap, "--skill", "nope"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("nope") && err.contains("workload-health"),
        "{err}"
    );
}
