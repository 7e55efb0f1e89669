//! The `Investigation` resource: one object to investigate, and the report the controller writes
//! back under `.status` (the shape of `shared/spec/report.md`, the same as `skillbox investigate -o json`).

use crate::conditions::Conditions;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Annotation whose every new value makes the controller investigate again.
pub const RERUN_ANNOTATION: &str = "skillbox.dev/rerun";

/// A request to investigate one object; `.status` holds the report.
// kube-derive repeats `printcolumn(...)`, which clippy mistakes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "skillbox.dev",
    version = "v1alpha1",
    kind = "Investigation",
    namespaced,
    shortname = "inv",
    category = "skillbox",
    status = "InvestigationStatus",
    doc = "An investigation of one object by skillbox's skills; the report is written to .status.",
    printcolumn(name = "Target", type_ = "string", json_path = ".spec.target.name"),
    printcolumn(
        name = "Kind",
        type_ = "string",
        json_path = ".spec.target.kind",
        priority = 1
    ),
    printcolumn(name = "Verdict", type_ = "string", json_path = ".status.verdict"),
    printcolumn(name = "LLM", type_ = "boolean", json_path = ".status.llm.called"),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct InvestigationSpec {
    /// The object to investigate. Immutable: investigate another object with a new Investigation.
    #[x_kube(validation = Rule::new("self == oldSelf").message("spec.target is immutable: create a new Investigation for another object"))]
    pub target: TargetRef,
    /// Skills to run (Skill names); empty means every Ready skill that targets the kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16), inner(length(min = 1, max = 253)))]
    pub skills: Vec<String>,
    /// When to consult a model: `auto` (only when the skills are inconclusive), `never`, `always`.
    #[serde(default)]
    pub llm: LlmMode,
    /// The ModelProvider to consult; without one no model is called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider_ref: Option<ModelProviderRef>,
    /// Delete this Investigation this long after it completed (auto-created ones get one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub ttl_seconds_after_finished: Option<i64>,
}

/// The object under investigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetRef {
    /// `group/version` or `v1`; resolved from the kind when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 317))]
    pub api_version: Option<String>,
    /// Kind, plural, short name or `kind.group`, as `skillbox investigate` accepts.
    #[schemars(length(min = 1, max = 317))]
    pub kind: String,
    /// Name of the object.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Namespace of the object; the Investigation's own when absent (ignored for cluster-scoped kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63))]
    pub namespace: Option<String>,
}

/// A cluster-scoped ModelProvider, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ModelProviderRef {
    /// Name of the ModelProvider.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// When an Investigation consults a model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum LlmMode {
    /// Only when the deterministic verdict is inconclusive.
    #[default]
    Auto,
    /// Never.
    Never,
    /// Always, even after a resolved verdict.
    Always,
}

/// `.status`: conditions, and the report fields of `shared/spec/report.md` beside them.
///
/// The report fields are kept as the CLI writes them (camelCase JSON), so `kubectl get inv -o
/// json | jq .status` and `skillbox investigate -o json` read the same.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvestigationStatus {
    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The last `skillbox.dev/rerun` annotation value acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_rerun: Option<String>,
    /// `Complete` (an investigation ran to a report, or cannot run: reason says why) and
    /// `Ready` (the report reflects the current spec and every dependency answered).
    #[serde(default)]
    #[schemars(schema_with = "crate::conditions::schema")]
    pub conditions: Conditions,
    /// The object investigated, resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<ObjectRef>,
    /// `resolved`, `healthy` or `inconclusive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Each skill that ran: digest, verdict, cost, and its error if it failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<SkillRun>,
    /// Findings, sorted by severity, code, first resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub findings: Vec<Finding>,
    /// Whether a model was needed and called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmSummary>,
    /// When the investigation started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it completed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

/// A reference to an object in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `group/version` or `v1`.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace; absent for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// Outcome of an investigation or of one skill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// A finding explains the failure.
    Resolved,
    /// Nothing is wrong.
    Healthy,
    /// The skills could not tell.
    Inconclusive,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// Breaks the target.
    Error,
    /// Degrades it or will.
    Warning,
    /// Context.
    Info,
}

/// One skill's run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkillRun {
    /// Skill name.
    pub name: String,
    /// `sha256:<hex>` of its component.
    pub digest: String,
    /// Its own verdict.
    pub verdict: Verdict,
    /// Wall time of the call, µs.
    pub duration_micros: u64,
    /// Fuel it burnt.
    pub fuel_consumed: u64,
    /// Tool calls it made.
    pub tool_calls: u32,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ClassifiedError>,
    /// Output the host's checks removed, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
}

/// A failure with its class (`deadline`, `fuel`, `unreachable`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ClassifiedError {
    /// The class, for alerts and dashboards.
    pub class: String,
    /// Details for a person.
    pub message: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Catalogued code (`mesh.subset-not-found`, …; `llm.*` from a model).
    pub code: String,
    /// Severity.
    pub severity: Severity,
    /// The skill that found it (`llm` for a model).
    pub skill: String,
    /// One line for a person.
    pub summary: String,
    /// Objects involved.
    #[serde(default)]
    pub resources: Vec<ObjectRef>,
    /// What was read that shows it.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// Changes to make in Git.
    #[serde(default)]
    pub suggestions: Vec<String>,
}

/// The model part of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LlmSummary {
    /// The deterministic verdict was inconclusive.
    pub required: bool,
    /// A model was called.
    pub called: bool,
    /// Provider type.
    #[serde(default)]
    pub provider: Option<String>,
    /// Model name.
    #[serde(default)]
    pub model: Option<String>,
    /// Tokens sent.
    #[serde(default)]
    pub input_tokens: u64,
    /// Tokens received.
    #[serde(default)]
    pub output_tokens: u64,
    /// What the output filter removed or rewrote, and why.
    #[serde(default)]
    pub filtered: Vec<String>,
    /// Why the call failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ClassifiedError>,
}
