//! The values a skill hands back to the host, as plain Rust with builders.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Names one Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `v1`, `apps/v1`, `networking.istio.io/v1`, …
    pub api_version: String,
    /// `Pod`, `Deployment`, …
    pub kind: String,
    /// `None` for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name.
    pub name: String,
}

impl ObjectRef {
    /// A reference to a namespaced object.
    pub fn namespaced(
        api_version: impl Into<String>,
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: Some(namespace.into()),
            name: name.into(),
        }
    }

    /// A reference to a cluster-scoped object.
    pub fn cluster(
        api_version: impl Into<String>,
        kind: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: None,
            name: name.into(),
        }
    }
}

impl fmt::Display for ObjectRef {
    /// `Kind namespace/name`, as `istioctl analyze` names objects.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Explains a user-visible failure.
    Error,
    /// A likely contributor, or a risk.
    Warning,
    /// Context worth knowing.
    Info,
}

/// One thing a skill found, with the evidence it rests on and what to change in Git.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code under the skill's prefix, e.g. `workload.crashloop`.
    pub code: String,
    /// How much it matters.
    pub severity: Severity,
    /// One line a person reads first.
    pub summary: String,
    /// The objects it is about.
    pub resources: Vec<ObjectRef>,
    /// Field paths and values, event reasons and messages.
    pub evidence: Vec<String>,
    /// Fixes a person can make in Git; never imperative cluster commands.
    pub suggestions: Vec<String>,
}

impl Finding {
    /// A finding of the given severity.
    pub fn new(code: impl Into<String>, severity: Severity, summary: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            severity,
            summary: summary.into(),
            resources: Vec::new(),
            evidence: Vec::new(),
            suggestions: Vec::new(),
        }
    }

    /// An `error` finding: it explains a user-visible failure.
    pub fn error(code: impl Into<String>, summary: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, summary)
    }

    /// A `warning` finding: a likely contributor, or a risk.
    pub fn warning(code: impl Into<String>, summary: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, summary)
    }

    /// An `info` finding: context worth knowing.
    pub fn info(code: impl Into<String>, summary: impl Into<String>) -> Self {
        Self::new(code, Severity::Info, summary)
    }

    /// Adds an object the finding is about (duplicates are ignored).
    pub fn resource(mut self, r: ObjectRef) -> Self {
        if !self.resources.contains(&r) {
            self.resources.push(r);
        }
        self
    }

    /// Adds one line of evidence.
    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    /// Adds one suggested fix.
    pub fn suggestion(mut self, line: impl Into<String>) -> Self {
        self.suggestions.push(line.into());
        self
    }

    /// Whether some evidence line contains `needle`.
    pub fn evidence_contains(&self, needle: &str) -> bool {
        self.evidence.iter().any(|e| e.contains(needle))
    }
}

/// A skill's conclusion about its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// A finding of severity error or warning explains what users see.
    Resolved,
    /// Nothing of severity error or warning was found.
    Healthy,
    /// Something is wrong and the deterministic pass cannot say why.
    Inconclusive,
}

impl Verdict {
    /// The verdict's word in reports (its serialized form).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Resolved => "resolved",
            Verdict::Healthy => "healthy",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// What `investigate` returns: a verdict and the findings behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The skill's conclusion.
    pub verdict: Verdict,
    /// What it found.
    pub findings: Vec<Finding>,
}

impl Outcome {
    /// `resolved` when any finding is an error or warning, else `healthy`.
    pub fn from_findings(findings: Vec<Finding>) -> Self {
        let verdict = if findings
            .iter()
            .any(|f| matches!(f.severity, Severity::Error | Severity::Warning))
        {
            Verdict::Resolved
        } else {
            Verdict::Healthy
        };
        Self { verdict, findings }
    }

    /// Something is wrong and these findings do not explain it.
    pub fn inconclusive(findings: Vec<Finding>) -> Self {
        Self {
            verdict: Verdict::Inconclusive,
            findings,
        }
    }

    /// The findings' codes, in order.
    pub fn codes(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.code.as_str()).collect()
    }

    /// Whether a finding has this code.
    pub fn has(&self, code: &str) -> bool {
        self.findings.iter().any(|f| f.code == code)
    }

    /// The first finding with this code.
    pub fn finding(&self, code: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.code == code)
    }
}

/// Why a tool call did not return evidence. Every variant is an answer the skill can handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum ToolError {
    /// The skill's grants (or the host's fixed policy, e.g. Secrets) forbid this read.
    Denied(String),
    /// No such object, kind or log.
    NotFound(String),
    /// The answer would exceed the per-result size cap.
    TooLarge(String),
    /// The skill used up its tool-call or byte budget.
    BudgetExhausted(String),
    /// The evidence source cannot answer right now.
    Unavailable(String),
    /// The request itself is malformed (a bad label selector, an ambiguous kind).
    Invalid(String),
    /// The host's answer was not valid JSON for what was asked (a host bug, or a fixture typo).
    Malformed(String),
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::Denied(m) => write!(f, "denied: {m}"),
            ToolError::NotFound(m) => write!(f, "not found: {m}"),
            ToolError::TooLarge(m) => write!(f, "too large: {m}"),
            ToolError::BudgetExhausted(m) => write!(f, "budget exhausted: {m}"),
            ToolError::Unavailable(m) => write!(f, "unavailable: {m}"),
            ToolError::Invalid(m) => write!(f, "invalid request: {m}"),
            ToolError::Malformed(m) => write!(f, "malformed answer: {m}"),
        }
    }
}

