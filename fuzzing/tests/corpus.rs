//! Replays every checked-in input of every fuzz target through its property, on stable, as part
//! of `cargo test`: the seeds of `fuzz/corpus/<target>/` and the crashes found, kept as
//! `fuzz/regressions/<target>/`. A target without seeds fails rather than passing empty.

use skillbox_fuzzing::TARGETS;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable folder entry").path())
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    out.sort();
    out
}

fn property(target: &str) -> skillbox_fuzzing::Property {
    TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no property named {target}"))
        .1
}

/// Runs `target`'s property over its seeds and regressions; names each input that fails.
fn replay(target: &str) {
    let check = property(target);
    let seeds = files(&fuzz_dir().join("corpus").join(target));
    assert!(
        !seeds.is_empty(),
        "fuzz/corpus/{target}/ is missing or empty: every target keeps seeds"
    );
    let regressions = files(&fuzz_dir().join("regressions").join(target));
    let mut failed = Vec::new();
    for file in seeds.iter().chain(&regressions) {
        let data = std::fs::read(file).expect("a readable corpus file");
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: the property fails on {} of {} inputs (messages above): {failed:#?}",
        failed.len(),
        seeds.len() + regressions.len()
    );
}

#[test]
fn snapshot() {
    replay("snapshot");
}

#[test]
fn yaml_fast_path() {
    replay("yaml_fast_path");
}

#[test]
fn skill_md() {
    replay("skill_md");
}

#[test]
fn manifest() {
    replay("manifest");
}

#[test]
fn outcome_check() {
    replay("outcome_check");
}

#[test]
fn output_filter() {
    replay("output_filter");
}

#[test]
fn anthropic_response() {
    replay("anthropic_response");
}

#[test]
fn ollama_response() {
    replay("ollama_response");
}

#[test]
fn openai_response() {
    replay("openai_response");
}

#[test]
fn label_selector() {
    replay("label_selector");
}

#[test]
fn wasm_outcome() {
    replay("wasm_outcome");
}

/// The fuzz targets, the properties and the replays above name the same set, and each target
/// file says its property in its first line.
#[test]
fn every_target_is_a_property_with_a_stated_property() {
    let mut on_disk: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("a readable target");
            assert!(
                text.starts_with("//! "),
                "{} does not start with a `//!` line stating its property",
                p.display()
            );
            p.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "fuzz/fuzz_targets/ and TARGETS differ");
    let this =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus.rs"))
            .expect("this file");
    for name in &listed {
        assert!(
            this.contains(&format!("replay(\"{name}\")")),
            "no replay test for {name}"
        );
    }
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for name in &listed {
        assert!(
            manifest.contains(&format!("path = \"fuzz_targets/{name}.rs\"")),
            "fuzz/Cargo.toml has no [[bin]] for {name}"
        );
    }
}

/// The toolchain the fuzz build compiles the guest skills with is the one the main workspace
/// pins, so fuzzing runs the very components CI tests.
#[test]
fn guest_toolchain_is_the_pinned_one() {
    let channel = |text: &str, key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .map(|v| {
                v.trim()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches('"')
                    .to_string()
            })
    };
    let pinned = std::fs::read_to_string(fuzz_dir().join("../rust-toolchain.toml")).unwrap();
    let config = std::fs::read_to_string(fuzz_dir().join(".cargo/config.toml")).unwrap();
    assert_eq!(
        channel(&config, "SKILLBOX_GUEST_TOOLCHAIN"),
        channel(&pinned, "channel"),
        "fuzz/.cargo/config.toml builds guests with another toolchain than rust-toolchain.toml"
    );
}
