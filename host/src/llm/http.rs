//! The HTTP layer shared by the provider adapters: one reqwest client builder, a bounded
//! request/response round trip, and the mapping of every failure (transport errors, HTTP statuses,
//! each provider's error envelope, `retry-after` headers) onto one [`ErrorClass`].
//!
//! Classification is status first, then the envelope's `type`/`code`, then its text: error
//! `type` enums grow over time and local servers (vLLM, llama.cpp, FastAPI wrappers, Ollama) all
//! shape their bodies differently, so the status is the only field every backend agrees on.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{ErrorClass, LlmError};

/// The most response body we read (a structured answer is a few KiB; anything bigger is not one).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// How long a TCP/TLS connect may take before the attempt counts as a network failure.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the reqwest client an adapter uses (one per provider instance: reqwest clients are
/// cheap, and a connection pool belongs to the tokio runtime that opened its connections, so a
/// process-wide static client would break callers that use more than one runtime).
///
/// The ring crypto provider is installed once for the process because reqwest is built with
/// `rustls-no-provider` and would otherwise panic when it first needs TLS. There is deliberately no
/// reqwest-level timeout: the per-call deadline is enforced by the host around the whole call
/// (see `retry`), so one clock decides and it also covers retries and backoff sleeps.
pub fn build_client(provider: &'static str) -> Result<reqwest::Client, LlmError> {
    // "Already installed" (by us or by the embedding program) is fine: any provider will do.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("skillbox/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            LlmError::new(
                provider,
                ErrorClass::InvalidRequest,
                format!("cannot build HTTP client: {}", error_chain(&e)),
            )
        })
}

/// Joins an endpoint (with or without a trailing slash) and an absolute API path.
pub fn join_url(endpoint: &str, path: &str) -> String {
    format!("{}{}", endpoint.trim_end_matches('/'), path)
}

/// Sends `request`, reads the body (bounded) and returns the parsed JSON of a 2xx reply.
///
/// Non-2xx replies are classified with [`classify_status`]; transport failures with
/// [`classify_reqwest`]; a 2xx body that is not JSON is [`ErrorClass::MalformedResponse`].
/// `secret` (the API key, if any) is scrubbed from every message that could echo it.
pub async fn send_json(
    provider: &'static str,
    request: reqwest::RequestBuilder,
    secret: Option<&str>,
) -> Result<Value, LlmError> {
    let (status, headers, body) = send_raw(provider, request).await?;
    decode_json(provider, status, &headers, &body, secret)
}

/// What [`send_json`] makes of a received reply: the parsed JSON of a 2xx, else the classified
/// error, `secret` scrubbed. Apart from the round trip so the fuzz targets can feed it any reply.
pub fn decode_json(
    provider: &'static str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    secret: Option<&str>,
) -> Result<Value, LlmError> {
    if !(200..300).contains(&status) {
        let mut error = classify_status(provider, status, headers, body);
        error.message = scrub(&error.message, secret);
        return Err(error);
    }
    serde_json::from_slice(body).map_err(|e| {
        let mut error = LlmError::new(
            provider,
            ErrorClass::MalformedResponse,
            format!("response is not JSON ({e}): {}", snippet(body)),
        );
        error.message = scrub(&error.message, secret);
        error.status = Some(status);
        error
    })
}

/// Sends `request` and returns status, headers and the (bounded) body, whatever the status.
pub async fn send_raw(
    provider: &'static str,
    request: reqwest::RequestBuilder,
) -> Result<(u16, HeaderMap, Vec<u8>), LlmError> {
    let mut response = request
        .send()
        .await
        .map_err(|e| classify_reqwest(provider, &e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    let mut error = LlmError::new(
                        provider,
                        ErrorClass::MalformedResponse,
                        format!("response body exceeds {MAX_BODY_BYTES} bytes"),
                    );
                    error.status = Some(status);
                    return Err(error);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                let mut error = classify_reqwest(provider, &e);
                error.status = Some(status);
                return Err(error);
            }
        }
    }
    Ok((status, headers, body))
}

