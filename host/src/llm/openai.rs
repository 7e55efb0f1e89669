//! OpenAI-compatible chat-completions adapter (`POST {endpoint}/v1/chat/completions`): OpenAI
//! itself, vLLM, llama.cpp's server, llama-cpp-python, Ollama's `/v1` layer.
//!
//! Structured output is requested with `response_format`; servers disagree on its dialect, so
//! [`SchemaMode`] picks it per backend. The answer is `choices[0].message.content` parsed as
//! JSON; `message.refusal` or `finish_reason: "content_filter"` → `Refused`;
//! `finish_reason: "length"` → `Truncated`.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::http::{
    build_client, classify_status, count, decode_json, join_url, parse_answer_text, scrub,
    send_raw, snippet,
};
use super::retry::ProviderOptions;
use super::{Answer, CompletionRequest, ErrorClass, LlmError, Usage};

/// Provider label.
const NAME: &str = "openai";
/// OpenAI's public endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.openai.com";
/// Default `json_schema.name`.
pub const DEFAULT_SCHEMA_NAME: &str = "report_findings";

/// How the schema is put in `response_format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SchemaMode {
    /// `{"type":"json_schema","json_schema":{"name","schema","strict":true}}`: OpenAI, vLLM,
    /// llama.cpp's `llama-server`, Ollama `/v1`.
    #[default]
    JsonSchema,
    /// `{"type":"json_object","schema":…}`: llama-cpp-python's server, which rejects
    /// `json_schema` with a 500.
    JsonObject,
}

/// OpenAI-compatible provider. The bearer key is optional (local servers rarely want one) and
/// never appears in `Debug`, logs or errors.
pub struct OpenAiProvider {
    client: reqwest::Client,
    url: String,
    model: String,
    bearer: Option<HeaderValue>,
    api_key_text: Option<String>,
    schema_mode: SchemaMode,
    schema_name: String,
    options: ProviderOptions,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiProvider")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.bearer.as_ref().map(|_| "[redacted]"))
            .field("schema_mode", &self.schema_mode)
            .field("schema_name", &self.schema_name)
            .field("options", &self.options)
            .finish()
    }
}

impl OpenAiProvider {
    /// A provider for `model` at `endpoint`, the server's base URL (a trailing `/v1` is
    /// accepted too). `api_key` (the CLI reads `OPENAI_API_KEY`) is sent as
    /// `Authorization: Bearer` when given.
    pub fn new(
        endpoint: impl Into<String>,
        model: impl Into<String>,
        api_key: Option<String>,
        options: ProviderOptions,
    ) -> Result<Self, LlmError> {
        let api_key_text = api_key
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        let bearer = match &api_key_text {
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                    LlmError::new(
                        NAME,
                        ErrorClass::Auth,
                        "the API key contains characters not allowed in an HTTP header",
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let endpoint: String = endpoint.into();
        let base = endpoint.trim_end_matches('/');
        let base = base.strip_suffix("/v1").unwrap_or(base);
        Ok(Self {
            client: build_client(NAME)?,
            url: join_url(base, "/v1/chat/completions"),
            model: model.into(),
            bearer,
            api_key_text,
            schema_mode: SchemaMode::default(),
            schema_name: DEFAULT_SCHEMA_NAME.to_string(),
            options,
        })
    }

    /// Selects the `response_format` dialect.
    pub fn with_schema_mode(mut self, mode: SchemaMode) -> Self {
        self.schema_mode = mode;
        self
    }

    /// Sets `json_schema.name` (letters, digits, `_`, `-`).
    pub fn with_schema_name(mut self, name: impl Into<String>) -> Self {
        self.schema_name = name.into();
        self
    }

    /// The chat-completions body.
    pub fn request_body(&self, request: &CompletionRequest) -> Value {
        let response_format = match self.schema_mode {
            SchemaMode::JsonSchema => json!({
                "type": "json_schema",
                "json_schema": {"name": self.schema_name, "schema": request.schema, "strict": true},
            }),
            SchemaMode::JsonObject => json!({"type": "json_object", "schema": request.schema}),
        };
        json!({
            "model": self.model,
            "stream": false,
            "temperature": self.options.temperature,
            "max_tokens": request.max_output_tokens,
            "messages": [
                {"role": "system", "content": request.instructions},
                {"role": "user", "content": request.evidence},
            ],
            "response_format": response_format,
        })
    }

    async fn attempt(&self, body: &Value) -> Result<Answer, LlmError> {
        let mut request = self.client.post(&self.url).json(body);
        if let Some(bearer) = &self.bearer {
            request = request.header(reqwest::header::AUTHORIZATION, bearer.clone());
        }
        let (status, headers, body) = send_raw(NAME, request).await?;
        answer_from_reply(
            status,
            &headers,
            &body,
            &self.model,
            self.api_key_text.as_deref(),
        )
    }
}

/// What one received reply means: the answer, or the classified error (`secret` scrubbed).
/// Public for the fuzz target `openai_response`, which feeds it any status and body.
#[doc(hidden)]
pub fn answer_from_reply(
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    model: &str,
    secret: Option<&str>,
) -> Result<Answer, LlmError> {
    let reply = decode_json(NAME, status, headers, body, secret)?;
    parse_response(&reply, model).map_err(|mut e| {
        e.message = scrub(&e.message, secret);
        e
    })
}

fn parse_response(reply: &Value, model: &str) -> Result<Answer, LlmError> {
    let fail = |class, message: String| Err(LlmError::new(NAME, class, message));
    let choice = reply
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|c| c.first());
    let Some(choice) = choice else {
        if reply.get("error").is_some() {
            // An error envelope delivered with a 200 (seen behind some proxies): classify it
            // as the server error it is.
            let mut e =
                classify_status(NAME, 500, &Default::default(), reply.to_string().as_bytes());
            e.status = Some(200);
            return Err(e);
        }
        return fail(
            ErrorClass::MalformedResponse,
            format!(
                "reply has no choices: {}",
                snippet(reply.to_string().as_bytes())
            ),
        );
    };
    let message = choice.get("message").unwrap_or(&Value::Null);
    if let Some(refusal) = message.get("refusal").and_then(Value::as_str) {
        return fail(ErrorClass::Refused, format!("refusal: {refusal}"));
    }
    match choice.get("finish_reason").and_then(Value::as_str) {
        Some("length") => {
            return fail(
                ErrorClass::Truncated,
                "finish_reason length: the answer was cut off".into(),
            );
        }
        Some("content_filter") => {
            return fail(
                ErrorClass::Refused,
                "finish_reason content_filter: the answer was withheld".into(),
            );
        }
        _ => {}
    }
    let Some(content) = message.get("content").and_then(Value::as_str) else {
        return fail(
            ErrorClass::MalformedResponse,
            format!(
                "choice has no message.content: {}",
                snippet(choice.to_string().as_bytes())
            ),
        );
    };
    let value = parse_answer_text(NAME, content)?;
    let usage = reply.get("usage").unwrap_or(&Value::Null);
    Ok(Answer {
        value,
        usage: Usage {
            input_tokens: count(usage, "prompt_tokens"),
            output_tokens: count(usage, "completion_tokens"),
            model: reply
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(model)
                .to_string(),
            latency: Duration::ZERO,
        },
    })
}

wire_provider!(OpenAiProvider);
