//! Skill outcomes through the host's output checks: in process (`outcome_check`), and returned
//! by a real component across the wasm boundary (`wasm_outcome`).

use crate::generate;
use crate::{chars, is_clean, stored};
use serde_json::json;
use skillbox::check::{self, CheckedOutcome, MAX_REJECTIONS};
use skillbox::engine::{CallError, EngineConfig, LoadedSkill, SkillEngine};
use skillbox::evidence::{EvidenceError, EvidenceSource, KindKey, StoredObject, resolve_among};
use skillbox::filter::find_mutation;
use skillbox::package::SkillPackage;
use skillbox::report::MAX_FINDINGS;
use skillbox::tools::ToolRead;
use skillbox_crds::Tool;
use skillbox_guest::k8s::kind_matches;
use skillbox_guest::selector::Selector;
use skillbox_guest::{Finding, ObjectRef, Outcome, Severity, Verdict};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// report.md's bounds, restated here so the property does not trust the code it checks.
const MAX_SUMMARY: usize = 512;
const MAX_LINE: usize = 1024;
const MAX_LINES: usize = 20;
const MAX_RESOURCES: usize = 20;
const MAX_CODE: usize = 128;
/// Longest rejection line, in characters: a bounded code or object, quoted, and fixed words.
const MAX_REJECTION: usize = 2048;

/// `(kind, namespace, name) → apiVersion` of the objects a finding may name.
type Known = BTreeMap<(String, Option<String>, String), String>;

fn key(r: &ObjectRef) -> (String, Option<String>, String) {
    (r.kind.clone(), r.namespace.clone(), r.name.clone())
}

/// The skill's target, one Pod it listed (owned by a ReplicaSet it never read) and one ConfigMap
/// it got: the evidence of the in-process checks.
struct Fixture {
    target: ObjectRef,
    reads: Vec<ToolRead>,
    known: Known,
    pool: Vec<ObjectRef>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let target = ObjectRef::namespaced("v1", "Pod", "shop", "web-1");
        let pod = stored(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-2", "namespace": "shop", "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f", "uid": "u1"}
            ]},
        }));
        let cm = stored(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop"}, "data": {"k": "v"},
        }));
        let reads = vec![
            ToolRead {
                tool: Tool::ListObjects,
                request: "Pod in shop".into(),
                objects: vec![pod],
                log: None,
            },
            ToolRead {
                tool: Tool::GetObject,
                request: "ConfigMap shop/settings".into(),
                objects: vec![cm],
                log: None,
            },
        ];
        let pool = vec![
            target.clone(),
            ObjectRef::namespaced("v1", "Pod", "shop", "web-2"),
            ObjectRef::namespaced("apps/v1", "ReplicaSet", "shop", "web-7d9f"),
            ObjectRef::namespaced("v1", "ConfigMap", "shop", "settings"),
            ObjectRef::namespaced("v1", "Secret", "shop", "db"),
            ObjectRef::cluster("v1", "Node", "n1"),
        ];
        let known = pool[..4]
            .iter()
            .map(|r| (key(r), r.api_version.clone()))
            .collect();
        Fixture {
            target,
            reads,
            known,
            pool,
        }
    })
}

/// Prefixes the checks are run under.
const PREFIXES: &[&str] = &["x.", "probe.", "workload."];

/// Property: whatever a skill returns, what [`check::check`] keeps is bounded, single-line, under
/// the skill's prefix, names only the target and objects read (or their owners) with the
/// evidence's apiVersion, carries no mutating suggestion, comes with at most
/// `MAX_REJECTIONS + 1` bounded rejections and a verdict its findings support; and an outcome
/// that breaks no rule passes unchanged.
pub fn outcome_check(data: &[u8]) {
    let fx = fixture();
    let Some((outcome, prefix)) = generate::outcome_from(data, &fx.pool, PREFIXES) else {
        return;
    };
    let checked = check::check(prefix, &fx.target, &fx.reads, outcome.clone());
    assert_checked(prefix, &fx.known, &outcome, &checked);
}