/// Maps a reqwest failure: timeout → Timeout, body decoding → MalformedResponse, anything on the
/// connection (refused, reset, DNS, closed before the reply was complete) → Network.
pub fn classify_reqwest(provider: &'static str, error: &reqwest::Error) -> LlmError {
    let class = if error.is_timeout() {
        ErrorClass::Timeout
    } else if error.is_decode() {
        ErrorClass::MalformedResponse
    } else if error.is_builder() {
        ErrorClass::InvalidRequest
    } else {
        ErrorClass::Network
    };
    let mut out = LlmError::new(provider, class, error_chain(error));
    out.status = error.status().map(|s| s.as_u16());
    out
}

/// `error` and its sources, `: `-joined (reqwest's top-level message alone says little).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = inner.source();
    }
    out
}

/// What an error envelope said, whichever provider's shape it had.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    /// `error.type` (Anthropic, OpenAI, llama.cpp) or the flat `type` (vLLM).
    pub kind: Option<String>,
    /// `error.code` / `code`, as text (OpenAI strings, vLLM/llama.cpp integers).
    pub code: Option<String>,
    /// The human-readable message (or the raw body when it is not a known envelope).
    pub message: String,
    /// Anthropic `request_id`, for support tickets.
    pub request_id: Option<String>,
}

/// Reads any of the known error envelopes; a body that is none of them becomes the message.
///
/// Shapes: Anthropic `{"type":"error","error":{"type","message"},"request_id"}`; Ollama
/// `{"error":"…"}`; OpenAI / llama.cpp / newer vLLM `{"error":{"message","type","param","code"}}`;
/// older vLLM `{"object":"error","message","type","code"}`; FastAPI `{"detail":…}`.
pub fn parse_envelope(body: &[u8]) -> Envelope {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Envelope {
            message: snippet(body),
            ..Envelope::default()
        };
    };
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    };
    let request_id = text(value.get("request_id"));
    match value.get("error") {
        Some(Value::String(message)) => {
            return Envelope {
                message: message.clone(),
                request_id,
                ..Envelope::default()
            };
        }
        Some(inner @ Value::Object(_)) => {
            return Envelope {
                kind: text(inner.get("type")),
                code: text(inner.get("code")),
                message: text(inner.get("message")).unwrap_or_else(|| inner.to_string()),
                request_id,
            };
        }
        _ => {}
    }
    if value.get("object").and_then(Value::as_str) == Some("error")
        || value.get("message").is_some()
    {
        return Envelope {
            kind: text(value.get("type")),
            code: text(value.get("code")),
            message: text(value.get("message")).unwrap_or_default(),
            request_id,
        };
    }
    if let Some(detail) = value.get("detail") {
        // FastAPI: a string, or a list of validation errors `[{"loc","msg","type"}]`.
        let message = match detail {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|i| text(i.get("msg")).unwrap_or_else(|| i.to_string()))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        };
        return Envelope {
            message,
            request_id,
            ..Envelope::default()
        };
    }
    Envelope {
        message: snippet(body),
        request_id,
        ..Envelope::default()
    }
}

/// Whether a provider's message says the prompt does not fit the model's context.
///
/// Covers Anthropic ("prompt is too long", "exceed context limit"), OpenAI / llama-cpp-python
/// ("maximum context length"), llama.cpp ("exceeds the available context size"), vLLM
/// ("context length exceeded"/"longer than the maximum model length") and Ollama's wording when
/// truncation is off ("input length exceeds the context length").
pub fn is_context_too_long(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    const PHRASES: [&str; 10] = [
        "prompt is too long",
        "maximum context length",
        "context length exceeded",
        "context_length_exceeded",
        "exceed context limit",
        "exceeds the context",
        "exceeds the available context",
        "available context size",
        "exceeds the maximum context",
        "maximum model length",
    ];
    PHRASES.iter().any(|p| m.contains(p))
        || (m.contains("context") && (m.contains("exceed") || m.contains("too long")))
        || (m.contains("too many tokens") && m.contains("prompt"))
}

