//! The pipeline of one investigation: resolve the target, select skills by kind, run each in the
//! sandbox, check every outcome, and assemble the report.

use crate::check;
use crate::engine::{LoadedSkill, SkillRun};
use crate::evidence::{EvidenceError, EvidenceSource, KindKey};
use crate::filter;
use crate::llm::{self, CompletionRequest, EvidencePack, Provider};
use crate::report::{self, LlmSection, Report, ReportFinding, SkillEntry, SkillError};
use crate::tools::ToolRead;
use skillbox_guest::{ObjectRef, Verdict};
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

/// Why an investigation could not run. Each says what was asked and what exists instead.
#[derive(Debug, thiserror::Error)]
pub enum InvestigateError {
    /// The kind is not known to the evidence.
    #[error("unknown kind {query:?}; kinds in this snapshot: {known}")]
    UnknownKind {
        /// As given.
        query: String,
        /// Kinds present.
        known: String,
    },
    /// The kind spelling matches several kinds.
    #[error("kind {query:?} is ambiguous: {candidates}; qualify it as kind.group")]
    AmbiguousKind {
        /// As given.
        query: String,
        /// Matching kinds.
        candidates: String,
    },
    /// No such object.
    #[error("{kind} {place} not found{hint}")]
    TargetNotFound {
        /// Kind.
        kind: String,
        /// `namespace/name` or `name`.
        place: String,
        /// ", did you mean …?" or empty.
        hint: String,
    },
    /// The evidence source could not answer while the target was being resolved (a live
    /// cluster timed out, refused, or the budget ran out): not the same as "not found".
    #[error("cannot resolve the target: {source}")]
    EvidenceUnavailable {
        /// What the source said.
        #[source]
        source: EvidenceError,
    },
    /// No installed skill investigates this kind.
    #[error("no installed skill investigates {kind} (installed: {installed})")]
    NoSkillForKind {
        /// The kind.
        kind: String,
        /// Installed skills and their kinds.
        installed: String,
    },
    /// `--skill` named a skill that is not installed.
    #[error("skill {name:?} is not installed (installed: {installed})")]
    UnknownSkill {
        /// As given.
        name: String,
        /// Installed skills.
        installed: String,
    },
    /// `--skill` named a skill that does not investigate this kind.
    #[error("skill {name:?} does not investigate {kind} (it investigates {targets})")]
    SkillNotForKind {
        /// Skill.
        name: String,
        /// Target kind.
        kind: String,
        /// Its target kinds.
        targets: String,
    },
}

/// Resolves `KIND/NAME` in a namespace to the object in the evidence, suggesting close names.
pub fn resolve_target(
    evidence: &dyn EvidenceSource,
    kind_query: &str,
    namespace: Option<&str>,
    name: &str,
) -> Result<ObjectRef, InvestigateError> {
    let key = evidence.resolve_kind(kind_query).map_err(|e| match e {
        EvidenceError::AmbiguousKind { query, candidates } => InvestigateError::AmbiguousKind {
            query,
            candidates: candidates.join(", "),
        },
        EvidenceError::UnknownKind { query, known } => InvestigateError::UnknownKind {
            query,
            known: known.join(", "),
        },
        source => InvestigateError::EvidenceUnavailable { source },
    })?;
    let unavailable = |source| InvestigateError::EvidenceUnavailable { source };
    if let Some(o) = evidence.get(&key, namespace, name).map_err(unavailable)? {
        return Ok(o.object_ref());
    }
    // Cluster-scoped objects are found whatever -n says (as kubectl does).
    if namespace.is_some()
        && let Some(o) = evidence.get(&key, None, name).map_err(unavailable)?
    {
        return Ok(o.object_ref());
    }
    let place = match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    };
    Err(InvestigateError::TargetNotFound {
        kind: key.to_string(),
        place,
        // NB: the names only feed a hint; a source that cannot list them still says "not found".
        hint: suggest(evidence.names(&key).unwrap_or_default(), namespace, name),
    })
}

/// ", did you mean …?" from the names of the kind: same name in other namespaces first, then
/// close names (edit distance ≤ a third of the length, or a shared prefix).
fn suggest(names: Vec<(Option<String>, String)>, namespace: Option<&str>, name: &str) -> String {
    let fmt = |ns: &Option<String>, n: &str| match ns {
        Some(ns) => format!("{ns}/{n}"),
        None => n.to_string(),
    };
    let elsewhere: Vec<String> = names
        .iter()
        .filter(|(ns, n)| n == name && ns.as_deref() != namespace)
        .map(|(ns, n)| fmt(ns, n))
        .collect();
    if !elsewhere.is_empty() {
        return format!(
            "; it exists in another namespace: {} (use -n)",
            elsewhere.join(", ")
        );
    }
    let max = (name.chars().count() / 3).max(2);
    let mut close: Vec<(usize, String)> = names
        .iter()
        .filter(|(ns, _)| namespace.is_none() || ns.as_deref() == namespace)
        .filter_map(|(ns, n)| {
            let d = edit_distance(name, n);
            let prefix = n.len() > 3 && (n.starts_with(name) || name.starts_with(n.as_str()));
            (d <= max || prefix).then(|| (d, fmt(ns, n)))
        })
        .collect();
    close.sort();
    close.truncate(5);
    if close.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = close.into_iter().map(|(_, n)| n).collect();
        format!("; did you mean {}?", list.join(", "))
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j + 1] + 1)
                .min(cur[j] + 1)
                .min(prev[j] + usize::from(ca != *cb));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Whether a skill's targets include this kind.