/// The bounds and rules every checked outcome obeys, given the outcome the skill returned.
pub(crate) fn assert_checked(
    prefix: &str,
    known: &Known,
    outcome: &Outcome,
    checked: &CheckedOutcome,
) {
    assert!(
        checked.findings.len() <= MAX_FINDINGS,
        "{} findings kept, more than {MAX_FINDINGS}",
        checked.findings.len()
    );
    assert!(
        checked.findings.len() <= outcome.findings.len(),
        "the checks invented findings"
    );
    for f in &checked.findings {
        assert!(
            f.code.starts_with(prefix) && f.code.len() > prefix.len(),
            "kept code {:?} is not under the prefix {prefix:?}",
            f.code
        );
        assert!(
            chars(&f.code) <= MAX_CODE,
            "kept code longer than {MAX_CODE}"
        );
        assert!(
            chars(&f.summary) <= MAX_SUMMARY,
            "kept summary of {} characters",
            chars(&f.summary)
        );
        for (list, what) in [(&f.evidence, "evidence"), (&f.suggestions, "suggestions")] {
            assert!(list.len() <= MAX_LINES, "{} {what} lines kept", list.len());
            for line in list {
                assert!(
                    chars(line) <= MAX_LINE,
                    "{what} line of {} characters",
                    chars(line)
                );
                assert!(is_clean(line), "control character kept in {what}: {line:?}");
            }
        }
        assert!(
            is_clean(&f.code),
            "control character kept in code {:?}",
            f.code
        );
        assert!(
            is_clean(&f.summary),
            "control character kept in summary {:?}",
            f.summary
        );
        for s in &f.suggestions {
            assert!(
                find_mutation(s).is_none(),
                "mutating suggestion kept: {s:?}"
            );
        }
        assert!(f.resources.len() <= MAX_RESOURCES, "too many resources");
        for r in &f.resources {
            match known.get(&key(r)) {
                Some(api) => assert_eq!(
                    &r.api_version, api,
                    "{r} kept without the evidence's apiVersion"
                ),
                None => panic!("kept finding {} names {r}, never read", f.code),
            }
        }
    }
    assert!(
        checked.rejected.len() <= MAX_REJECTIONS + 1,
        "{} rejections listed",
        checked.rejected.len()
    );
    for r in &checked.rejected {
        let line = r.to_string();
        assert!(is_clean(&line), "control character in rejection {line:?}");
        assert!(
            chars(&line) <= MAX_REJECTION,
            "rejection of {} characters",
            chars(&line)
        );
    }
    let explains = checked
        .findings
        .iter()
        .any(|f| matches!(f.severity, Severity::Error | Severity::Warning));
    match checked.verdict {
        Verdict::Resolved => assert!(explains, "resolved without an error or warning kept"),
        Verdict::Healthy => assert!(!explains, "healthy despite an error or warning kept"),
        Verdict::Inconclusive => {}
    }
    if outcome.verdict == Verdict::Inconclusive {
        assert_eq!(
            checked.verdict,
            Verdict::Inconclusive,
            "inconclusive overridden"
        );
    }

    // No false positives: an outcome within every rule passes as it is.
    if outcome.findings.len() <= MAX_FINDINGS
        && outcome
            .findings
            .iter()
            .all(|f| well_formed(prefix, known, f))
    {
        assert_eq!(
            checked.findings, outcome.findings,
            "a well-formed outcome was changed"
        );
        assert!(
            checked.rejected.iter().all(|r| r.class() == "verdict"),
            "a well-formed outcome drew rejections: {:?}",
            checked.rejected
        );
    }
}

/// A finding no check should touch, judged without the checks' code.
fn well_formed(prefix: &str, known: &Known, f: &Finding) -> bool {
    let line_ok = |s: &String| chars(s) <= MAX_LINE && is_clean(s);
    f.code.starts_with(prefix)
        && f.code.len() > prefix.len()
        && chars(&f.code) <= MAX_CODE
        && is_clean(&f.code)
        && chars(&f.summary) <= MAX_SUMMARY
        && is_clean(&f.summary)
        && f.evidence.len() <= MAX_LINES
        && f.suggestions.len() <= MAX_LINES
        && f.evidence.iter().all(line_ok)
        && f.suggestions.iter().all(line_ok)
        && f.suggestions.iter().all(|s| find_mutation(s).is_none())
        && f.resources.len() <= MAX_RESOURCES
        && f.resources
            .iter()
            .all(|r| known.get(&key(r)) == Some(&r.api_version))
}

// -------------------------------------------------------------------------------------------
// Across the component boundary.

/// Namespace and name of the ConfigMap the echo skill investigates.
const NAMESPACE: &str = "fuzz";
const NAME: &str = "echo";
/// Largest outcome sent, as JSON: far below the tools' 4 MiB answer cap and the skill's 64 MiB.
const MAX_OUTCOME_JSON: usize = 1 << 20;