/// Class named by an envelope's `type` or `code`, when it is specific enough to trust over the
/// status. Generic types (`invalid_request_error`, `api_error`, `server_error`) return `None`:
/// Ollama's OpenAI layer, for one, labels every unknown failure `api_error`.
fn class_from_kind(kind: &str) -> Option<ErrorClass> {
    Some(match kind {
        "authentication_error" | "invalid_api_key" | "AuthenticationError" => ErrorClass::Auth,
        "permission_error" | "PermissionDeniedError" => ErrorClass::Permission,
        "billing_error" | "insufficient_quota" => ErrorClass::Billing,
        "not_found_error" | "model_not_found" | "NotFoundError" => ErrorClass::ModelNotFound,
        "rate_limit_error" | "rate_limit_exceeded" | "RateLimitError" => ErrorClass::RateLimited,
        "overloaded_error" | "unavailable_error" => ErrorClass::Overloaded,
        "request_too_large" => ErrorClass::RequestTooLarge,
        "context_length_exceeded" | "exceed_context_size_error" => ErrorClass::ContextTooLong,
        "timeout_error" => ErrorClass::Server,
        _ => return None,
    })
}

/// The class a bare HTTP status implies (unknown 4xx → InvalidRequest, unknown 5xx → Server).
fn class_from_status(status: u16) -> ErrorClass {
    match status {
        401 => ErrorClass::Auth,
        402 => ErrorClass::Billing,
        403 => ErrorClass::Permission,
        404 => ErrorClass::ModelNotFound,
        // The server gave up waiting for us, or a conflicting request was in flight: the
        // official SDKs retry both.
        408 | 409 => ErrorClass::Server,
        413 => ErrorClass::RequestTooLarge,
        429 => ErrorClass::RateLimited,
        // Ollama's answer to a request the client abandoned.
        499 => ErrorClass::Cancelled,
        503 | 529 => ErrorClass::Overloaded,
        400..=499 => ErrorClass::InvalidRequest,
        500..=599 => ErrorClass::Server,
        _ => ErrorClass::MalformedResponse,
    }
}

/// Classifies a non-2xx reply from any provider into an [`LlmError`] with status, message (from
/// the envelope, bounded) and `retry_after`.
pub fn classify_status(
    provider: &'static str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> LlmError {
    let envelope = parse_envelope(body);
    let mut class = class_from_status(status);
    let by_kind = envelope
        .kind
        .as_deref()
        .and_then(class_from_kind)
        .or_else(|| envelope.code.as_deref().and_then(class_from_kind));
    if let Some(by_kind) = by_kind {
        class = by_kind;
    }
    let lower = envelope.message.to_ascii_lowercase();
    if class == ErrorClass::InvalidRequest || class == ErrorClass::RequestTooLarge || status == 400
    {
        if is_context_too_long(&envelope.message) {
            class = ErrorClass::ContextTooLong;
        } else if lower.contains("credit balance") {
            // Anthropic reports an empty balance as a 400 invalid_request_error.
            class = ErrorClass::Billing;
        }
    }
    if class == ErrorClass::InvalidRequest
        && lower.contains("model")
        && (lower.contains("not found") || lower.contains("does not exist"))
    {
        class = ErrorClass::ModelNotFound;
    }

    let mut message = String::new();
    if let Some(kind) = &envelope.kind {
        message.push_str(kind);
        message.push_str(": ");
    }
    message.push_str(envelope.message.trim());
    if let Some(id) = envelope
        .request_id
        .or_else(|| header_str(headers, "request-id"))
    {
        message.push_str(" [request-id ");
        message.push_str(&id);
        message.push(']');
    }
    let mut error = LlmError::new(provider, class, message);
    error.status = Some(status);
    error.retry_after = retry_after(headers, SystemTime::now());
    error
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
}

