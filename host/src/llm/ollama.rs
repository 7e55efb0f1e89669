//! Ollama native adapter (`POST {endpoint}/api/chat`), plus a health check.
//!
//! The schema goes in `format` (grammar-constrained decoding, Ollama ≥ 0.5) and the answer is
//! `message.content` parsed as JSON. `stream` is always `false` (Ollama streams NDJSON by
//! default), and `truncate` is `false` so an over-long prompt is an error instead of Ollama
//! silently dropping the front of the evidence. `done_reason: "length"` → `Truncated`.

use std::time::Duration;

use serde_json::{Value, json};

use super::http::{
    build_client, classify_status, count, is_context_too_long, join_url, parse_answer_text,
    send_json, send_raw, snippet,
};
use super::retry::ProviderOptions;
use super::{Answer, CompletionRequest, ErrorClass, LlmError, Usage};

/// Provider label.
const NAME: &str = "ollama";
/// Ollama's default local endpoint.
pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:11434";

/// Ollama native-API provider (no authentication: Ollama is meant to be reached locally).
#[derive(Debug)]
pub struct OllamaProvider {
    client: reqwest::Client,
    endpoint: String,
    model: String,
    num_ctx: Option<u32>,
    options: ProviderOptions,
}

impl OllamaProvider {
    /// A provider for `model` (e.g. `gemma3:4b`) at `endpoint` (e.g. [`DEFAULT_ENDPOINT`]).
    pub fn new(
        endpoint: impl Into<String>,
        model: impl Into<String>,
        options: ProviderOptions,
    ) -> Result<Self, LlmError> {
        Ok(Self {
            client: build_client(NAME)?,
            endpoint: endpoint.into(),
            model: model.into(),
            num_ctx: None,
            options,
        })
    }

    /// Sets the context window (`options.num_ctx`); Ollama's default is small (2–4 K tokens),
    /// which an EvidencePack easily exceeds.
    pub fn with_num_ctx(mut self, num_ctx: u32) -> Self {
        self.num_ctx = Some(num_ctx);
        self
    }

    /// The `/api/chat` body.
    pub fn request_body(&self, request: &CompletionRequest) -> Value {
        let mut options = json!({
            "temperature": self.options.temperature,
            "num_predict": request.max_output_tokens,
        });
        if let (Some(n), Some(map)) = (self.num_ctx, options.as_object_mut()) {
            map.insert("num_ctx".into(), json!(n));
        }
        json!({
            "model": self.model,
            "stream": false,
            "truncate": false,
            "messages": [
                {"role": "system", "content": request.instructions},
                {"role": "user", "content": request.evidence},
            ],
            "format": request.schema,
            "options": options,
        })
    }

    /// Checks the server answers (`GET /api/version`) and has the model (`GET /api/tags`;
    /// absent → `ModelNotFound`). Bounded by the configured deadline.
    pub async fn health(&self) -> Result<(), LlmError> {
        let deadline = self.options.deadline;
        match tokio::time::timeout(deadline, self.health_inner()).await {
            Ok(result) => result,
            Err(_) => Err(LlmError::new(
                NAME,
                ErrorClass::Timeout,
                format!(
                    "health check took longer than {:.1} s",
                    deadline.as_secs_f64()
                ),
            )),
        }
    }

    async fn health_inner(&self) -> Result<(), LlmError> {
        let version = send_json(
            NAME,
            self.client.get(join_url(&self.endpoint, "/api/version")),
            None,
        )
        .await?;
        if version.get("version").and_then(Value::as_str).is_none() {
            return Err(LlmError::new(
                NAME,
                ErrorClass::MalformedResponse,
                format!(
                    "/api/version did not name a version: {}",
                    snippet(version.to_string().as_bytes())
                ),
            ));
        }
        let tags = send_json(
            NAME,
            self.client.get(join_url(&self.endpoint, "/api/tags")),
            None,
        )
        .await?;
        let wanted = with_tag(&self.model);
        let present = tags
            .get("models")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(|m| [m.get("name"), m.get("model")])
            .filter_map(|n| n.and_then(Value::as_str))
            .any(|n| with_tag(n) == wanted);
        if present {
            Ok(())
        } else {
            let mut e = LlmError::new(
                NAME,
                ErrorClass::ModelNotFound,
                format!("model {:?} is not pulled on this Ollama server", self.model),
            );
            e.status = Some(404);
            Err(e)
        }
    }

