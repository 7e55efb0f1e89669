//! The output checks: what of a skill's outcome may reach a report. Codes under the skill's
//! prefix, resources the skill read, bounded single-line text, a verdict the findings support,
//! no imperative cluster mutation in suggestions. Everything dropped or cut is a [`Rejection`],
//! itself bounded, so a hostile outcome cannot grow the report through its rejections either.

use crate::engine::LoadedSkill;
use crate::filter;
use crate::report;
use crate::tools::ToolRead;
use skillbox_guest::{Finding, ObjectRef, Outcome, Severity, Verdict};
use std::collections::BTreeMap;
use std::fmt;

use crate::filter::{MAX_LINE, MAX_LINES, MAX_RESOURCES, MAX_SUMMARY};

/// Longest skill finding code (the LLM's codes, `llm.` included, are held to 64: `filter::MAX_CODE`).
const MAX_CODE: usize = 128;
/// Rejections listed per skill call; the rest are counted in one last entry.
pub const MAX_REJECTIONS: usize = 20;

/// One thing the output checks removed, cut or overrode. The display text is what a report's
/// `skills[].rejected` lists; [`Rejection::class`] is a stable label for tests and `skillbox probe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// A finding whose code is not under the skill's prefix (or is the bare prefix).
    ForeignCode {
        /// The code, cleaned and bounded.
        code: String,
        /// The skill's prefix.
        prefix: String,
    },
    /// A finding naming an object the skill never read (nor an owner of one it read).
    UnreadResource {
        /// The finding's code.
        code: String,
        /// The object, as named.
        resource: String,
    },
    /// A suggestion that is an imperative cluster mutation.
    Mutation {
        /// The finding's code.
        code: String,
        /// What the mutation check found.
        found: String,
    },
    /// Findings beyond the report's cap.
    FindingsCap {
        /// How many were dropped.
        dropped: usize,
    },
    /// A finding's text cut to the report's bounds.
    Truncated {
        /// The finding's code.
        code: String,
        /// The fields cut (`code`, `summary`, `resources`, `evidence`, `suggestions`).
        fields: Vec<&'static str>,
    },
    /// A verdict its surviving findings do not support, replaced.
    Verdict {
        /// What the skill said.
        claimed: Verdict,
        /// What the report says.
        taken: Verdict,
    },
    /// Rejections beyond [`MAX_REJECTIONS`], counted.
    More {
        /// How many were not listed.
        count: usize,
    },
}

impl Rejection {
    /// A short stable label: `foreign-code`, `unread-resource`, `mutation`, `findings-cap`,
    /// `truncated`, `verdict`, `more`.
    pub fn class(&self) -> &'static str {
        match self {
            Rejection::ForeignCode { .. } => "foreign-code",
            Rejection::UnreadResource { .. } => "unread-resource",
            Rejection::Mutation { .. } => "mutation",
            Rejection::FindingsCap { .. } => "findings-cap",
            Rejection::Truncated { .. } => "truncated",
            Rejection::Verdict { .. } => "verdict",
            Rejection::More { .. } => "more",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::ForeignCode { code, prefix } => write!(
                f,
                "finding {code:?} dropped: codes of this skill must start with {prefix:?}"
            ),
            Rejection::UnreadResource { code, resource } => write!(
                f,
                "finding {code} dropped: it names {resource}, which the skill never read (nor an owner of anything it read)"
            ),
            Rejection::Mutation { code, found } => {
                write!(f, "finding {code}: suggestion removed: {found}")
            }
            Rejection::FindingsCap { dropped } => write!(
                f,
                "{dropped} findings beyond the first {} dropped",
                report::MAX_FINDINGS
            ),
            Rejection::Truncated { code, fields } => write!(
                f,
                "finding {code}: cut to the report's bounds: {}",
                fields.join(", ")
            ),
            Rejection::Verdict { claimed, taken } => {
                let why = match claimed {
                    Verdict::Resolved => "without an error or warning finding",
                    _ => "despite error/warning findings",
                };
                write!(
                    f,
                    "verdict {} {why}: taken as {}",
                    claimed.as_str(),
                    taken.as_str()
                )
            }
            Rejection::More { count } => write!(f, "{count} more rejections not listed"),
        }
    }
}

/// A list that keeps [`MAX_REJECTIONS`] entries and counts the rest.
#[derive(Debug, Default)]
struct Rejections {
    kept: Vec<Rejection>,
    more: usize,
}

impl Rejections {
    fn push(&mut self, r: Rejection) {
        if self.kept.len() < MAX_REJECTIONS {
            self.kept.push(r);
        } else {
            self.more += 1;
        }
    }

    /// Puts `r` first: the one rejection a reader must see (a cap that hid findings).
    fn push_first(&mut self, r: Rejection) {
        self.kept.insert(0, r);
        if self.kept.len() > MAX_REJECTIONS {
            self.kept.pop();
            self.more += 1;
        }
    }

    fn finish(mut self) -> Vec<Rejection> {
        if self.more > 0 {
            self.kept.push(Rejection::More { count: self.more });
        }
        self.kept
    }
}

