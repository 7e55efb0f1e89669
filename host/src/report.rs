//! The investigation report (`../shared/spec/report.md`): one shape for the CLI's JSON/YAML and
//! an Investigation's `.status`, plus the text rendering people read.

use serde::{Deserialize, Serialize};
use skillbox_guest::{Finding, ObjectRef, Severity, Verdict};
use std::fmt::Write as _;

/// The report of one investigation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// What was investigated.
    pub target: ObjectRef,
    /// Worst across skills: inconclusive > resolved > healthy.
    pub verdict: Verdict,
    /// One entry per skill run, sorted by name.
    pub skills: Vec<SkillEntry>,
    /// Sorted by severity, code, first resource.
    pub findings: Vec<ReportFinding>,
    /// The LLM gate's decision and use.
    pub llm: LlmSection,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub completed_at: String,
}

/// One skill's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillEntry {
    /// Skill name.
    pub name: String,
    /// `sha256:<hex>` of the component.
    pub digest: String,
    /// The skill's verdict (inconclusive when it failed).
    pub verdict: Verdict,
    /// Wall time of the call.
    pub duration_micros: u64,
    /// Fuel used.
    pub fuel_consumed: u64,
    /// Tool calls made.
    pub tool_calls: u32,
    /// Why the call failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SkillError>,
    /// What the host's outcome checks removed or changed, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
}

/// A failed skill call, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillError {
    /// Stable class: `deadline`, `fuel`, `memory`, `panic`, `stack-overflow`, `tool-budget`,
    /// `stderr-limit`, `trap`, `instantiate`, `skill-error`.
    pub class: String,
    /// What happened.
    pub message: String,
}

/// A finding with the skill that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportFinding {
    /// Stable code.
    pub code: String,
    /// Severity.
    pub severity: Severity,
    /// The skill that reported it (`llm` for the LLM).
    pub skill: String,
    /// One line.
    pub summary: String,
    /// Objects it is about.
    pub resources: Vec<ObjectRef>,
    /// What it rests on.
    pub evidence: Vec<String>,
    /// Fixes to make in Git.
    pub suggestions: Vec<String>,
}

impl ReportFinding {
    /// A skill's finding, attributed.
    pub fn from_skill(skill: &str, f: Finding) -> Self {
        Self {
            code: f.code,
            severity: f.severity,
            skill: skill.to_string(),
            summary: f.summary,
            resources: f.resources,
            evidence: f.evidence,
            suggestions: f.suggestions,
        }
    }

    fn sort_key(&self) -> (Severity, &str, Option<&ObjectRef>, &str, &str) {
        (
            self.severity,
            &self.code,
            self.resources.first(),
            &self.skill,
            &self.summary,
        )
    }
}

/// The LLM gate: whether one was required and what it did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LlmSection {
    /// The gate's decision: the deterministic pass was inconclusive.
    pub required: bool,
    /// Whether a call was made.
    pub called: bool,
    /// Provider used.
    pub provider: Option<String>,
    /// Model used.
    pub model: Option<String>,
    /// Tokens sent.
    pub input_tokens: u64,
    /// Tokens received.
    pub output_tokens: u64,
    /// What the output filter removed or rewrote.
    pub filtered: Vec<String>,
    /// Why the call failed, when it did (classified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<LlmErrorEntry>,
}

/// A failed LLM call in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LlmErrorEntry {
    /// `auth`, `rate-limited`, `timeout`, … (see `llm::ErrorClass`).
    pub class: String,
    /// What happened (never a key).
    pub message: String,
}

/// Most findings a report carries (report.md).
pub const MAX_FINDINGS: usize = 50;

/// Sorts findings as report.md requires and keeps at most [`MAX_FINDINGS`].
pub fn sort_findings(findings: &mut Vec<ReportFinding>) {
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    findings.truncate(MAX_FINDINGS);
}

/// The report's verdict from the skills': inconclusive > resolved > healthy.
pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    verdicts
        .into_iter()
        .max_by_key(|v| match v {
            Verdict::Healthy => 0,
            Verdict::Resolved => 1,
            Verdict::Inconclusive => 2,
        })
        .unwrap_or(Verdict::Healthy)
}