    async fn attempt(&self, body: &Value) -> Result<Answer, LlmError> {
        let request = self
            .client
            .post(join_url(&self.endpoint, "/api/chat"))
            .json(body);
        let (status, headers, bytes) = send_raw(NAME, request).await?;
        answer_from_reply(status, &headers, &bytes, &self.model)
    }
}

/// What one received reply means: the answer, or the classified error. Public for the fuzz
/// target `ollama_response`, which feeds it any status and body.
#[doc(hidden)]
pub fn answer_from_reply(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    bytes: &[u8],
    model: &str,
) -> Result<Answer, LlmError> {
    if !(200..300).contains(&status) {
        return Err(classify_status(NAME, status, headers, bytes));
    }
    let reply = parse_reply(bytes)?;
    parse_response(&reply, model)
}

/// `gemma3` and `gemma3:latest` name the same model.
fn with_tag(name: &str) -> String {
    if name.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// Parses the reply body. A body that is NDJSON (a stream despite `stream: false`, e.g. via a
/// proxy) is checked line by line for an `{"error":…}` line, which Ollama uses to report
/// failures after the 200 has been sent.
fn parse_reply(bytes: &[u8]) -> Result<Value, LlmError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => Ok(v),
        Err(e) => {
            let text = String::from_utf8_lossy(bytes);
            for line in text.lines() {
                if let Ok(v) = serde_json::from_str::<Value>(line)
                    && let Some(message) = v.get("error").and_then(Value::as_str)
                {
                    return Err(in_band_error(message));
                }
            }
            Err(LlmError::new(
                NAME,
                ErrorClass::MalformedResponse,
                format!("response is not JSON ({e}): {}", snippet(bytes)),
            ))
        }
    }
}

/// Classifies an `{"error":"…"}` that arrived with a 200.
fn in_band_error(message: &str) -> LlmError {
    let lower = message.to_ascii_lowercase();
    let class = if is_context_too_long(message) {
        ErrorClass::ContextTooLong
    } else if lower.contains("not found") && lower.contains("model") {
        ErrorClass::ModelNotFound
    } else {
        ErrorClass::Server
    };
    LlmError::new(NAME, class, message)
}

fn parse_response(reply: &Value, model: &str) -> Result<Answer, LlmError> {
    if let Some(message) = reply.get("error").and_then(Value::as_str) {
        return Err(in_band_error(message));
    }
    match reply.get("done_reason").and_then(Value::as_str) {
        Some("length") => {
            return Err(LlmError::new(
                NAME,
                ErrorClass::Truncated,
                "done_reason length: the answer was cut off",
            ));
        }
        Some(reason @ ("load" | "unload")) => {
            return Err(LlmError::new(
                NAME,
                ErrorClass::MalformedResponse,
                format!("done_reason {reason}: no answer generated"),
            ));
        }
        _ => {}
    }
    let Some(content) = reply
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
    else {
        return Err(LlmError::new(
            NAME,
            ErrorClass::MalformedResponse,
            format!(
                "reply has no message.content: {}",
                snippet(reply.to_string().as_bytes())
            ),
        ));
    };
    let value = parse_answer_text(NAME, content)?;
    Ok(Answer {
        value,
        usage: Usage {
            input_tokens: count(reply, "prompt_eval_count"),
            output_tokens: count(reply, "eval_count"),
            model: reply
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(model)
                .to_string(),
            latency: Duration::ZERO,
        },
    })
}

wire_provider!(OllamaProvider);
