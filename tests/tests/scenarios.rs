//! Every scenario folder — the public corpus in `../shared/scenarios`, ours in `tests/scenarios`
//! and the demo's in `examples/` — investigated in-process and judged against its `expect`
//! (new folders are picked up as they appear), and investigated twice to prove the JSON report is
//! byte-identical apart from the values of durations and timestamps.

use serde_json::Value;
use std::path::{Path, PathBuf};

fn corpora() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = vec![root.join("scenarios"), root.join("../examples")];
    let shared = root.join("../../shared/scenarios");
    if shared.is_dir() {
        out.push(shared);
    } else {
        eprintln!("NOTE: ../shared/scenarios is absent; only the repository's scenarios run");
    }
    out
}

fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for corpus in corpora() {
        let Ok(entries) = std::fs::read_dir(&corpus) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().join("scenario.yaml").is_file() {
                dirs.push(e.path());
            }
        }
    }
    dirs.sort();
    dirs
}

fn investigate(dir: &Path, sc: &Value) -> Result<String, String> {
    let t = &sc["target"];
    let target = format!(
        "{}/{}",
        t["kind"].as_str().unwrap_or(""),
        t["name"].as_str().unwrap_or("")
    );
    let snapshot = dir.join("cluster").display().to_string();
    let mut args = vec!["skillbox", "investigate", &target, "--snapshot", &snapshot];
    if let Some(ns) = t["namespace"].as_str() {
        args.extend(["-n", ns]);
    }
    args.extend(["-o", "json"]);
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = skillbox::cli::run(args.iter().map(Into::into), &mut out, &mut err);
    if code != 0 {
        return Err(format!(
            "exit {code}: {}",
            String::from_utf8_lossy(&err).trim()
        ));
    }
    Ok(String::from_utf8(out).unwrap())
}

/// The report without what may differ between runs.
fn stable(json: &str) -> Value {
    let mut v: Value = serde_json::from_str(json).unwrap();
    v["startedAt"] = Value::Null;
    v["completedAt"] = Value::Null;
    if let Some(skills) = v["skills"].as_array_mut() {
        for s in skills {
            s["durationMicros"] = Value::Null;
        }
    }
    v
}

/// The report text with the values of `durationMicros`, `startedAt` and `completedAt` blanked,
/// byte for byte otherwise.
fn masked(json: &str) -> String {
    json.lines()
        .map(|l| {
            let t = l.trim_start();
            if ["\"durationMicros\":", "\"startedAt\":", "\"completedAt\":"]
                .iter()
                .any(|k| t.starts_with(k))
            {
                let key_end = l.find(':').unwrap_or(l.len());
                format!("{}: <masked>", &l[..key_end])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn judge(report: &Value, expect: &Value) -> Vec<String> {
    let mut why = Vec::new();
    if report["verdict"] != expect["verdict"] {
        why.push(format!(
            "verdict {}, want {}",
            report["verdict"], expect["verdict"]
        ));
    }
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str())
        .collect();
    for want in expect["codes"].as_array().into_iter().flatten() {
        if !codes.contains(&want.as_str().unwrap_or("")) {
            why.push(format!("missing {want} (got {codes:?})"));
        }
    }
    for bad in expect["forbid"].as_array().into_iter().flatten() {
        if codes.contains(&bad.as_str().unwrap_or("")) {
            why.push(format!("forbidden {bad} reported"));
        }
    }
    if let Some(want) = expect["llmRequired"].as_bool()
        && report["llm"]["required"].as_bool() != Some(want)
    {
        why.push(format!(
            "llm.required {}, want {want}",
            report["llm"]["required"]
        ));
    }
    for s in report["skills"].as_array().into_iter().flatten() {
        if let Some(r) = s["rejected"].as_array() {
            why.push(format!("the host rejected parts of {}: {r:?}", s["name"]));
        }
        if s.get("error").is_some() {
            why.push(format!("skill {} failed: {}", s["name"], s["error"]));
        }
    }
    why
}

#[test]
fn every_scenario_meets_its_expectations_deterministically() {
    let dirs = scenario_dirs();
    assert!(!dirs.is_empty(), "no scenarios found");
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.display().to_string();
        let text = std::fs::read_to_string(dir.join("scenario.yaml")).unwrap();
        let sc: Value = serde_yaml_ng::from_str(&text).unwrap();
        match (investigate(dir, &sc), investigate(dir, &sc)) {
            (Ok(a), Ok(b)) => {
                if masked(&a) != masked(&b) {
                    failures.push(format!("{name}: two runs are not byte-identical"));
                }
                let a = stable(&a);
                for w in judge(&a, &sc["expect"]) {
                    failures.push(format!("{name}: {w}"));
                }
            }
            (Err(e), _) | (_, Err(e)) => failures.push(format!("{name}: {e}")),
        }
    }
    println!("{} scenarios, {} failures", dirs.len(), failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The finding codes of `../shared/spec/findings.md`: backticked `mesh.…`, `workload.…` and
/// `rootsync.…` words in its tables.
fn catalogue() -> Option<Vec<String>> {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec/findings.md");
    let text = std::fs::read_to_string(spec).ok()?;
    let mut codes: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('`').nth(1))
        .filter(|c| {
            ["mesh.", "workload.", "rootsync."]
                .iter()
                .any(|p| c.starts_with(p))
        })
        .map(str::to_string)
        .collect();
    codes.sort();
    codes.dedup();
    Some(codes)
}

#[test]
fn every_catalogued_code_is_expected_by_some_scenario() {
    let Some(codes) = catalogue() else {
        eprintln!("NOTE: ../shared/spec/findings.md is absent; coverage check skipped");
        return;
    };
    assert!(
        codes.len() >= 24,
        "read {} codes from findings.md",
        codes.len()
    );
    let mut expected = std::collections::BTreeSet::new();
    for dir in scenario_dirs() {
        let text = std::fs::read_to_string(dir.join("scenario.yaml")).unwrap();
        let sc: Value = serde_yaml_ng::from_str(&text).unwrap();
        for c in sc["expect"]["codes"].as_array().into_iter().flatten() {
            expected.insert(c.as_str().unwrap_or_default().to_string());
        }
    }
    let missing: Vec<&String> = codes.iter().filter(|c| !expected.contains(*c)).collect();
    assert!(missing.is_empty(), "codes no scenario expects: {missing:?}");
}