impl Report {
    /// Text for people, in the manner of `istioctl analyze`: one line per finding (severity, code,
    /// object, summary), its evidence and suggestions indented, then the verdict and the skills.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Investigation of {}", self.target);
        if self.findings.is_empty() {
            let _ = writeln!(s, "\u{2714} No problems found.");
        }
        for f in &self.findings {
            let sev = match f.severity {
                Severity::Error => "Error",
                Severity::Warning => "Warning",
                Severity::Info => "Info",
            };
            let object = f
                .resources
                .first()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            let _ = writeln!(s, "{sev} [{}]{object} {}", f.code, f.summary);
            for e in &f.evidence {
                let _ = writeln!(s, "    evidence:   {e}");
            }
            for sg in &f.suggestions {
                let _ = writeln!(s, "    suggestion: {sg}");
            }
        }
        let _ = writeln!(s, "Verdict: {}", self.verdict.as_str());
        for k in &self.skills {
            let _ = write!(
                s,
                "  skill {} ({}): {} \u{b5}s, {} fuel, {} tool calls",
                k.name,
                short_digest(&k.digest),
                k.duration_micros,
                k.fuel_consumed,
                k.tool_calls
            );
            if let Some(e) = &k.error {
                let _ = write!(s, " \u{2014} FAILED [{}] {}", e.class, e.message);
            }
            s.push('\n');
            for r in &k.rejected {
                let _ = writeln!(s, "    rejected: {r}");
            }
        }
        let llm = &self.llm;
        if llm.called {
            let _ = writeln!(
                s,
                "LLM {} ({}): {} input / {} output tokens",
                llm.provider.as_deref().unwrap_or("?"),
                llm.model.as_deref().unwrap_or("?"),
                llm.input_tokens,
                llm.output_tokens
            );
            if let Some(e) = &llm.error {
                let _ = writeln!(s, "  FAILED [{}] {}", e.class, e.message);
            }
            for f in &llm.filtered {
                let _ = writeln!(s, "  filtered: {f}");
            }
        } else if llm.required {
            let _ = writeln!(
                s,
                "The deterministic pass is inconclusive; no LLM was asked (none configured, or --llm never)."
            );
        }
        s
    }
}

fn short_digest(d: &str) -> &str {
    let hex = d.strip_prefix("sha256:").unwrap_or(d);
    &hex[..hex.len().min(12)]
}

/// Now, RFC 3339 (UTC, seconds).
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(code: &str, sev: Severity, res: &str) -> ReportFinding {
        ReportFinding {
            code: code.into(),
            severity: sev,
            skill: "s".into(),
            summary: "x".into(),
            resources: vec![ObjectRef::namespaced("v1", "Pod", "ns", res)],
            evidence: vec![],
            suggestions: vec![],
        }
    }

    #[test]
    fn findings_sort_by_severity_code_resource() {
        let mut v = vec![
            f("b.x", Severity::Info, "a"),
            f("b.x", Severity::Error, "b"),
            f("a.x", Severity::Error, "z"),
            f("b.x", Severity::Error, "a"),
        ];
        sort_findings(&mut v);
        let got: Vec<_> = v
            .iter()
            .map(|f| (f.code.as_str(), f.resources[0].name.as_str()))
            .collect();
        assert_eq!(
            got,
            [("a.x", "z"), ("b.x", "a"), ("b.x", "b"), ("b.x", "a")]
        );
    }

    #[test]
    fn worst_verdict_wins() {
        use Verdict::*;
        assert_eq!(worst([]), Healthy);
        assert_eq!(worst([Healthy, Resolved]), Resolved);
        assert_eq!(worst([Inconclusive, Resolved, Healthy]), Inconclusive);
    }

    #[test]
    fn report_serializes_camel_case() {
        let r = Report {
            target: ObjectRef::namespaced("v1", "Pod", "ns", "p"),
            verdict: Verdict::Resolved,
            skills: vec![],
            findings: vec![f("a.x", Severity::Error, "p")],
            llm: LlmSection::default(),
            started_at: "t".into(),
            completed_at: "t".into(),
        };
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(j["target"]["apiVersion"], "v1");
        assert_eq!(j["verdict"], "resolved");
        assert_eq!(j["findings"][0]["severity"], "error");
        assert_eq!(j["llm"]["required"], false);
        assert!(j["llm"]["provider"].is_null());
        assert!(j.get("startedAt").is_some());
        let text = r.to_text();
        assert!(text.contains("Error [a.x] (Pod ns/p) x"), "{text}");
    }
}
