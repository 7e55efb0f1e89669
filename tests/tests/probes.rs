//! Every hostile probe (`skills-wasm/probes/`, one real component per attack) against the layer
//! of the safety triangle meant to stop it: link time (the import whitelist), call time (the
//! resource policy, the WASI context), the limits (fuel, deadline, memory, stack, stderr, tool
//! budget), the output checks, and `skillbox probe`'s honeytoken scan. Each test asserts the
//! exact containment — layer, error class, and what the attack got — while a benign skill
//! investigates beside it, and that the neighbour's report is the one it gives alone.

#[path = "support/probes.rs"]
mod support;

use serde_json::Value;
use skillbox::check::{self, Rejection};
use skillbox::engine::{CallError, LoadError, SkillRun};
use skillbox::evidence::{EvidenceSource, SnapshotSource};
use skillbox::package::SkillPackage;
use skillbox::probe::{self, Status};
use skillbox::tools::ImportRefusal;
use skillbox_guest::{ObjectRef, Outcome, Verdict};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use support::{engine, evidence, package, package_with, set_limit, victim};

// ---------------------------------------------------------------------------------------------
// The neighbour: workload-health on an example of ours, alone and beside each attack.

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The neighbour's report as JSON, without the fields that vary from run to run (durations,
/// timestamps; fuel too, since a skill's HashMaps are seeded from the sandbox's random source).
fn neighbour_report() -> Value {
    static SKILL: OnceLock<Arc<skillbox::engine::LoadedSkill>> = OnceLock::new();
    static EVIDENCE: OnceLock<Arc<dyn EvidenceSource>> = OnceLock::new();
    let skill = SKILL.get_or_init(|| {
        let b = skillbox::builtin::find("workload-health").unwrap();
        Arc::new(
            engine()
                .load(&SkillPackage::from_builtin(b).unwrap())
                .unwrap(),
        )
    });
    let evidence = EVIDENCE.get_or_init(|| {
        Arc::new(SnapshotSource::load(&repo().join("examples/checkout-oom/cluster")).unwrap())
    });
    let target = ObjectRef::namespaced("apps/v1", "Deployment", "shop", "checkout");
    let report = skillbox::investigate::investigate(&[skill], evidence.clone(), &target);
    let mut v = serde_json::to_value(&report).unwrap();
    for k in ["startedAt", "completedAt"] {
        v.as_object_mut().unwrap().remove(k);
    }
    for s in v["skills"].as_array_mut().unwrap() {
        for k in ["durationMicros", "fuelConsumed"] {
            s.as_object_mut().unwrap().remove(k);
        }
    }
    v
}

fn baseline() -> &'static Value {
    static BASELINE: OnceLock<Value> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let v = neighbour_report();
        assert_eq!(
            v["verdict"], "resolved",
            "the neighbour finds the OOM kill: {v}"
        );
        v
    })
}

/// Runs `attack` while the neighbour investigates over and over on another thread; fails if
/// any of the neighbour's reports differs from its report alone.
fn beside_a_neighbour<T>(attack: impl FnOnce() -> T) -> T {
    let want = baseline();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let neighbour = s.spawn(|| {
            let mut runs = 0u32;
            while runs < 2 || !done.load(Ordering::Relaxed) {
                let got = neighbour_report();
                if &got != want {
                    return Err(format!("run {runs}: {got:#}"));
                }
                runs += 1;
            }
            Ok(runs)
        });
        let out = attack();
        done.store(true, Ordering::Relaxed);
        match neighbour.join().expect("the neighbour's thread") {
            Ok(runs) => assert!(runs >= 2),
            Err(e) => panic!("the neighbour's report changed beside the attack: {e}"),
        }
        out
    })
}

/// `investigate(victim)` of a loaded probe, beside the neighbour.
fn attack(pkg: &SkillPackage) -> SkillRun {
    let skill = engine()
        .load(pkg)
        .unwrap_or_else(|e| panic!("{}: {e}", pkg.name()));
    beside_a_neighbour(|| skill.investigate(evidence(), &victim()))
}