/// What the checks kept of an outcome.
#[derive(Debug)]
pub struct CheckedOutcome {
    /// The findings that may reach a report, bounded and cleaned.
    pub findings: Vec<Finding>,
    /// The verdict, as the surviving findings support it.
    pub verdict: Verdict,
    /// What was removed, cut or overridden (at most [`MAX_REJECTIONS`] + 1 entries).
    pub rejected: Vec<Rejection>,
}

/// Checks a skill's outcome before anything of it reaches a report. A finding may name the
/// target, what the skill read, and the owners those objects name in their ownerReferences (a
/// Pod's Deployment is evidence-based even when not read itself); each named object's
/// `apiVersion` is taken from there, never from the skill.
pub fn check_outcome(
    skill: &LoadedSkill,
    target: &ObjectRef,
    reads: &[ToolRead],
    outcome: Outcome,
) -> CheckedOutcome {
    check(&skill.spec().code_prefix, target, reads, outcome)
}

/// [`check_outcome`] with the prefix given: what the checks need of a skill.
pub fn check(
    prefix: &str,
    target: &ObjectRef,
    reads: &[ToolRead],
    outcome: Outcome,
) -> CheckedOutcome {
    let known = readable(target, reads);
    let mut rejected = Rejections::default();
    let mut kept = Vec::new();
    let total = outcome.findings.len();
    for (i, mut f) in outcome.findings.into_iter().enumerate() {
        if kept.len() == report::MAX_FINDINGS {
            rejected.push_first(Rejection::FindingsCap { dropped: total - i });
            break;
        }
        let mut cut = Vec::new();
        let code = clean(&f.code, MAX_CODE, &mut cut, "code");
        if !code.starts_with(prefix) || code.len() == prefix.len() {
            rejected.push(Rejection::ForeignCode {
                code,
                prefix: prefix.to_string(),
            });
            continue;
        }
        if f.resources.len() > MAX_RESOURCES {
            f.resources.truncate(MAX_RESOURCES);
            cut.push("resources");
        }
        let mut unread = None;
        for r in &mut f.resources {
            match known.get(&(r.kind.as_str(), r.namespace.as_deref(), r.name.as_str())) {
                Some(api) => r.api_version = (*api).to_string(),
                None => {
                    unread = Some(bounded_display(r));
                    break;
                }
            }
        }
        if let Some(resource) = unread {
            rejected.push(Rejection::UnreadResource { code, resource });
            continue;
        }
        f.code = code;
        f.summary = clean(&f.summary, MAX_SUMMARY, &mut cut, "summary");
        for (list, field) in [
            (&mut f.evidence, "evidence"),
            (&mut f.suggestions, "suggestions"),
        ] {
            if list.len() > MAX_LINES {
                list.truncate(MAX_LINES);
                cut.push(field);
            }
            for line in list.iter_mut() {
                *line = clean(line, MAX_LINE, &mut cut, field);
            }
        }
        if !cut.is_empty() {
            rejected.push(Rejection::Truncated {
                code: f.code.clone(),
                fields: cut,
            });
        }
        // Suggestions are advice for Git (findings.md); a skill's imperative cluster mutation is
        // removed exactly as an LLM's would be.
        let code = f.code.clone();
        f.suggestions
            .retain(|line| match filter::find_mutation(line) {
                Some(m) => {
                    rejected.push(Rejection::Mutation {
                        code: code.clone(),
                        found: m.to_string(),
                    });
                    false
                }
                None => true,
            });
        kept.push(f);
    }
    let explains = kept
        .iter()
        .any(|f| matches!(f.severity, Severity::Error | Severity::Warning));
    let verdict = match outcome.verdict {
        Verdict::Resolved if !explains => Verdict::Inconclusive,
        Verdict::Healthy if explains => Verdict::Resolved,
        v => v,
    };
    if verdict != outcome.verdict {
        rejected.push(Rejection::Verdict {
            claimed: outcome.verdict,
            taken: verdict,
        });
    }
    CheckedOutcome {
        findings: kept,
        verdict,
        rejected: rejected.finish(),
    }
}

