//! The Investigation reconciler: runs the selected skills on the target through the live
//! evidence source, consults a model only when the gate says so, and writes the report of
//! `shared/spec/report.md` plus `Complete`/`Ready` conditions to `.status` with server-side apply.
//!
//! It re-runs only on a spec change (`metadata.generation`) or a new `skillbox.dev/rerun`
//! annotation value, so a status write (which triggers a watch event) never loops. A missing
//! target is `Complete=False, TargetNotFound` and waits for a change: no retry storm.

use crate::context::{Context, FIELD_MANAGER};
use crate::error::OperatorError;
use crate::registry::RegisteredSkill;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use serde_json::{Value, json};
use skillbox::engine::LoadedSkill;
use skillbox::investigate::{
    Deterministic, InvestigateError, LlmMode as HostLlmMode, consult_llm,
    investigate_deterministic, llm_required, llm_should_call, resolve_target, select_skills,
};
use skillbox::report::Report;
use skillbox_crds::{
    Investigation, InvestigationStatus, LlmMode, ModelProvider, RERUN_ANNOTATION, conditions,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Reasons of `Complete=False` worth trying again later without any change to the object.
const RETRYABLE: [&str; 3] = ["SkillNotReady", "NoSkillForKind", "EvidenceUnavailable"];

/// What one investigation attempt came to.
enum Outcome {
    /// A report: `Complete=True`.
    Report(Box<Report>, Vec<(&'static str, String)>),
    /// No report: `Complete=False` with this reason.
    Failed {
        reason: &'static str,
        message: String,
    },
}

/// Reconciles one Investigation.
pub async fn reconcile(
    inv: Arc<Investigation>,
    ctx: Arc<Context>,
) -> Result<Action, OperatorError> {
    let started = Instant::now();
    let ns = inv.namespace().unwrap_or_else(|| "default".into());
    let name = inv.name_any();
    let object = format!("Investigation {ns}/{name}");
    let span = tracing::info_span!(
        "reconcile_investigation",
        investigation = %format!("{ns}/{name}"),
        target = %format!("{}/{}", inv.spec.target.kind, inv.spec.target.name),
        verdict = tracing::field::Empty,
    );
    let _g = span.enter();
    let status = inv.status.clone().unwrap_or_default();
    if let Some(action) = expire(&inv, &status, &ctx, &ns, &name).await? {
        return Ok(action);
    }
    let rerun = inv.annotations().get(RERUN_ANNOTATION).cloned();
    if is_current(&inv, &status, rerun.as_deref()) {
        return Ok(next_check(&inv, &status));
    }
    let outcome = run(&inv, &ctx, &ns).await?;
    let generation = inv.metadata.generation;
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let mut next = InvestigationStatus {
        observed_generation: generation,
        observed_rerun: rerun,
        conditions: status.conditions.clone(),
        ..Default::default()
    };
    let (action, event) = match outcome {
        Outcome::Report(report, degraded) => {
            let verdict = report.verdict.as_str();
            span.record("verdict", verdict);
            ctx.metrics.investigation(verdict);
            for s in &report.skills {
                ctx.metrics.skill_call(
                    &s.name,
                    s.duration_micros as f64 / 1e6,
                    s.error.as_ref().map(|e| e.class.as_str()),
                );
            }
            if report.llm.called || report.llm.error.is_some() {
                let class = report.llm.error.as_ref().map_or("ok", |e| e.class.as_str());
                ctx.metrics
                    .llm_call(report.llm.provider.as_deref().unwrap_or("unknown"), class);
            }
            let summary = format!(
                "verdict {verdict}: {} finding(s){}",
                report.findings.len(),
                report
                    .findings
                    .first()
                    .map(|f| format!(", first {}", f.code))
                    .unwrap_or_default()
            );
            next = merge_report(next, &report, &object)?;
            conditions::set(
                &mut next.conditions,
                "Complete",
                true,
                "Investigated",
                &summary,
                generation,
                now.clone(),
            );
            match degraded.first() {
                None => conditions::set(
                    &mut next.conditions,
                    "Ready",
                    true,
                    "ReportCurrent",
                    "the report reflects the current spec",
                    generation,
                    now,
                ),
                Some((reason, message)) => conditions::set(
                    &mut next.conditions,
                    "Ready",
                    false,
                    reason,
                    message,
                    generation,
                    now,
                ),
            };
            (
                ttl_action(&inv).unwrap_or_else(Action::await_change),
                (EventType::Normal, "Investigated", summary),
            )
        }
        Outcome::Failed { reason, message } => {
            ctx.metrics.investigation("failed");
            conditions::set(
                &mut next.conditions,
                "Complete",
                false,
                reason,
                &message,
                generation,
                now.clone(),
            );
            conditions::set(
                &mut next.conditions,
                "Ready",
                false,
                reason,
                &message,
                generation,
                now,
            );
            let action = if RETRYABLE.contains(&reason) {
                Action::requeue(Duration::from_secs(30))
            } else {
                Action::await_change()
            };
            (action, (EventType::Warning, reason, message))
        }
    };
    patch_status(&ctx, &ns, &name, &next, &object).await?;
    crate::skills::publish(&ctx, inv.as_ref(), event.0, event.1, event.2).await;
    ctx.metrics
        .reconcile_duration("Investigation", started.elapsed().as_secs_f64());
    Ok(action)
}

/// Whether `.status` already answers this generation and rerun request.
pub fn is_current(inv: &Investigation, status: &InvestigationStatus, rerun: Option<&str>) -> bool {
    let Some(complete) = conditions::get(&status.conditions, "Complete") else {
        return false;
    };
    status.observed_generation == inv.metadata.generation
        && status.observed_rerun.as_deref() == rerun
        && !RETRYABLE.contains(&complete.reason.as_str())
}

fn next_check(inv: &Investigation, status: &InvestigationStatus) -> Action {
    if conditions::get(&status.conditions, "Complete")
        .is_some_and(|c| RETRYABLE.contains(&c.reason.as_str()))
    {
        return Action::requeue(Duration::from_secs(30));
    }
    ttl_action(inv).unwrap_or_else(Action::await_change)
}

/// When a finished Investigation with a TTL is due for deletion, relative to now.
fn ttl_remaining(inv: &Investigation) -> Option<Duration> {
    let ttl = inv.spec.ttl_seconds_after_finished?;
    let status = inv.status.as_ref()?;
    let done = conditions::get(&status.conditions, "Complete")?;
    let finished = done.last_transition_time.0;
    let expires = finished
        .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(ttl))
        .ok()?;
    let left = expires.duration_since(k8s_openapi::jiff::Timestamp::now());
    Some(Duration::from_secs(left.as_secs().max(0) as u64))
}

fn ttl_action(inv: &Investigation) -> Option<Action> {
    ttl_remaining(inv).map(|d| Action::requeue(d.max(Duration::from_secs(1))))
}

async fn expire(
    inv: &Investigation,
    status: &InvestigationStatus,
    ctx: &Context,
    ns: &str,
    name: &str,
) -> Result<Option<Action>, OperatorError> {
    if conditions::get(&status.conditions, "Complete").is_none() {
        return Ok(None);
    }
    match ttl_remaining(inv) {
        Some(left) if left.is_zero() => {
            let api: Api<Investigation> = Api::namespaced(ctx.client.clone(), ns);
            match api.delete(name, &DeleteParams::background()).await {
                Ok(_) => {}
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                Err(e) => {
                    return Err(OperatorError::kube(
                        "delete expired",
                        format!("Investigation {ns}/{name}"),
                        e,
                    ));
                }
            }
            tracing::info!("deleted after ttlSecondsAfterFinished");
            Ok(Some(Action::await_change()))
        }
        _ => Ok(None),
    }
}

/// The skills an Investigation asks for, or every accepted skill (selection by kind happens
/// once the target's kind is resolved).
fn skills_for(inv: &Investigation, ctx: &Context) -> Result<Vec<Arc<RegisteredSkill>>, String> {
    if inv.spec.skills.is_empty() {
        return Ok(ctx.registry.all());
    }
    let mut out = Vec::new();
    for name in &inv.spec.skills {
        match ctx.registry.get(name) {
            Some(s) => out.push(s),
            None => {
                return Err(format!(
                    "Skill {name:?} is not Ready (accepted skills: {})",
                    ctx.registry
                        .all()
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    Ok(out)
}

async fn run(inv: &Investigation, ctx: &Arc<Context>, ns: &str) -> Result<Outcome, OperatorError> {
    let object = format!("Investigation {ns}/{}", inv.name_any());
    let registered = match skills_for(inv, ctx) {
        Ok(s) => s,
        Err(message) => {
            return Ok(Outcome::Failed {
                reason: "SkillNotReady",
                message,
            });
        }
    };
    let loaded: Vec<Arc<LoadedSkill>> = registered.iter().map(|r| r.loaded.clone()).collect();
    let target = inv.spec.target.clone();
    let kind_query = match target
        .api_version
        .as_deref()
        .and_then(|v| v.split_once('/'))
    {
        Some((group, _)) if !target.kind.contains('.') => format!("{}.{group}", target.kind),
        _ => target.kind.clone(),
    };
    // An Investigation reads only its own namespace (and cluster-scoped objects): otherwise
    // anyone who may create one in namespace A could read B's objects in its report.
    if let Some(other) = target.namespace.as_deref().filter(|t| *t != ns) {
        return Ok(Outcome::Failed {
            reason: "TargetNamespaceForbidden",
            message: format!(
                "spec.target.namespace {other:?} is not this Investigation's namespace {ns:?}: create the Investigation in {other:?}"
            ),
        });
    }
    let namespace = ns.to_string();
    let only = inv.spec.skills.clone();
    let evidence = ctx.evidence.source(tokio::runtime::Handle::current());
    let _permit = ctx.workers.clone().acquire_owned().await.ok();
    // Skills run synchronously in the sandbox and the live source blocks on the API server: a
    // blocking thread, never an async worker.
    let det = tokio::task::spawn_blocking(
        move || -> Result<(Deterministic, Vec<String>), (&'static str, String)> {
            let target = resolve_target(
                evidence.as_ref(),
                &kind_query,
                Some(&namespace),
                &target.name,
            )
            .map_err(|e| match e {
                InvestigateError::TargetNotFound { .. } => ("TargetNotFound", e.to_string()),
                InvestigateError::UnknownKind { .. } | InvestigateError::AmbiguousKind { .. } => {
                    ("InvalidTarget", e.to_string())
                }
                InvestigateError::EvidenceUnavailable { .. } => {
                    ("EvidenceUnavailable", e.to_string())
                }
                other => ("InvalidTarget", other.to_string()),
            })?;
            let key = evidence
                .resolve_kind(&format!(
                    "{}.{}",
                    target.kind,
                    target.api_version.rsplit_once('/').map_or("", |(g, _)| g)
                ))
                .or_else(|_| evidence.resolve_kind(&target.kind))
                .map_err(|e| ("InvalidTarget", e.to_string()))?;
            let selected = select_skills(&loaded, &key, &only)
                .map_err(|e| ("NoSkillForKind", e.to_string()))?;
            let names = selected.iter().map(|s| s.name().to_string()).collect();
            Ok((
                investigate_deterministic(&selected, evidence, &target),
                names,
            ))
        },
    )
    .await
    .map_err(|e| OperatorError::Worker {
        object: object.clone(),
        message: e.to_string(),
    })?;
    let (mut det, names) = match det {
        Ok(d) => d,
        Err((reason, message)) => return Ok(Outcome::Failed { reason, message }),
    };
    for (skill, denials) in &det.tool_denials {
        ctx.metrics.tool_denials(skill, u64::from(*denials));
    }
    let degraded = consult(inv, ctx, &mut det, &registered, &names).await;
    Ok(Outcome::Report(Box::new(det.report), degraded))
}

/// The LLM step: only with a ModelProvider, and only when the gate says so. Every way it can
/// fail leaves the deterministic report in place and says why (returned as `Ready=False`
/// reasons).
async fn consult(
    inv: &Investigation,
    ctx: &Context,
    det: &mut Deterministic,
    registered: &[Arc<RegisteredSkill>],
    names: &[String],
) -> Vec<(&'static str, String)> {
    let mode = match inv.spec.llm {
        LlmMode::Auto => HostLlmMode::Auto,
        LlmMode::Never => HostLlmMode::Never,
        LlmMode::Always => HostLlmMode::Always,
    };
    let required = llm_required(det.report.verdict);
    det.report.llm.required = required;
    let Some(r) = &inv.spec.model_provider_ref else {
        return Vec::new();
    };
    if !llm_should_call(mode, required, true) {
        return Vec::new();
    }
    let api: Api<ModelProvider> = Api::all(ctx.client.clone());
    let mp = match api.get_opt(&r.name).await {
        Ok(Some(mp)) => mp,
        Ok(None) => {
            return vec![(
                "ModelProviderMissing",
                format!(
                    "ModelProvider {:?} does not exist; the report is the deterministic result",
                    r.name
                ),
            )];
        }
        Err(e) => {
            return vec![(
                "ModelProviderUnavailable",
                format!(
                    "cannot read ModelProvider {:?}: {e}; the report is the deterministic result",
                    r.name
                ),
            )];
        }
    };
    if let Some(c) = mp
        .status
        .as_ref()
        .and_then(|s| conditions::get(&s.conditions, "Ready"))
        .filter(|c| c.status == "False")
    {
        return vec![(
            "ModelProviderUnavailable",
            format!(
                "ModelProvider {} is not Ready ({}: {}); the report is the deterministic result",
                r.name, c.reason, c.message
            ),
        )];
    }
    let provider = match crate::providers::build(&mp, ctx.keys.as_ref(), &ctx.namespace) {
        Ok(p) => p,
        Err(u) => {
            return vec![(
                "ModelProviderUnavailable",
                format!(
                    "ModelProvider {}: {} ({}); the report is the deterministic result",
                    r.name, u.message, u.reason
                ),
            )];
        }
    };
    if !ctx
        .llm_rate
        .try_take(&r.name, mp.spec.budgets.max_calls_per_hour, Instant::now())
    {
        return vec![(
            "LlmRateLimited",
            format!(
                "ModelProvider {} spent its {} calls this hour; the report is the deterministic result",
                r.name, mp.spec.budgets.max_calls_per_hour
            ),
        )];
    }
    let selected: Vec<&Arc<LoadedSkill>> = registered
        .iter()
        .filter(|s| names.contains(&s.name))
        .map(|s| &s.loaded)
        .collect();
    consult_llm(det, &selected, provider.as_ref(), CancellationToken::new()).await;
    match &det.report.llm.error {
        Some(e) => vec![(
            "LlmFailed",
            format!(
                "the model call failed ({}: {}); the report is the deterministic result",
                e.class, e.message
            ),
        )],
        None => Vec::new(),
    }
}

/// The report's fields under `.status`, with skill-written text redacted: `.status` is read by
/// anyone who may get Investigations, so nothing secret-shaped a skill copied from evidence
/// may land there.
fn merge_report(
    mut status: InvestigationStatus,
    report: &Report,
    object: &str,
) -> Result<InvestigationStatus, OperatorError> {
    let mut value = serde_json::to_value(report).map_err(|source| OperatorError::Serialize {
        object: object.to_string(),
        source,
    })?;
    redact_findings(&mut value);
    let parsed: InvestigationStatus =
        serde_json::from_value(value).map_err(|source| OperatorError::Serialize {
            object: object.to_string(),
            source,
        })?;
    status.target = parsed.target;
    status.verdict = parsed.verdict;
    status.skills = parsed.skills;
    status.findings = parsed.findings;
    status.llm = parsed.llm;
    status.started_at = parsed.started_at;
    status.completed_at = parsed.completed_at;
    Ok(status)
}

fn redact_findings(report: &mut Value) {
    let Some(findings) = report.get_mut("findings").and_then(Value::as_array_mut) else {
        return;
    };
    for f in findings {
        for field in ["summary", "evidence", "suggestions"] {
            match f.get_mut(field) {
                Some(Value::String(s)) => *s = skillbox::redact::redact_text(s).0,
                Some(Value::Array(items)) => {
                    for item in items {
                        if let Value::String(s) = item {
                            *s = skillbox::redact::redact_text(s).0;
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

async fn patch_status(
    ctx: &Context,
    ns: &str,
    name: &str,
    status: &InvestigationStatus,
    object: &str,
) -> Result<(), OperatorError> {
    let api: Api<Investigation> = Api::namespaced(ctx.client.clone(), ns);
    let patch = json!({
        "apiVersion": "skillbox.dev/v1alpha1",
        "kind": "Investigation",
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(|e| OperatorError::kube("patch status of", object.to_string(), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.status` carries the report field for field: a field added to the CLI's report and not
    /// to the CRD type would otherwise vanish silently (serde ignores unknown fields).
    #[test]
    fn status_holds_every_report_field() {
        let report: Report = serde_json::from_value(json!({
            "target": {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "namespace": "default", "name": "reviews"},
            "verdict": "inconclusive",
            "skills": [
                {"name": "mesh-investigation", "digest": "sha256:ab", "verdict": "resolved", "durationMicros": 412, "fuelConsumed": 183211, "toolCalls": 7, "rejected": ["mesh.x: not under prefix"]},
                {"name": "w", "digest": "sha256:cd", "verdict": "inconclusive", "durationMicros": 1, "fuelConsumed": 2, "toolCalls": 0, "error": {"class": "fuel", "message": "out of fuel"}}
            ],
            "findings": [{"code": "mesh.subset-not-found", "severity": "error", "skill": "mesh-investigation", "summary": "s",
                          "resources": [{"apiVersion": "v1", "kind": "Service", "namespace": "default", "name": "reviews"}],
                          "evidence": ["e"], "suggestions": ["g"]}],
            "llm": {"required": true, "called": true, "provider": "ollama", "model": "q", "inputTokens": 10, "outputTokens": 2,
                    "filtered": ["removed kubectl"], "error": {"class": "timeout", "message": "slow"}},
            "startedAt": "2026-11-25T01:02:03Z", "completedAt": "2026-11-25T01:02:04Z"
        }))
        .unwrap();
        let status = merge_report(InvestigationStatus::default(), &report, "test").unwrap();
        let mut back = serde_json::to_value(&status).unwrap();
        let obj = back.as_object_mut().unwrap();
        obj.remove("conditions");
        assert_eq!(back, serde_json::to_value(&report).unwrap());
    }

    #[test]
    fn secrets_a_skill_copied_are_redacted_before_status() {
        let mut v = json!({"findings": [{"summary": "token=abcdefghijklmnopqrstuvwxyz123456",
            "evidence": ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"], "suggestions": []}]});
        redact_findings(&mut v);
        let text = v.to_string();
        assert!(!text.contains("abcdefghijklmnopqrstuvwxyz123456"), "{text}");
        assert!(!text.contains("eyJzdWIiOiIxIn0"), "{text}");
    }
}