/// The refusal of a probe that must not link (tried beside the neighbour).
fn refusal(pkg: &SkillPackage) -> ImportRefusal {
    match beside_a_neighbour(|| engine().load(pkg)) {
        Err(LoadError::Refused { skill, refusal }) => {
            assert_eq!(skill, pkg.name());
            refusal
        }
        Err(e) => panic!("{}: refused for the wrong reason: {e}", pkg.name()),
        Ok(_) => panic!("{} was linked", pkg.name()),
    }
}

/// The outcome of a probe that reports its attempts instead of trapping.
fn reported(run: &SkillRun) -> &Outcome {
    run.outcome
        .as_ref()
        .unwrap_or_else(|e| panic!("the probe reports its attempts: {e}"))
}

/// Every `what -> answer` line a probe reported.
fn answers(o: &Outcome) -> Vec<&str> {
    o.findings
        .iter()
        .flat_map(|f| f.evidence.iter().map(String::as_str))
        .collect()
}

fn classes(r: &[Rejection]) -> Vec<&'static str> {
    r.iter().map(Rejection::class).collect()
}

// ---------------------------------------------------------------------------------------------
// Link time: the import whitelist.

#[test]
fn ungranted_tool_is_refused_at_link_time_by_name() {
    match refusal(&package("ungranted-tool")) {
        ImportRefusal::ToolNotGranted { import, granted } => {
            assert!(import.starts_with("skillbox:skill/read-logs@"), "{import}");
            assert_eq!(granted, "get-object");
        }
        other => panic!("{other:?}"),
    }
    // Granted, the same component links: the refusal was about the grant, nothing else.
    let (_d, granted) = package_with("ungranted-tool", |spec| {
        spec["grants"]["tools"] = serde_yaml_ng::from_str("[get-object, read-logs]").unwrap();
    });
    engine()
        .load(&granted)
        .expect("links once read-logs is granted");
}

