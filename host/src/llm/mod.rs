//! AI as a scalpel: the LLM is asked only when the deterministic pass is inconclusive, sees only
//! what the skills saw (redacted, as an [`EvidencePack`]), answers in a fixed JSON shape, and its
//! answer passes the output filter (`crate::filter`) before anything reaches a report.
//!
//! Providers speak their own wire formats behind one [`Provider`] trait and one error
//! classification ([`ErrorClass`]); retries, backoff and the per-call deadline live in `retry`.

/// Every adapter implements [`Provider`] alike: its own wire body, then its `attempt` under the
/// shared retry/deadline/cancellation loop (`retry::traced_call`). Expects, at the call site, a
/// `NAME` const, `request_body(&self, &CompletionRequest) -> Value`, `attempt(&self, &Value)`, and
/// `model` / `options` fields.
macro_rules! wire_provider {
    ($ty:ty) => {
        impl $crate::llm::Provider for $ty {
            fn name(&self) -> &'static str {
                NAME
            }

            fn model(&self) -> &str {
                &self.model
            }

            fn complete<'a>(
                &'a self,
                request: &'a $crate::llm::CompletionRequest,
                cancel: ::tokio_util::sync::CancellationToken,
            ) -> $crate::llm::CompletionFuture<'a> {
                Box::pin(async move {
                    let body = self.request_body(request);
                    $crate::llm::retry::traced_call(
                        NAME,
                        &self.model,
                        &self.options,
                        cancel,
                        || self.attempt(&body),
                    )
                    .await
                })
            }
        }
    };
}

pub mod anthropic;
mod error;
pub mod http;
pub mod ollama;
pub mod openai;
mod pack;
mod prompt;
pub mod retry;

pub use anthropic::AnthropicProvider;
pub use error::{ErrorClass, LlmError};
pub use ollama::OllamaProvider;
pub use openai::{OpenAiProvider, SchemaMode};
pub use pack::{EvidencePack, PackItem};
pub use prompt::INSTRUCTIONS;
pub use retry::{ProviderOptions, RetryPolicy, with_retries};

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What one completion asks for.
#[derive(Debug, Clone)]
pub struct CompletionRequest {
    /// Instructions (the system prompt): what to do and the rules of the answer. Never cluster text.
    pub instructions: String,
    /// The rendered, redacted EvidencePack: cluster text as delimited data.
    pub evidence: String,
    /// JSON Schema the answer must follow.
    pub schema: serde_json::Value,
    /// Cap on output tokens.
    pub max_output_tokens: u32,
}

/// Token counts and timing of a completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Tokens sent.
    pub input_tokens: u64,
    /// Tokens received.
    pub output_tokens: u64,
    /// The model that answered (as the provider names it).
    pub model: String,
    /// Wall time of the whole call, retries included.
    pub latency: Duration,
}

/// A parsed answer: JSON that the provider said follows the schema (the output filter checks).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The structured answer.
    pub value: serde_json::Value,
    /// Usage.
    pub usage: Usage,
}

/// The future a provider returns; dropping it cancels the call (cancel-safe).
pub type CompletionFuture<'a> = Pin<Box<dyn Future<Output = Result<Answer, LlmError>> + Send + 'a>>;

/// An LLM backend. Implementations: Anthropic Messages, Ollama native chat, OpenAI-compatible.
pub trait Provider: Send + Sync {
    /// `anthropic`, `ollama` or `openai`.
    fn name(&self) -> &'static str;
    /// The configured model.
    fn model(&self) -> &str;
    /// One structured completion. Returns `ErrorClass::Cancelled` promptly once `cancel` fires.
    fn complete<'a>(
        &'a self,
        request: &'a CompletionRequest,
        cancel: CancellationToken,
    ) -> CompletionFuture<'a>;
}
