//! One error classification for every provider, so retries, reports and metrics key on the class.

use std::fmt;
use std::time::Duration;

/// What kind of failure an LLM call met. Variant names double as stable labels (`class()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Bad or missing API key (401).
    Auth,
    /// The key may not do this (403).
    Permission,
    /// Out of credit / billing problem (402, Anthropic `billing_error`).
    Billing,
    /// No such model (404 on the model, Ollama "model not found").
    ModelNotFound,
    /// The request is malformed (400, 422).
    InvalidRequest,
    /// The prompt exceeds the model's context.
    ContextTooLong,
    /// The request body is too large (413).
    RequestTooLarge,
    /// 429: retry after the given delay.
    RateLimited,
    /// 529 / `overloaded_error`: transient.
    Overloaded,
    /// 5xx: transient.
    Server,
    /// The host's per-call deadline passed.
    Timeout,
    /// Connection refused, reset, DNS: transient.
    Network,
    /// The caller cancelled.
    Cancelled,
    /// The model refused (Anthropic `refusal` stop reason, OpenAI `refusal`).
    Refused,
    /// The answer was cut off (`max_tokens`, `length`).
    Truncated,
    /// The response did not parse or does not follow the schema's shape.
    MalformedResponse,
}

impl ErrorClass {
    /// Stable kebab-case label.
    pub fn label(self) -> &'static str {
        match self {
            ErrorClass::Auth => "auth",
            ErrorClass::Permission => "permission",
            ErrorClass::Billing => "billing",
            ErrorClass::ModelNotFound => "model-not-found",
            ErrorClass::InvalidRequest => "invalid-request",
            ErrorClass::ContextTooLong => "context-too-long",
            ErrorClass::RequestTooLarge => "request-too-large",
            ErrorClass::RateLimited => "rate-limited",
            ErrorClass::Overloaded => "overloaded",
            ErrorClass::Server => "server",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Network => "network",
            ErrorClass::Cancelled => "cancelled",
            ErrorClass::Refused => "refused",
            ErrorClass::Truncated => "truncated",
            ErrorClass::MalformedResponse => "malformed-response",
        }
    }

    /// Whether retrying the same request may succeed.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorClass::RateLimited
                | ErrorClass::Overloaded
                | ErrorClass::Server
                | ErrorClass::Network
        )
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A failed LLM call, classified. Never contains the API key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{provider} {class}: {message}{}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct LlmError {
    /// The class.
    pub class: ErrorClass,
    /// Which provider.
    pub provider: &'static str,
    /// What the provider said (bounded; from its error envelope when there is one).
    pub message: String,
    /// HTTP status, when there was a response.
    pub status: Option<u16>,
    /// `retry-after`, when the provider sent one.
    pub retry_after: Option<Duration>,
    /// Attempts made (1 when not retried).
    pub attempts: u32,
}

impl LlmError {
    /// An error of `class` from `provider`.
    pub fn new(provider: &'static str, class: ErrorClass, message: impl Into<String>) -> Self {
        let mut message: String = message.into();
        if message.len() > 512 {
            let mut cut = 512;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        Self {
            class,
            provider,
            message,
            status: None,
            retry_after: None,
            attempts: 1,
        }
    }
}
