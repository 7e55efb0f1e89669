//! The `ModelProvider` resource: which model an Investigation may consult, where, with which key,
//! and how much it may spend — or, with `managed: true`, a model server the operator runs itself.

use crate::conditions::Conditions;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A model endpoint for inconclusive investigations.
// kube-derive repeats `printcolumn(...)`, which clippy mistakes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "skillbox.dev",
    version = "v1alpha1",
    kind = "ModelProvider",
    shortname = "mp",
    category = "skillbox",
    status = "ModelProviderStatus",
    doc = "A model skillbox may consult when its skills are inconclusive.",
    printcolumn(name = "Type", type_ = "string", json_path = ".spec.type"),
    printcolumn(name = "Model", type_ = "string", json_path = ".spec.model"),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.managed) || !self.managed || self.type == 'ollama'").message("managed: true is only supported for type ollama"),
    validation = Rule::new("(has(self.managed) && self.managed) || self.type == 'anthropic' || has(self.endpoint)").message("spec.endpoint is required for ollama and openai providers unless managed: true")
)]
pub struct ModelProviderSpec {
    /// Wire protocol: `anthropic` (Messages API), `ollama` (`/api/chat`), `openai` (chat completions).
    #[serde(rename = "type")]
    pub provider_type: ProviderType,
    /// Base URL (`https://api.anthropic.com` when absent for anthropic; the managed server's
    /// Service when `managed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    #[x_kube(validation = Rule::new("self.matches('^https?://[^ ]+$')").message("spec.endpoint must be an http:// or https:// URL"))]
    pub endpoint: Option<String>,
    /// Model name, e.g. `claude-sonnet-4-5`, `qwen2.5:7b`.
    #[schemars(length(min = 1, max = 256))]
    pub model: String,
    /// The API key: a key of a Secret in the controller's namespace (never another namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
    /// Time limits.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Spending limits.
    #[serde(default)]
    pub budgets: Budgets,
    /// For `openai`: `jsonSchema` (default) or `jsonObject` (servers such as llama-cpp-python's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Run the model server in the controller's namespace (ollama only): a Deployment, a
    /// Service and a PVC, the model pulled by an init container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
    /// Shape of the managed server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ManagedServer>,
}

/// A provider's wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ProviderType {
    /// Anthropic Messages API.
    Anthropic,
    /// Ollama's native API.
    Ollama,
    /// OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp, …).
    Openai,
}

impl ProviderType {
    /// The name used in reports and on the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderType::Anthropic => "anthropic",
            ProviderType::Ollama => "ollama",
            ProviderType::Openai => "openai",
        }
    }
}

/// How an openai-type server is asked for JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ResponseFormat {
    /// `response_format: {type: json_schema}`.
    JsonSchema,
    /// `response_format: {type: json_object, schema}`.
    JsonObject,
}

/// A key of a Secret in the controller's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecretKeyRef {
    /// Secret name.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// Key in its data.
    #[schemars(length(min = 1, max = 253))]
    pub key: String,
}

/// Time limits of one model call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Timeouts {
    /// The whole call, retries included, seconds.
    #[schemars(range(min = 1, max = 600))]
    pub request_seconds: u32,
    /// Establishing a connection, seconds.
    #[schemars(range(min = 1, max = 60))]
    pub connect_seconds: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            request_seconds: 60,
            connect_seconds: 5,
        }
    }
}

/// Spending limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Budgets {
    /// Tokens of evidence sent in one call (estimated; the largest items are cut first).
    #[schemars(range(min = 1000, max = 1000000))]
    pub max_input_tokens: u32,
    /// Tokens the model may answer with.
    #[schemars(range(min = 64, max = 32768))]
    pub max_output_tokens: u32,
    /// Calls per hour across all Investigations; beyond it investigations keep their
    /// deterministic result and say so.
    #[schemars(range(min = 0, max = 100000))]
    pub max_calls_per_hour: u32,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            max_input_tokens: 24_000,
            max_output_tokens: 2_048,
            max_calls_per_hour: 60,
        }
    }
}

/// The managed Ollama server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct ManagedServer {
    /// Ollama image.
    #[schemars(length(max = 512))]
    pub image: String,
    /// Size of the model volume.
    #[schemars(length(max = 32))]
    pub storage: String,
    /// Memory limit of the server.
    #[schemars(length(max = 32))]
    pub memory: String,
    /// CPU limit of the server.
    #[schemars(length(max = 32))]
    pub cpu: String,
}

impl Default for ManagedServer {
    fn default() -> Self {
        Self {
            image: "docker.io/ollama/ollama:0.12.3".into(),
            storage: "20Gi".into(),
            memory: "8Gi".into(),
            cpu: "4".into(),
        }
    }
}

/// What the operator observed about a ModelProvider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelProviderStatus {
    /// The generation these conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` (reasons `Reachable`, `Unreachable`, `ModelMissing`, `Unauthorized`, `SecretMissing`).
    #[serde(default)]
    #[schemars(schema_with = "crate::conditions::schema")]
    pub conditions: Conditions,
    /// The endpoint investigations use (the managed server's Service URL when managed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}
