//! Anthropic Messages API adapter (`POST {endpoint}/v1/messages`).
//!
//! The answer is forced into shape with a single tool whose `input_schema` is the answer schema
//! and `tool_choice {"type":"tool"}`: this works on every Claude model, unlike native
//! JSON-schema output, and the tool call's `input` is the answer.
//!
//! Stop reasons: `tool_use` (and `end_turn`/`stop_sequence`/unknown values that still carry our
//! tool call) are answers; `max_tokens` → `Truncated` (the tool input is incomplete);
//! `refusal` → `Refused`; `model_context_window_exceeded` → `ContextTooLong`; `pause_turn` →
//! `MalformedResponse`. `pause_turn` only happens when *server* tools (web search and the like)
//! pause a long turn; we send none, so it means the API did something we did not ask for, and
//! resuming would need the paused assistant turn echoed back — not worth it for a one-shot
//! structured answer. It is not retried (a retry would not change the model's behaviour).

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::http::{
    build_client, count, decode_json, join_url, require_object, scrub, send_raw, snippet,
};
use super::retry::ProviderOptions;
use super::{Answer, CompletionRequest, ErrorClass, LlmError, Usage};

/// Provider label.
const NAME: &str = "anthropic";
/// The Messages API version this adapter speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Default name of the tool the answer is forced through.
pub const DEFAULT_TOOL_NAME: &str = "report_findings";
/// Anthropic's public endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.anthropic.com";

/// Anthropic Messages API provider. The API key is held as a sensitive header value and never
/// appears in `Debug`, logs or errors.
pub struct AnthropicProvider {
    client: reqwest::Client,
    url: String,
    model: String,
    api_key: HeaderValue,
    api_key_text: String,
    tool_name: String,
    options: ProviderOptions,
}

impl std::fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &"[redacted]")
            .field("tool_name", &self.tool_name)
            .field("options", &self.options)
            .finish()
    }
}

impl AnthropicProvider {
    /// A provider for `model` at `endpoint` (e.g. [`DEFAULT_ENDPOINT`]; `/v1/messages` is
    /// appended). The key comes from the caller (the CLI reads `ANTHROPIC_API_KEY`).
    pub fn new(
        endpoint: impl Into<String>,
        model: impl Into<String>,
        api_key: impl Into<String>,
        options: ProviderOptions,
    ) -> Result<Self, LlmError> {
        let api_key_text: String = api_key.into();
        let mut api_key = HeaderValue::from_str(api_key_text.trim()).map_err(|_| {
            LlmError::new(
                NAME,
                ErrorClass::Auth,
                "the API key contains characters not allowed in an HTTP header",
            )
        })?;
        api_key.set_sensitive(true);
        Ok(Self {
            client: build_client(NAME)?,
            url: join_url(&endpoint.into(), "/v1/messages"),
            model: model.into(),
            api_key,
            api_key_text,
            tool_name: DEFAULT_TOOL_NAME.to_string(),
            options,
        })
    }

    /// Names the answer tool something else (the model sees the name).
    pub fn with_tool_name(mut self, name: impl Into<String>) -> Self {
        self.tool_name = name.into();
        self
    }

    /// The request body: instructions as `system`, the evidence as the one user message, and
    /// the schema as the input of the one tool the model must call.
    pub fn request_body(&self, request: &CompletionRequest) -> Value {
        json!({
            "model": self.model,
            "max_tokens": request.max_output_tokens,
            "temperature": self.options.temperature,
            "system": request.instructions,
            "messages": [{"role": "user", "content": request.evidence}],
            "tools": [{
                "name": self.tool_name,
                "description": "Report the answer. Its input must follow the schema exactly.",
                "input_schema": request.schema,
            }],
            "tool_choice": {"type": "tool", "name": self.tool_name},
        })
    }

    async fn attempt(&self, body: &Value) -> Result<Answer, LlmError> {
        let request = self
            .client
            .post(&self.url)
            .header("x-api-key", self.api_key.clone())
            .header("anthropic-version", ANTHROPIC_VERSION)
            .json(body);
        let (status, headers, body) = send_raw(NAME, request).await?;
        answer_from_reply(
            status,
            &headers,
            &body,
            &self.tool_name,
            &self.model,
            Some(&self.api_key_text),
        )
    }
}

/// What one received reply means: the answer, or the classified error (`secret` scrubbed).
/// Public for the fuzz target `anthropic_response`, which feeds it any status and body.
#[doc(hidden)]
pub fn answer_from_reply(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    tool_name: &str,
    model: &str,
    secret: Option<&str>,
) -> Result<Answer, LlmError> {
    let reply = decode_json(NAME, status, headers, body, secret)?;
    // NB: a 200 body can echo the key too (fuzz/regressions/anthropic_response/).
    parse_response(&reply, tool_name, model).map_err(|mut e| {
        e.message = scrub(&e.message, secret);
        e
    })
}

/// Turns a 200 Messages reply into an answer, or classifies why it is not one.
fn parse_response(reply: &Value, tool_name: &str, model: &str) -> Result<Answer, LlmError> {
    let fail = |class, message: String| Err(LlmError::new(NAME, class, message));
    let stop_reason = reply.get("stop_reason").and_then(Value::as_str);
    let text: String = reply
        .get("content")
        .and_then(Value::as_array)
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    match stop_reason {
        Some("max_tokens") => {
            return fail(
                ErrorClass::Truncated,
                "stop_reason max_tokens: the answer was cut off".into(),
            );
        }
        Some("refusal") => {
            return fail(
                ErrorClass::Refused,
                format!("stop_reason refusal: {}", snippet(text.as_bytes())),
            );
        }
        Some("model_context_window_exceeded") => {
            return fail(
                ErrorClass::ContextTooLong,
                "stop_reason model_context_window_exceeded".into(),
            );
        }
        Some("pause_turn") => {
            return fail(
                ErrorClass::MalformedResponse,
                "stop_reason pause_turn: the turn paused although no server tools were offered"
                    .into(),
            );
        }
        _ => {}
    }
    let Some(blocks) = reply.get("content").and_then(Value::as_array) else {
        return fail(
            ErrorClass::MalformedResponse,
            format!(
                "reply has no content array: {}",
                snippet(reply.to_string().as_bytes())
            ),
        );
    };
    let Some(call) = blocks
        .iter()
        .find(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
    else {
        return fail(
            ErrorClass::MalformedResponse,
            format!(
                "no tool_use block (stop_reason {}): {}",
                stop_reason.unwrap_or("none"),
                snippet(text.as_bytes())
            ),
        );
    };
    let called = call.get("name").and_then(Value::as_str).unwrap_or("");
    if called != tool_name {
        return fail(
            ErrorClass::MalformedResponse,
            format!("the model called tool {called:?}, not {tool_name:?}"),
        );
    }
    let value = require_object(NAME, call.get("input").cloned().unwrap_or(Value::Null))?;
    let usage = reply.get("usage").cloned().unwrap_or(Value::Null);
    Ok(Answer {
        value,
        usage: Usage {
            // Cached prompt tokens are reported apart from `input_tokens`; all were sent.
            input_tokens: count(&usage, "input_tokens")
                + count(&usage, "cache_creation_input_tokens")
                + count(&usage, "cache_read_input_tokens"),
            output_tokens: count(&usage, "output_tokens"),
            model: reply
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(model)
                .to_string(),
            latency: Default::default(),
        },
    })
}

wire_provider!(AnthropicProvider);