#[test]
fn wasi_filesystem_is_refused_at_link_time_whatever_the_grants() {
    let (_d, all_tools) = package_with("wasi-filesystem", |spec| {
        spec["grants"]["tools"] =
            serde_yaml_ng::from_str("[get-object, list-objects, list-events, read-logs]").unwrap();
    });
    match refusal(&all_tools) {
        ImportRefusal::Forbidden { import, reason } => {
            assert!(import.starts_with("wasi:filesystem/"), "{import}");
            assert!(reason.contains("no filesystem"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn wasi_sockets_are_refused_at_link_time() {
    match refusal(&package("wasi-sockets")) {
        ImportRefusal::Forbidden { import, reason } => {
            assert!(import.starts_with("wasi:sockets/"), "{import}");
            assert!(reason.contains("no network"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Call time: the WASI context and the resource policy.

#[test]
fn the_environment_is_empty_and_each_read_is_counted() {
    let run = attack(&package("environment"));
    let o = reported(&run);
    // The test process has PATH, HOME, CARGO_* …: none of it reaches the skill. (`/` is
    // wasi-libc's own default working directory when the host gives none.)
    assert_eq!(o.findings.len(), 1);
    assert_eq!(o.findings[0].summary, "1 environment entries");
    assert_eq!(o.findings[0].evidence, ["cwd /"]);
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    assert!(
        run.stats.environment_reads >= 2,
        "env and args asked for: {}",
        run.stats.environment_reads
    );
}

#[test]
fn secrets_are_denied_in_every_spelling_selector_and_name() {
    let run = attack(&package("secret-reader"));
    let answers = answers(reported(&run));
    assert!(answers.len() > 200, "{}", answers.len());
    let mut denied = 0;
    for a in &answers {
        let (what, answer) = a.split_once(" -> ").expect("what -> answer");
        assert!(!answer.starts_with("LEAK"), "{what}: {answer}");
        if answer.starts_with("denied:") {
            denied += 1;
        } else if what.starts_with("list-objects Pod selector") {
            // A granted kind with a hostile selector: Pods or a parse error, never more.
            assert!(
                answer.ends_with("Pods, nothing else") || answer.starts_with("invalid request:"),
                "{what}: {answer}"
            );
        } else {
            // A path trick on a granted kind is a name that does not exist, not a path; `*` and
            // the empty string are no kind at all.
            let no_such = what.starts_with("get-object Pod ")
                || what.contains(r#" "*" "#)
                || what.contains(r#" "" "#);
            assert!(
                no_such && answer.starts_with("not found:"),
                "{what}: {answer}"
            );
        }
    }
    assert_eq!(run.stats.tool_denials, denied);
    assert_eq!(
        run.denied.len(),
        16,
        "the first denials are kept, all counted"
    );
    assert!(run.denied[0].contains("Secret"), "{}", run.denied[0]);
    for r in &run.reads {
        for obj in &r.objects {
            assert_ne!(obj.kind.kind, "Secret", "a Secret reached the skill");
            assert!(!obj.json.to_string().contains("aHVudGVyMg=="));
        }
    }
}

#[test]
fn other_namespaces_are_denied_and_wide_lists_narrowed_to_the_grant() {
    let run = attack(&package("namespace-escape"));
    let answers = answers(reported(&run));
    assert_eq!(answers.len(), 8 * 6 + 3 + 1);
    let mut denied = 0;
    for a in &answers {
        let (what, answer) = a.split_once(" -> ").unwrap();
        assert!(!answer.contains("LEAK"), "{what}: {answer}");
        if answer.starts_with("denied:") {
            denied += 1;
        } else {
            assert!(
                what.ends_with("everywhere") && answer.ends_with("all in default"),
                "{what}: {answer}"
            );
        }
    }
    assert_eq!(run.stats.tool_denials, denied);
    for r in &run.reads {
        for obj in &r.objects {
            assert_eq!(obj.namespace.as_deref(), Some("default"), "{}", r.request);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The limits: fuel, deadline, memory, stack, stderr, tool budget.

#[test]
fn a_fuel_bomb_is_stopped_by_fuel_and_with_fuel_to_spare_by_the_deadline() {
    let run = attack(&package("fuel-bomb"));
    assert_eq!(
        run.outcome.unwrap_err(),
        CallError::FuelExhausted { fuel: 50_000_000 }
    );
    assert!(run.stats.fuel_consumed >= 50_000_000);

    let (_d, pkg) = package_with("fuel-bomb", |spec| {
        set_limit(spec, "fuel", 1_000_000_000_000);
        set_limit(spec, "timeoutMillis", 100);
    });
    let run = attack(&pkg);
    assert_eq!(
        run.outcome.unwrap_err(),
        CallError::Deadline {
            timeout_millis: 100
        }
    );
    assert!(
        run.stats.duration < std::time::Duration::from_secs(5),
        "stopped near the 100 ms deadline, took {:?}",
        run.stats.duration
    );
}

#[test]
fn a_memory_bomb_is_stopped_at_the_memory_cap() {
    let run = attack(&package("memory-bomb"));
    assert_eq!(
        run.outcome.unwrap_err(),
        CallError::MemoryCap { limit_mib: 32 }
    );
    assert!(run.stats.memory_peak_bytes <= 32 << 20);
    assert!(run.stats.memory_peak_bytes > 16 << 20, "it did grow first");
}

#[test]
fn deep_recursion_is_a_stack_overflow() {
    assert_eq!(
        attack(&package("deep-recursion")).outcome.unwrap_err(),
        CallError::StackOverflow
    );
}

#[test]
fn a_stderr_flood_is_cut_off() {
    assert_eq!(
        attack(&package("stderr-flood")).outcome.unwrap_err(),
        CallError::StderrLimit
    );
}

#[test]
fn a_tool_call_flood_hits_the_budget() {
    let run = attack(&package("tool-call-flood"));
    match run.outcome {
        Err(CallError::ToolBudgetExhausted(msg)) => assert!(msg.contains("budget 64"), "{msg}"),
        other => panic!("want a tool budget error, got {other:?}"),
    }
    // The budget, then a grace of polite `budget-exhausted` answers, then the trap.
    assert!(run.stats.tool_calls > 64 && run.stats.tool_calls <= 64 + 17);
}

#[test]
fn a_detect_that_never_returns_meets_the_deadline() {
    let skill = engine().load(&package("detect-hang")).unwrap();
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"}}"#;
    let (result, stats) = beside_a_neighbour(|| skill.detect_measured(pod));
    assert_eq!(
        result.unwrap_err(),
        CallError::Deadline {
            timeout_millis: 200
        }
    );
    assert!(stats.duration < std::time::Duration::from_secs(5));
    // Its investigate is harmless: the deadline was detect's own.
    let run = attack(&package("detect-hang"));
    assert_eq!(run.outcome.unwrap().verdict, Verdict::Healthy);
}

#[test]
fn a_panic_is_classified_with_its_message_and_the_next_call_is_served() {
    let skill = engine().load(&package("panics")).unwrap();
    match beside_a_neighbour(|| skill.investigate(evidence(), &victim())).outcome {
        Err(CallError::Panic { message }) => {
            assert!(
                message.contains("hostile skill panics on purpose"),
                "{message}"
            )
        }
        other => panic!("want a classified panic, got {other:?}"),
    }
    let memory_bomb = engine().load(&package("memory-bomb")).unwrap();
    assert!(
        memory_bomb
            .investigate(evidence(), &victim())
            .outcome
            .is_err()
    );
    let harmless = engine().load(&package("detect-hang")).unwrap();
    let ok = harmless.investigate(evidence(), &victim());
    assert_eq!(ok.outcome.unwrap().verdict, Verdict::Healthy);
}

// ---------------------------------------------------------------------------------------------
// The output checks.

fn checked(probe: &str) -> (check::CheckedOutcome, Value) {
    let pkg = package(probe);
    let run = attack(&pkg);
    let o = run.outcome.expect("the probe returns an outcome");
    let checked = check::check("probe.", &victim(), &run.reads, o);
    // What would reach a report: its size is bounded whatever the skill sent.
    let json = serde_json::json!({
        "findings": checked.findings,
        "rejected": checked.rejected.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
    });
    (checked, json)
}

#[test]
fn a_findings_flood_keeps_the_cap_and_counts_the_rest() {
    let (c, json) = checked("findings-flood");
    assert_eq!(c.findings.len(), 50);
    // Kept: the 50 even ones (indices 0..=98); rejected: 49 foreign codes, then the cap at
    // index 99 — listed first, then 19 foreign codes, then the other 30 counted.
    assert_eq!(c.rejected.len(), check::MAX_REJECTIONS + 1);
    assert_eq!(
        c.rejected[0],
        Rejection::FindingsCap {
            dropped: 100_000 - 99
        }
    );
    assert_eq!(classes(&c.rejected[1..20]), ["foreign-code"; 19]);
    assert_eq!(c.rejected[20], Rejection::More { count: 30 });
    assert!(
        json.to_string().len() < 64 * 1024,
        "{}",
        json.to_string().len()
    );
}

#[test]
fn giant_strings_are_cut_to_the_bounds_and_stripped_of_control_characters() {
    let (c, json) = checked("giant-strings");
    assert_eq!(classes(&c.rejected), ["truncated"]);
    let Rejection::Truncated { fields, .. } = &c.rejected[0] else {
        unreachable!()
    };
    assert_eq!(
        fields,
        &["code", "resources", "summary", "evidence", "suggestions"]
    );
    let f = &c.findings[0];
    assert_eq!(f.code.chars().count(), 128);
    assert_eq!(f.summary.chars().count(), 512);
    assert_eq!((f.evidence.len(), f.suggestions.len()), (20, 20));
    assert_eq!(f.resources.len(), 20);
    assert!(
        f.resources.iter().all(|r| r.api_version == "v1"),
        "apiVersion from the evidence"
    );
    let text = json.to_string();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "control characters stripped"
    );
    assert!(text.len() < 128 * 1024, "{}", text.len());
}

#[test]
fn foreign_codes_are_dropped() {
    let (c, _) = checked("foreign-code");
    assert!(c.findings.is_empty(), "{:?}", c.findings);
    assert_eq!(
        classes(&c.rejected),
        [
            "foreign-code",
            "foreign-code",
            "foreign-code",
            "foreign-code",
            "foreign-code",
            "foreign-code",
            "verdict"
        ]
    );
    assert_eq!(c.verdict, Verdict::Inconclusive);
}

#[test]
fn fabricated_resources_are_dropped() {
    let (c, _) = checked("fabricated-resource");
    assert!(c.findings.is_empty());
    let named: Vec<String> = c
        .rejected
        .iter()
        .filter_map(|r| match r {
            Rejection::UnreadResource { resource, .. } => Some(resource.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        named,
        [
            "Pod default/never-read",
            "Secret default/db-password",
            "Namespace kube-system"
        ]
    );
}

#[test]
fn destructive_suggestions_are_removed_and_the_git_advice_kept() {
    let (c, _) = checked("destructive-suggestion");
    assert_eq!(classes(&c.rejected), ["mutation"; 4]);
    assert_eq!(
        c.findings[0].suggestions,
        ["Raise the memory limit in the Deployment manifest in Git"]
    );
    assert_eq!(c.verdict, Verdict::Resolved);
}

// ---------------------------------------------------------------------------------------------
// Values a skill may read but must not repeat: `skillbox probe`'s honeytokens, and the
// redaction of skill text on its way to `.status`.

#[test]
fn echoed_configuration_is_caught_by_the_probe_and_credentials_masked_for_status() {
    let r = beside_a_neighbour(|| {
        probe::probe(
            engine(),
            &support::package_dir("config-exfiltration"),
            &["canary".into()],
        )
    })
    .unwrap();
    assert!(!r.passed);
    let echoed: Vec<&str> = r
        .checks
        .iter()
        .filter(|c| c.check == "honeytokens" && c.result == Status::Fail)
        .map(|c| c.detail.as_str())
        .collect();
    for place in ["env API_TOKEN", "data.token", "annotation"] {
        assert!(
            echoed.iter().any(|d| d.contains(place)),
            "{place} not caught: {echoed:?}"
        );
    }
    assert!(
        echoed
            .iter()
            .all(|d| d.starts_with("sensitive value echoed: "))
    );
    // In a cluster the same finding reaches `.status` through the redaction of skill text:
    // `KEY=value` credentials are masked there (annotations are not: the probe is the net).
    let run = attack(&package("config-exfiltration"));
    let o = run.outcome.unwrap();
    let env = o.findings[0]
        .evidence
        .iter()
        .find(|l| l.contains("env API_TOKEN="))
        .expect("the env value was echoed");
    let (masked, n) = skillbox::redact::redact_text(env);
    assert!(n >= 1 && !masked.contains("tok-3f9a"), "{masked}");
}

// ---------------------------------------------------------------------------------------------
// Every probe is covered, and `skillbox probe` tells each one from the built-in skills.

/// For each hostile probe: the failing check `skillbox probe` must report first, and a phrase
/// of its detail. A probe added without a line here fails the next test.
const PROBE_VERDICTS: &[(&str, &str, &str)] = &[
    (
        "config-exfiltration",
        "honeytokens",
        "sensitive value echoed",
    ),
    (
        "deep-recursion",
        "investigate Pod default/canary",
        "stack-overflow",
    ),
    (
        "destructive-suggestion",
        "output Pod default/canary",
        "(mutation)",
    ),
    ("detect-hang", "detect Pod default/canary", "deadline"),
    (
        "environment",
        "environment Pod default/canary",
        "asked for the environment",
    ),
    (
        "fabricated-resource",
        "output Pod default/canary",
        "unread-resource",
    ),
    (
        "findings-flood",
        "output Pod default/canary",
        "foreign-code",
    ),
    ("foreign-code", "output Pod default/canary", "foreign-code"),
    (
        "fuel-bomb",
        "investigate Pod default/canary",
        "fuel: fuel budget",
    ),
    ("giant-strings", "output Pod default/canary", "(truncated)"),
    (
        "memory-bomb",
        "investigate Pod default/canary",
        "memory: memory cap",
    ),
    (
        "namespace-escape",
        "policy Pod default/canary",
        "grants do not cover Pod in namespace kube-system",
    ),
    (
        "panics",
        "investigate Pod default/canary",
        "panic: skill panicked",
    ),
    (
        "secret-reader",
        "policy Pod default/canary",
        "Secrets, which skills may never read",
    ),
    (
        "stderr-flood",
        "investigate Pod default/canary",
        "stderr-limit",
    ),
    (
        "tool-call-flood",
        "investigate Pod default/canary",
        "tool-budget",
    ),
    (
        "ungranted-tool",
        "import skillbox:skill/read-logs@0.1.0",
        "does not grant",
    ),
    (
        "wasi-filesystem",
        "import wasi:filesystem/",
        "no filesystem",
    ),
    ("wasi-sockets", "import wasi:sockets/", "no network"),
];

#[test]
fn skillbox_probe_fails_every_hostile_probe_for_its_own_reason() {
    let mut listed: Vec<&str> = PROBE_VERDICTS.iter().map(|p| p.0).collect();
    listed.push("outcome-echo"); // the fuzz harness's guest, not an attack
    listed.push("empty"); // skills-wasm/empty: the benchmarks' do-nothing skill
    listed.sort();
    assert_eq!(
        support::probe_names(),
        listed,
        "every probe has a line in PROBE_VERDICTS"
    );
    for (name, check, phrase) in PROBE_VERDICTS {
        let r = probe::probe(engine(), &support::package_dir(name), &["canary".into()])
            .unwrap_or_else(|e| panic!("{name}: the probe could not run: {e}"));
        assert!(!r.passed, "{name} passed the probe");
        let first = r.checks.iter().find(|c| c.result == Status::Fail).unwrap();
        assert!(
            first.check.starts_with(check) && first.detail.contains(phrase),
            "{name}: first failure is {first:?}, want {check} / {phrase}"
        );
        assert_eq!(
            r.failures,
            r.checks.iter().filter(|c| c.result == Status::Fail).count()
        );
    }
}

#[test]
fn skillbox_probe_passes_every_built_in_skill() {
    for b in skillbox::builtin::all() {
        let dir = repo().join("skills-wasm").join(b.name);
        let r = probe::probe(engine(), &dir, &["canary".into()]).unwrap();
        let failed: Vec<_> = r
            .checks
            .iter()
            .filter(|c| c.result == Status::Fail)
            .collect();
        assert!(r.passed, "{}: {failed:?}", b.name);
        assert!(
            r.calls
                .iter()
                .all(|c| c.error.is_none() && c.tool_denials == 0),
            "{:?}",
            r.calls
        );
        assert!(
            r.calls
                .iter()
                .all(|c| c.memory_peak_bytes > 0 && c.fuel_consumed > 0)
        );
        assert!(
            r.checks
                .iter()
                .any(|c| c.check == "honeytokens" && c.detail.starts_with("none of ")),
            "{}",
            b.name
        );
    }
}

#[test]
fn the_probe_command_prints_a_table_or_json_and_exits_by_the_result() {
    let run = |args: &[&str]| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = skillbox::cli::run(
            args.iter().map(std::ffi::OsString::from),
            &mut out,
            &mut err,
        );
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    };
    let builtin = repo().join("skills-wasm/workload-health");
    let (code, out, err) = run(&["skillbox", "probe", builtin.to_str().unwrap(), "--no-cache"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Probe of skill workload-health ("), "{out}");
    assert!(out.contains("\nCHECK "), "{out}");
    assert!(
        out.ends_with("Result: passed (0 failed, 3 warnings)\n"),
        "{out}"
    );

    let bomb = support::package_dir("fuel-bomb");
    let (code, out, err) = run(&[
        "skillbox",
        "probe",
        bomb.to_str().unwrap(),
        "-o",
        "json",
        "--no-cache",
    ]);
    assert_eq!(code, 1, "a failed probe exits 1: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["passed"], false);
    assert_eq!(v["skill"], "fuel-bomb");
    let investigate = v["calls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["call"] == "investigate")
        .unwrap();
    assert_eq!(investigate["errorClass"], "fuel");
    assert_eq!(investigate["fuelConsumed"], 50_000_000);

    let (code, out, err) = run(&["skillbox", "probe", "/nonexistent/skill"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("/nonexistent/skill"), "{err}");
}