/// `(kind, namespace, name) → apiVersion` of every object a finding may name.
fn readable<'a>(
    target: &'a ObjectRef,
    reads: &'a [ToolRead],
) -> BTreeMap<(&'a str, Option<&'a str>, &'a str), &'a str> {
    let mut known = BTreeMap::new();
    for o in reads.iter().flat_map(|r| r.objects.iter()) {
        known.insert(
            (
                o.kind.kind.as_str(),
                o.namespace.as_deref(),
                o.name.as_str(),
            ),
            o.api_version.as_str(),
        );
        for r in &o.owners {
            known
                .entry((r.kind.as_str(), o.namespace.as_deref(), r.name.as_str()))
                .or_insert(r.api_version.as_str());
        }
    }
    known.insert(
        (
            target.kind.as_str(),
            target.namespace.as_deref(),
            target.name.as_str(),
        ),
        target.api_version.as_str(),
    );
    known
}

/// An object reference as a rejection names it: bounded, one line.
fn bounded_display(r: &ObjectRef) -> String {
    let mut cut = Vec::new();
    clean(&r.to_string(), 256, &mut cut, "")
}

/// Removes control characters (findings are single-line fields) and bounds the length, noting
/// `field` in `cut` when the text was longer.
fn clean(s: &str, max_chars: usize, cut: &mut Vec<&'static str>, field: &'static str) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    for (n, c) in s.chars().enumerate() {
        if n == max_chars {
            out.pop();
            out.push('\u{2026}');
            if !cut.contains(&field) {
                cut.push(field);
            }
            return out;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ObjectRef {
        ObjectRef::namespaced("v1", "Pod", "a", "p")
    }

    fn run(findings: Vec<Finding>, verdict: Verdict) -> CheckedOutcome {
        check("x.", &target(), &[], Outcome { verdict, findings })
    }

    #[test]
    fn clean_strips_controls_and_bounds() {
        let mut cut = Vec::new();
        assert_eq!(clean("a\nb\u{1b}c", 10, &mut cut, "f"), "a b c");
        assert!(cut.is_empty());
        assert_eq!(clean("abcdef", 4, &mut cut, "f"), "abc\u{2026}");
        assert_eq!(cut, ["f"]);
        assert_eq!(clean("abcd", 4, &mut cut, "g"), "abcd");
        assert_eq!(cut, ["f"]);
    }

    #[test]
    fn foreign_codes_unread_objects_and_mutations_are_named() {
        let out = run(
            vec![
                Finding::error("y.z", "s").resource(target()),
                Finding::error("x.", "bare prefix"),
                Finding::error("x.a", "s")
                    .resource(ObjectRef::namespaced("v1", "Secret", "a", "s")),
                Finding::error("x.b", "s")
                    .resource(target())
                    .suggestion("kubectl delete pod p -n a")
                    .suggestion("Fix the image tag in Git"),
            ],
            Verdict::Resolved,
        );
        let classes: Vec<_> = out.rejected.iter().map(Rejection::class).collect();
        assert_eq!(
            classes,
            [
                "foreign-code",
                "foreign-code",
                "unread-resource",
                "mutation"
            ]
        );
        assert_eq!(out.findings.len(), 1);
        assert_eq!(out.findings[0].suggestions, ["Fix the image tag in Git"]);
        assert_eq!(out.verdict, Verdict::Resolved);
    }

    #[test]
    fn giant_text_is_cut_and_noted_once_per_finding() {
        let huge = "\u{1b}[2J".repeat(100_000);
        let mut f =
            Finding::error(format!("x.{}", "g".repeat(1000)), huge.clone()).resource(ObjectRef {
                api_version: huge.clone(),
                ..target()
            });
        for _ in 0..50 {
            f = f.evidence(huge.clone()).suggestion("Fix it in Git");
        }
        let out = run(vec![f], Verdict::Resolved);
        let kept = &out.findings[0];
        assert_eq!(kept.code.chars().count(), MAX_CODE);
        assert_eq!(kept.summary.chars().count(), MAX_SUMMARY);
        assert!(!kept.summary.contains('\u{1b}'));
        assert_eq!(kept.evidence.len(), MAX_LINES);
        assert!(kept.evidence.iter().all(|l| l.chars().count() == MAX_LINE));
        assert_eq!(
            kept.resources[0].api_version, "v1",
            "apiVersion from the evidence"
        );
        assert_eq!(out.rejected.len(), 1, "{:?}", out.rejected);
        assert_eq!(
            out.rejected[0].to_string(),
            format!(
                "finding {}: cut to the report's bounds: code, summary, evidence, suggestions",
                kept.code
            )
        );
    }

    #[test]
    fn a_flood_keeps_the_cap_and_a_bounded_list_of_rejections() {
        let mut findings = Vec::new();
        for i in 0..10_000 {
            findings.push(Finding::error(format!("other.{i}"), "s"));
            findings.push(Finding::error(format!("x.{i}"), "s").resource(target()));
        }
        let out = run(findings, Verdict::Resolved);
        assert_eq!(out.findings.len(), report::MAX_FINDINGS);
        assert_eq!(out.rejected.len(), MAX_REJECTIONS + 1);
        assert_eq!(
            out.rejected[0],
            Rejection::FindingsCap {
                dropped: 20_000 - 100
            }
        );
        // 50 kept and 50 foreign codes seen before the cap; 19,900 left when it is reached.
        assert_eq!(
            out.rejected[MAX_REJECTIONS].to_string(),
            format!("{} more rejections not listed", 50 - MAX_REJECTIONS + 1)
        );
    }

    #[test]
    fn verdicts_follow_the_surviving_findings() {
        let out = run(vec![Finding::info("x.i", "s")], Verdict::Resolved);
        assert_eq!(out.verdict, Verdict::Inconclusive);
        assert_eq!(
            out.rejected[0].to_string(),
            "verdict resolved without an error or warning finding: taken as inconclusive"
        );
        let out = run(
            vec![Finding::warning("x.w", "s").resource(target())],
            Verdict::Healthy,
        );
        assert_eq!(out.verdict, Verdict::Resolved);
        assert_eq!(
            out.rejected[0].to_string(),
            "verdict healthy despite error/warning findings: taken as resolved"
        );
    }
}
