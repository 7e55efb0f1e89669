//! The tools layer against sources that fail: every failure reaches the skill as the matching
//! WIT `tool-error`, never as "not found" or an empty answer.

use super::*;
use crate::engine::{CallError, EngineConfig, SkillEngine};
use crate::package::SkillPackage;
use skillbox_crds::ResourceGrant;

/// How [`Failing`] fails every read after kind resolution.
#[derive(Clone, Copy)]
enum Failure {
    Timeout,
    Budget,
    Rbac,
}

/// A source that resolves well-known kinds and fails every read the same way.
struct Failing(Failure);

impl Failing {
    fn error(&self, what: &str) -> EvidenceError {
        match self.0 {
            Failure::Timeout => EvidenceError::Unavailable {
                what: what.into(),
                reason: "timed out after 5s".into(),
            },
            Failure::Budget => EvidenceError::BudgetExhausted { limit: 200 },
            Failure::Rbac => EvidenceError::Denied {
                what: what.into(),
                reason: "the API server's RBAC refused (403)".into(),
            },
        }
    }
}

impl EvidenceSource for Failing {
    fn resolve_kind(&self, query: &str) -> Result<KindKey, EvidenceError> {
        crate::evidence::resolve_among(query, Default::default(), Vec::new)
    }
    fn get(
        &self,
        kind: &KindKey,
        _: Option<&str>,
        name: &str,
    ) -> Result<Option<Arc<StoredObject>>, EvidenceError> {
        Err(self.error(&format!("{kind} {name}")))
    }
    fn list(
        &self,
        kind: &KindKey,
        _: Option<&str>,
        _: &Selector,
    ) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        Err(self.error(&format!("{kind} list")))
    }
    fn events_for(&self, o: &ObjectRef) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        Err(self.error(&format!("events about {o}")))
    }
    fn logs(
        &self,
        _: &str,
        pod: &str,
        _: &str,
        _: u32,
        _: usize,
    ) -> Result<Option<String>, EvidenceError> {
        Err(self.error(&format!("log of {pod}")))
    }
    fn names(&self, kind: &KindKey) -> Result<Vec<(Option<String>, String)>, EvidenceError> {
        Err(self.error(&format!("names of {kind}")))
    }
    fn kinds(&self) -> Result<Vec<KindKey>, EvidenceError> {
        Err(self.error("kinds"))
    }
}

fn context(failure: Failure) -> ToolContext {
    let policy = ResourcePolicy::new(&[ResourceGrant {
        kinds: vec!["*".into()],
        namespaces: vec!["shop".into()],
    }]);
    ToolContext::new(
        Arc::new(Failing(failure)),
        Arc::new(policy),
        ToolBudget {
            max_calls: 100,
            max_bytes: 1 << 20,
        },
    )
}

/// Every tool's answer under `failure`.
fn answers(failure: Failure) -> Vec<ToolError> {
    let mut cx = context(failure);
    let pod = ObjectRef::namespaced("v1", "Pod", "shop", "web-0");
    let out = vec![
        cx.get_object("Pod", Some("shop"), "web-0")
            .unwrap()
            .unwrap_err(),
        cx.list_objects("Pod", Some("shop"), "app=web")
            .unwrap()
            .unwrap_err(),
        // Over every granted namespace: the per-namespace lists fail the whole answer.
        cx.list_objects("Deployment.apps", None, "")
            .unwrap()
            .unwrap_err(),
        cx.list_events(&pod).unwrap().unwrap_err(),
        cx.read_logs("shop", "web-0", "app", 10)
            .unwrap()
            .unwrap_err(),
    ];
    assert!(cx.into_record().0.is_empty(), "a failed read is not a read");
    out
}

#[test]
fn a_source_that_times_out_answers_unavailable_never_not_found() {
    for e in answers(Failure::Timeout) {
        match e {
            ToolError::Unavailable(m) => assert!(m.contains("timed out after 5s"), "{m}"),
            other => panic!("expected unavailable, got {other:?}"),
        }
    }
}

#[test]
fn an_exhausted_api_budget_answers_budget_exhausted() {
    for e in answers(Failure::Budget) {
        match e {
            ToolError::BudgetExhausted(m) => assert!(m.contains("200 API calls"), "{m}"),
            other => panic!("expected budget-exhausted, got {other:?}"),
        }
    }
}

#[test]
fn an_rbac_refusal_answers_denied() {
    for e in answers(Failure::Rbac) {
        match e {
            ToolError::Denied(m) => assert!(m.contains("403"), "{m}"),
            other => panic!("expected denied, got {other:?}"),
        }
    }
}

/// Through the sandbox: the built-in workload-health skill, whose first call fails, reports
/// that it could not read its target (a skill error, verdict inconclusive) instead of judging
/// a Pod it never saw.
#[test]
fn a_skill_sees_unavailable_through_the_sandbox() {
    let engine = SkillEngine::new(EngineConfig::default()).unwrap();
    let pkg = SkillPackage::builtins()
        .unwrap()
        .into_iter()
        .find(|p| p.name() == "workload-health")
        .unwrap();
    let skill = engine.load(&pkg).unwrap();
    let target = ObjectRef::namespaced("v1", "Pod", "shop", "web-0");
    let run = skill.investigate(Arc::new(Failing(Failure::Timeout)), &target);
    match run.outcome {
        Err(CallError::Skill(m)) => {
            assert!(m.contains("unavailable: cannot read Pod web-0"), "{m}");
            assert!(m.contains("timed out after 5s"), "{m}");
        }
        other => panic!("expected the skill to report the unavailable read, got {other:?}"),
    }
    assert_eq!(run.stats.tool_calls, 1, "{:?}", run.stats);
}