pub fn targets_kind(skill: &LoadedSkill, kind: &KindKey) -> bool {
    skill.spec().targets.iter().any(|t| {
        t.kind.eq_ignore_ascii_case(&kind.kind)
            && t.group
                .as_deref()
                .is_none_or(|g| g.eq_ignore_ascii_case(&kind.group))
    })
}

/// The installed skill called `name`.
pub fn find_skill<'a>(
    installed: &'a [Arc<LoadedSkill>],
    name: &str,
) -> Result<&'a Arc<LoadedSkill>, InvestigateError> {
    installed
        .iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| InvestigateError::UnknownSkill {
            name: name.to_string(),
            installed: installed
                .iter()
                .map(|s| s.name().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Picks the skills to run: every one targeting the kind, or exactly those named.
pub fn select_skills<'a>(
    installed: &'a [Arc<LoadedSkill>],
    kind: &KindKey,
    only: &[String],
) -> Result<Vec<&'a Arc<LoadedSkill>>, InvestigateError> {
    let kinds_of = |s: &LoadedSkill| {
        s.spec()
            .targets
            .iter()
            .map(|t| t.kind.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !only.is_empty() {
        let mut out = Vec::new();
        for n in only {
            let s = find_skill(installed, n)?;
            if !targets_kind(s, kind) {
                return Err(InvestigateError::SkillNotForKind {
                    name: n.clone(),
                    kind: kind.to_string(),
                    targets: kinds_of(s),
                });
            }
            out.push(s);
        }
        return Ok(out);
    }
    let out: Vec<_> = installed.iter().filter(|s| targets_kind(s, kind)).collect();
    if out.is_empty() {
        return Err(InvestigateError::NoSkillForKind {
            kind: kind.to_string(),
            installed: installed
                .iter()
                .map(|s| format!("{} ({})", s.name(), kinds_of(s)))
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    Ok(out)
}

/// Runs the selected skills on `target` and assembles the report (no LLM step).
pub fn investigate(
    skills: &[&Arc<LoadedSkill>],
    evidence: Arc<dyn EvidenceSource>,
    target: &ObjectRef,
) -> Report {
    investigate_deterministic(skills, evidence, target).report
}

/// The deterministic pass: its report, and every tool answer each skill received (what an LLM
/// may later see, and nothing else).
#[derive(Debug)]
pub struct Deterministic {
    /// The report so far.
    pub report: Report,
    /// `(skill, answers)` for each skill run.
    pub reads: Vec<(String, Vec<ToolRead>)>,
    /// `(skill, tool calls its grants refused)`: not part of the report's shape, but what an
    /// operator's metrics count.
    pub tool_denials: Vec<(String, u32)>,
}

/// Runs the selected skills on `target`: the deterministic pass.
pub fn investigate_deterministic(
    skills: &[&Arc<LoadedSkill>],
    evidence: Arc<dyn EvidenceSource>,
    target: &ObjectRef,
) -> Deterministic {
    let span = tracing::info_span!("investigation", target = %target, verdict = tracing::field::Empty, duration_us = tracing::field::Empty);
    let _g = span.enter();
    let started = Instant::now();
    let started_at = report::now_rfc3339();
    let mut entries = Vec::new();
    let mut findings = Vec::new();
    let mut verdicts = Vec::new();
    let mut all_reads = Vec::new();
    let mut tool_denials = Vec::new();
    for skill in skills {
        let SkillRun {
            outcome,
            stats,
            reads,
            ..
        } = skill.investigate(evidence.clone(), target);
        let (verdict, error, rejected) = match outcome {
            Ok(o) => {
                let checked = check::check_outcome(skill, target, &reads, o);
                findings.extend(
                    checked
                        .findings
                        .into_iter()
                        .map(|f| ReportFinding::from_skill(skill.name(), f)),
                );
                let rejected = checked.rejected.iter().map(|r| r.to_string()).collect();
                (checked.verdict, None, rejected)
            }
            Err(e) => {
                tracing::warn!(skill = skill.name(), class = e.class(), error = %e, "skill call failed");
                (
                    Verdict::Inconclusive,
                    Some(SkillError {
                        class: e.class().into(),
                        message: e.to_string(),
                    }),
                    Vec::new(),
                )
            }
        };
        verdicts.push(verdict);
        all_reads.push((skill.name().to_string(), reads));
        tool_denials.push((skill.name().to_string(), stats.tool_denials));
        entries.push(SkillEntry {
            name: skill.name().into(),
            digest: format!("sha256:{}", skill.digest()),
            verdict,
            duration_micros: stats.duration.as_micros() as u64,
            fuel_consumed: stats.fuel_consumed,
            tool_calls: stats.tool_calls,
            error,
            rejected,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    report::sort_findings(&mut findings);
    let verdict = report::worst(verdicts);
    span.record("verdict", tracing::field::debug(verdict));
    span.record("duration_us", started.elapsed().as_micros() as u64);
    let report = Report {
        target: target.clone(),
        verdict,
        skills: entries,
        findings,
        llm: LlmSection {
            required: llm_required(verdict),
            ..LlmSection::default()
        },
        started_at,
        completed_at: report::now_rfc3339(),
    };
    Deterministic {
        report,
        reads: all_reads,
        tool_denials,
    }
}

/// When the LLM may be asked: `auto` (default) only when the deterministic pass is inconclusive,
/// `never`, or `always` (for evaluation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LlmMode {
    /// Only when required (inconclusive) and a provider is configured.
    #[default]
    Auto,
    /// Never.
    Never,
    /// Whenever a provider is configured.
    Always,
}

/// The gate of findings.md: an LLM is required exactly when the deterministic verdict is
/// inconclusive. `llm.required` records this decision whether or not a call is made.
pub fn llm_required(verdict: Verdict) -> bool {
    verdict == Verdict::Inconclusive
}

/// Whether to call: the gate, the mode, and a configured provider.
pub fn llm_should_call(mode: LlmMode, required: bool, provider_configured: bool) -> bool {
    provider_configured
        && match mode {
            LlmMode::Never => false,
            LlmMode::Always => true,
            LlmMode::Auto => required,
        }
}

/// Evidence budget of one LLM call, in estimated tokens.
pub const EVIDENCE_TOKENS: usize = 12_000;
/// Output budget of one LLM call.
pub const ANSWER_TOKENS: u32 = 2_048;

/// Asks the LLM about a deterministic pass and adds what survives the output filter to its
/// report: findings with skill `llm`, and in `llm` the provider, model, tokens, what was filtered,
/// or the classified error. The verdict stays the deterministic one.
pub async fn consult_llm(
    det: &mut Deterministic,
    skills: &[&Arc<LoadedSkill>],
    provider: &dyn Provider,
    cancel: CancellationToken,
) {
    let span = tracing::info_span!(
        "llm_step",
        target = %det.report.target,
        provider = provider.name(),
        model = provider.model()
    );
    let prose: Vec<(String, String)> = skills
        .iter()
        .map(|s| (s.name().to_string(), s.prose().to_string()))
        .collect();
    let pack = EvidencePack::build(
        &det.report.target,
        &det.reads,
        &det.report.findings,
        &prose,
        EVIDENCE_TOKENS,
    );
    let request = CompletionRequest {
        instructions: llm::INSTRUCTIONS.to_string(),
        evidence: pack.render(),
        schema: filter::answer_schema(),
        max_output_tokens: ANSWER_TOKENS,
    };
    let result = provider
        .complete(&request, cancel)
        .instrument(span.clone())
        .await;
    let llm = &mut det.report.llm;
    llm.called = true;
    llm.provider = Some(provider.name().to_string());
    llm.model = Some(provider.model().to_string());
    match result {
        Ok(answer) => {
            llm.model = Some(answer.usage.model.clone())
                .filter(|m| !m.is_empty())
                .or(llm.model.take());
            llm.input_tokens = answer.usage.input_tokens;
            llm.output_tokens = answer.usage.output_tokens;
            let filtered = filter::filter_answer(&answer.value, &pack);
            llm.filtered = filtered.filtered;
            det.report.findings.extend(filtered.findings);
            report::sort_findings(&mut det.report.findings);
        }
        Err(e) => {
            tracing::warn!(parent: &span, class = e.class.label(), error = %e, "LLM call failed");
            llm.error = Some(report::LlmErrorEntry {
                class: e.class.label().to_string(),
                message: e.to_string(),
            });
        }
    }
    det.report.completed_at = report::now_rfc3339();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_prefer_other_namespaces_then_close_names() {
        let names = vec![
            (Some("a".to_string()), "reviews".to_string()),
            (Some("b".to_string()), "reviews-v1".to_string()),
            (Some("b".to_string()), "ratings".to_string()),
        ];
        assert!(suggest(names.clone(), Some("b"), "reviews").contains("a/reviews"));
        let s = suggest(names.clone(), Some("b"), "reviews-v2");
        assert!(s.contains("b/reviews-v1"), "{s}");
        assert_eq!(suggest(names, Some("b"), "zzzzzzzz"), "");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