/// The outcome-echo probe, loaded once per process like a skill in production.
struct Echo {
    skill: LoadedSkill,
    target: ObjectRef,
}

fn echo() -> &'static Echo {
    static ECHO: OnceLock<Echo> = OnceLock::new();
    ECHO.get_or_init(|| {
        let dir = skillbox::builtin::packages_dir().join("outcome-echo");
        let pkg = SkillPackage::load_dir(&dir)
            .unwrap_or_else(|e| panic!("the build writes {}: {e}", dir.display()));
        let engine = SkillEngine::new(EngineConfig::default()).expect("engine");
        let skill = engine.load(&pkg).expect("outcome-echo loads");
        Echo {
            skill,
            target: ObjectRef::namespaced("v1", "ConfigMap", NAMESPACE, NAME),
        }
    })
}

/// Evidence holding one object, answered from memory: a snapshot folder per input would cost
/// more than the call.
struct OneObject(Arc<StoredObject>);

impl OneObject {
    fn is(&self, kind: &KindKey, namespace: Option<&str>) -> bool {
        *kind == self.0.kind && namespace.is_none_or(|ns| Some(ns) == self.0.namespace.as_deref())
    }
}

impl EvidenceSource for OneObject {
    fn resolve_kind(&self, query: &str) -> Result<KindKey, EvidenceError> {
        let o = &self.0;
        let candidates = kind_matches(query, &o.api_version, &o.kind.kind)
            .then(|| o.kind.clone())
            .into_iter()
            .collect();
        resolve_among(query, candidates, || vec![o.kind.to_string()])
    }

    fn get(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Arc<StoredObject>>, EvidenceError> {
        Ok((self.is(kind, namespace) && name == self.0.name).then(|| self.0.clone()))
    }

    fn list(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        let hit = self.is(kind, namespace) && selector.matches(&self.0.labels);
        Ok(hit.then(|| self.0.clone()).into_iter().collect())
    }

    fn events_for(&self, _: &ObjectRef) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        Ok(Vec::new())
    }

    fn logs(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: u32,
        _: usize,
    ) -> Result<Option<String>, EvidenceError> {
        Ok(None)
    }

    fn names(&self, kind: &KindKey) -> Result<Vec<(Option<String>, String)>, EvidenceError> {
        let hit = *kind == self.0.kind;
        Ok(hit
            .then(|| (self.0.namespace.clone(), self.0.name.clone()))
            .into_iter()
            .collect())
    }

    fn kinds(&self) -> Result<Vec<KindKey>, EvidenceError> {
        Ok(vec![self.0.kind.clone()])
    }
}

/// Property: an outcome of bounded size that a real component returns (the outcome-echo probe
/// reads it from its target ConfigMap and returns it) crosses the component boundary unchanged,
/// the call ends in no trap but a classified deadline, and [`check::check_outcome`] bounds what
/// survives as it does in process.
pub fn wasm_outcome(data: &[u8]) {
    let echo = echo();
    let pool = [
        echo.target.clone(),
        ObjectRef::namespaced("v1", "ConfigMap", NAMESPACE, "other"),
    ];
    // NB: the skill's prefix is `probe.` whatever the input asks for.
    let Some((outcome, _)) = generate::outcome_from(data, &pool, &["probe."]) else {
        return;
    };
    let text = serde_json::to_string(&outcome).expect("an outcome serialises");
    if text.len() > MAX_OUTCOME_JSON {
        return;
    }
    let cm = stored(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "data": {"outcome": text},
    }));
    let run = echo
        .skill
        .investigate(Arc::new(OneObject(cm)), &echo.target);
    let returned = match run.outcome {
        Ok(o) => o,
        // NB: a slow machine may pass the 2 s deadline; that says nothing about the input.
        Err(e @ CallError::Deadline { .. }) => {
            eprintln!("wasm_outcome: {e} (not a property violation)");
            return;
        }
        Err(e) => panic!(
            "a well-formed outcome of {} bytes failed the call: {} ({e})",
            text.len(),
            e.class()
        ),
    };
    assert!(
        returned == outcome,
        "the outcome changed crossing the component boundary"
    );
    let known: Known = [(key(&echo.target), echo.target.api_version.clone())].into();
    let checked = check::check_outcome(&echo.skill, &echo.target, &run.reads, returned);
    assert_checked("probe.", &known, &outcome, &checked);
}