impl std::error::Error for ToolError {}

/// What a skill says about itself. The host compares it with the Skill manifest's grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// The skill's name (its package folder's name).
    pub name: String,
    /// The skill's own version.
    pub version: String,
    /// Every finding code starts with this, e.g. `workload.`.
    pub code_prefix: String,
    /// Kinds the skill investigates.
    pub target_kinds: Vec<String>,
    /// Tools the skill calls.
    pub tools: Vec<String>,
}

impl Manifest {
    /// A manifest with no targets and no tools yet.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        code_prefix: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            code_prefix: code_prefix.into(),
            target_kinds: Vec::new(),
            tools: Vec::new(),
        }
    }

    /// Sets the kinds the skill investigates.
    pub fn target_kinds<I, S>(mut self, kinds: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.target_kinds = kinds.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the tools the skill calls.
    pub fn tools<I, S>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tools = tools.into_iter().map(Into::into).collect();
        self
    }
}

#[cfg(target_arch = "wasm32")]
mod wit_conv {
    //! Conversions to and from the generated bindings.
    use super::*;
    use crate::wit::skillbox::skill::types as w;

    impl From<w::ObjectRef> for ObjectRef {
        fn from(r: w::ObjectRef) -> Self {
            Self {
                api_version: r.api_version,
                kind: r.kind,
                namespace: r.namespace,
                name: r.name,
            }
        }
    }

    impl From<ObjectRef> for w::ObjectRef {
        fn from(r: ObjectRef) -> Self {
            Self {
                api_version: r.api_version,
                kind: r.kind,
                namespace: r.namespace,
                name: r.name,
            }
        }
    }

    impl From<Finding> for w::Finding {
        fn from(f: Finding) -> Self {
            Self {
                code: f.code,
                severity: match f.severity {
                    Severity::Error => w::Severity::Error,
                    Severity::Warning => w::Severity::Warning,
                    Severity::Info => w::Severity::Info,
                },
                summary: f.summary,
                resources: f.resources.into_iter().map(Into::into).collect(),
                evidence: f.evidence,
                suggestions: f.suggestions,
            }
        }
    }

    impl From<Outcome> for w::Outcome {
        fn from(o: Outcome) -> Self {
            Self {
                verdict: match o.verdict {
                    Verdict::Resolved => w::Verdict::Resolved,
                    Verdict::Healthy => w::Verdict::Healthy,
                    Verdict::Inconclusive => w::Verdict::Inconclusive,
                },
                findings: o.findings.into_iter().map(Into::into).collect(),
            }
        }
    }

    impl From<Manifest> for w::Manifest {
        fn from(m: Manifest) -> Self {
            Self {
                name: m.name,
                version: m.version,
                code_prefix: m.code_prefix,
                target_kinds: m.target_kinds,
                tools: m.tools,
            }
        }
    }

    impl From<w::ToolError> for ToolError {
        fn from(e: w::ToolError) -> Self {
            match e {
                w::ToolError::Denied(m) => ToolError::Denied(m),
                w::ToolError::NotFound(m) => ToolError::NotFound(m),
                w::ToolError::TooLarge(m) => ToolError::TooLarge(m),
                w::ToolError::BudgetExhausted(m) => ToolError::BudgetExhausted(m),
                w::ToolError::Unavailable(m) => ToolError::Unavailable(m),
                w::ToolError::Invalid(m) => ToolError::Invalid(m),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_follows_worst_severity() {
        assert_eq!(Outcome::from_findings(vec![]).verdict, Verdict::Healthy);
        assert_eq!(
            Outcome::from_findings(vec![Finding::info("x.a", "a")]).verdict,
            Verdict::Healthy
        );
        assert_eq!(
            Outcome::from_findings(vec![
                Finding::info("x.a", "a"),
                Finding::warning("x.b", "b")
            ])
            .verdict,
            Verdict::Resolved
        );
    }

    #[test]
    fn outcome_queries() {
        let o = Outcome::from_findings(vec![
            Finding::error("x.a", "a").evidence("field = 1"),
            Finding::info("x.b", "b"),
        ]);
        assert_eq!(o.codes(), ["x.a", "x.b"]);
        assert!(o.has("x.b") && !o.has("x.c"));
        assert!(o.finding("x.a").unwrap().evidence_contains("= 1"));
        assert!(o.finding("x.c").is_none());
    }

    #[test]
    fn resource_is_deduplicated() {
        let r = ObjectRef::namespaced("v1", "Pod", "ns", "p");
        let f = Finding::error("x.a", "a").resource(r.clone()).resource(r);
        assert_eq!(f.resources.len(), 1);
    }

    #[test]
    fn object_ref_displays_like_istioctl() {
        assert_eq!(
            ObjectRef::namespaced("v1", "Pod", "ns", "p").to_string(),
            "Pod ns/p"
        );
        assert_eq!(ObjectRef::cluster("v1", "Node", "n").to_string(), "Node n");
    }
}
