//! Scenario corpora through the real binary, with the corpus runner of `../shared/tools`: the
//! public corpus (every scenario, so new ones are picked up), ours in `tests/scenarios`, and the
//! demo's examples.

use std::path::Path;
use std::process::Command;

fn run_corpus(corpus: &Path) {
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/run_corpus.py");
    if !runner.is_file() || !corpus.is_dir() {
        eprintln!("NOTE: ../shared is absent; corpus run skipped");
        return;
    }
    let mut cmd = Command::new("python3");
    cmd.arg(&runner)
        .arg(corpus)
        .arg(env!("CARGO_BIN_EXE_skillbox"));
    let out = cmd.output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "corpus run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

#[test]
fn public_scenarios_pass() {
    run_corpus(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/scenarios"));
}

#[test]
fn our_scenarios_pass() {
    run_corpus(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios"));
}

#[test]
fn bundled_examples_pass() {
    run_corpus(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples"));
}
