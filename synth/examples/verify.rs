//! Checks a snapshot written by `synth` at any size, the way the correctness test checks a small
//! one: loads `<out>/cluster` with the host's snapshot loader (timed), then investigates every
//! target of `<out>/planted.json` with the built-in skills and compares codes and verdicts.
//!
//! ```text
//! cargo run --release -p skillbox-synth --example verify -- /tmp/synth-100k
//! ```
//! Prints one line per target (time, verdict, codes, and any `info` finding such as
//! `mesh.evidence-incomplete`), and exits 1 when a target does not get what planted.json says.

use serde_json::Value;
use skillbox::engine::{EngineConfig, SkillEngine};
use skillbox::evidence::{EvidenceSource, SnapshotSource};
use skillbox::investigate::{investigate, resolve_target, select_skills};
use skillbox::package::SkillPackage;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1).map(std::path::PathBuf::from) else {
        eprintln!("usage: verify OUT (the folder synth --out wrote)");
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let snap = match SnapshotSource::load(&out.join(skillbox_synth::SNAPSHOT_DIR)) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("verify: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "loaded {} objects with {} warnings in {:.2} s",
        snap.object_count(),
        snap.warnings().len(),
        started.elapsed().as_secs_f64()
    );
    let planted = std::fs::read_to_string(out.join(skillbox_synth::PLANTED_FILE))
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()));
    let planted = match planted {
        Ok(p) => p,
        Err(e) => {
            eprintln!("verify: cannot read planted.json: {e}");
            return ExitCode::FAILURE;
        }
    };
    let engine = SkillEngine::new(EngineConfig::default()).expect("engine");
    let installed: Vec<_> = SkillPackage::builtins()
        .expect("built-in skills")
        .iter()
        .map(|p| Arc::new(engine.load(p).expect("load")))
        .collect();
    let entries = planted["planted"].as_array().into_iter().flatten();
    let healthy = planted["healthy"].as_array().into_iter().flatten();
    let (mut total, mut bad) = (0, 0);
    for entry in entries.chain(healthy) {
        total += 1;
        let t = &entry["target"];
        let (kind, name) = (
            t["kind"].as_str().unwrap_or(""),
            t["name"].as_str().unwrap_or(""),
        );
        let ns = t["namespace"].as_str();
        let target = match resolve_target(snap.as_ref(), kind, ns, name) {
            Ok(t) => t,
            Err(e) => {
                bad += 1;
                println!("BAD {kind} {}/{name}: {e}", ns.unwrap_or(""));
                continue;
            }
        };
        let key = snap.resolve_kind(&target.kind).expect("kind");
        let selected = select_skills(&installed, &key, &[]).expect("skills");
        let evidence: Arc<dyn EvidenceSource> = snap.clone();
        let started = Instant::now();
        let report = serde_json::to_value(investigate(&selected, evidence, &target)).expect("json");
        let took = started.elapsed();
        let findings = report["findings"].as_array().cloned().unwrap_or_default();
        let mut codes: Vec<&str> = findings
            .iter()
            .filter(|f| f["severity"] != "info")
            .filter_map(|f| f["code"].as_str())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let info: Vec<String> = findings
            .iter()
            .filter(|f| f["severity"] == "info")
            .map(|f| {
                format!(
                    "{} ({})",
                    f["code"].as_str().unwrap_or(""),
                    f["evidence"][0].as_str().unwrap_or("")
                )
            })
            .collect();
        let mut want: Vec<&str> = entry["codes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        // `codes` is sorted and deduplicated; planted.json's order is not a promise.
        want.sort_unstable();
        want.dedup();
        let verdict = report["verdict"].as_str().unwrap_or("");
        let ok = verdict == entry["verdict"] && codes == want;
        if !ok {
            bad += 1;
        }
        println!(
            "{} {:>8.2} ms {kind} {}/{name}: {verdict} {codes:?}{}{}",
            if ok { "ok " } else { "BAD" },
            took.as_secs_f64() * 1e3,
            ns.unwrap_or(""),
            if ok {
                String::new()
            } else {
                format!(" (want {} {want:?})", entry["verdict"])
            },
            if info.is_empty() {
                String::new()
            } else {
                format!(" info: {}", info.join("; "))
            },
        );
    }
    println!("{total} targets, {bad} not as planted.json says");
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