/// The delay a reply asks for: `retry-after-ms` (milliseconds, OpenAI/Anthropic SDK extension)
/// first, then `retry-after` as delay-seconds (integer or decimal) or an HTTP-date relative to
/// `now`. Dates in the past give zero; unparsable values give `None`.
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64((ms / 1000.0).min(86_400.0)));
    }
    let value = header_str(headers, "retry-after")?;
    parse_retry_after_value(&value, now)
}

/// Parses one `retry-after` value (delay-seconds or IMF-fixdate HTTP-date).
pub fn parse_retry_after_value(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = parse_http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only
/// HTTP-date form servers may generate (RFC 9110 §5.6.7).
fn parse_http_date(value: &str) -> Option<u64> {
    let (_, rest) = value.split_once(", ")?;
    let mut parts = rest.split_ascii_whitespace();
    let day: u64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: u64 = hms.next()?.parse().ok()?;
    let m: u64 = hms.next()?.parse().ok()?;
    let s: u64 = hms.next()?.parse().ok()?;
    // NB: IMF-fixdate years have four digits; a longer one overflowed the arithmetic below
    // (fuzz/regressions/*_response/retry-after-year-overflow).
    if parts.next()? != "GMT"
        || !(1..=31).contains(&day)
        || !(0..=9999).contains(&year)
        || h > 23
        || m > 59
        || s > 60
    {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let days = u64::try_from(days).ok()?;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// The first 300 bytes of a body as text, for messages.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]);
    let mut text = text.trim().to_string();
    if body.len() > 300 {
        text.push('…');
    }
    if text.is_empty() {
        text.push_str("(empty body)");
    }
    text
}

/// Replaces every occurrence of `secret` in `message` (servers sometimes echo the key back).
pub fn scrub(message: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if secret.len() >= 4 => message.replace(secret, "[redacted]"),
        _ => message.to_string(),
    }
}

/// Requires the answer to be a JSON object: the schemas we send always describe one.
pub fn require_object(provider: &'static str, value: Value) -> Result<Value, LlmError> {
    if value.is_object() {
        Ok(value)
    } else {
        Err(LlmError::new(
            provider,
            ErrorClass::MalformedResponse,
            format!(
                "answer is not a JSON object: {}",
                snippet(value.to_string().as_bytes())
            ),
        ))
    }
}

/// Parses a model's text answer as a JSON object, tolerating a Markdown code fence around it
/// (small local models add one even under a grammar).
pub fn parse_answer_text(provider: &'static str, text: &str) -> Result<Value, LlmError> {
    let mut t = text.trim();
    if let Some(rest) = t.strip_prefix("```") {
        let rest = rest.strip_prefix("json").unwrap_or(rest);
        t = rest.trim().strip_suffix("```").unwrap_or(rest).trim();
    }
    let value: Value = serde_json::from_str(t).map_err(|e| {
        LlmError::new(
            provider,
            ErrorClass::MalformedResponse,
            format!(
                "answer is not valid JSON ({e}): {}",
                snippet(text.as_bytes())
            ),
        )
    })?;
    require_object(provider, value)
}

/// A count from a usage object (missing or negative counts read as zero).
pub fn count(value: &Value, key: &str) -> u64 {
    value.get(key).and_then(Value::as_u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date() {
        // RFC 9110's example.
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(
            parse_retry_after_value("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(parse_retry_after_value("garbage", now), None);
        assert_eq!(
            parse_retry_after_value("1.5", now),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn envelopes() {
        let e = parse_envelope(br#"{"detail":[{"loc":["body"],"msg":"field required"}]}"#);
        assert_eq!(e.message, "field required");
        let e = parse_envelope(
            br#"{"object":"error","message":"m","type":"NotFoundError","code":404}"#,
        );
        assert_eq!(e.kind.as_deref(), Some("NotFoundError"));
        assert_eq!(e.code.as_deref(), Some("404"));
        assert!(is_context_too_long(
            "input length and `max_tokens` exceed context limit: 197779 + 8192 > 200000"
        ));
        assert!(!is_context_too_long("max_tokens: Field required"));
    }
}
