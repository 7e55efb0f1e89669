//! The provider adapters against local fake servers (real HTTP/1.1 on 127.0.0.1) that replay each
//! provider's wire format: success, every error class its envelopes can produce, retries with
//! `retry-after`, the host deadline, resets, malformed bodies, refusals, truncation and
//! cancellation (by token, during backoff, and by dropping the future).

mod llm_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use llm_support::*;
use serde_json::{Value, json};
use skillbox::llm::{ErrorClass, OllamaProvider, OpenAiProvider, Provider, SchemaMode};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

// ---------------------------------------------------------------------------------------------
// Anthropic
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn anthropic_success_sends_forced_tool_and_parses_tool_input() {
    let server = FakeServer::start(vec![reply_json(200, anthropic_ok())]).await;
    let provider = anthropic(&server, no_retry());
    assert_eq!(provider.name(), "anthropic");
    assert_eq!(provider.model(), "claude-sonnet-4-5");
    assert!(!format!("{provider:?}").contains(ANTHROPIC_KEY));

    let answer = call(&provider).await.unwrap();
    assert_eq!(answer.value, verdict());
    assert_eq!(answer.usage.input_tokens, 412);
    assert_eq!(answer.usage.output_tokens, 38);
    assert_eq!(answer.usage.model, "claude-sonnet-4-5-20250929");
    assert!(answer.usage.latency > Duration::ZERO);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(r.header("x-api-key"), Some(ANTHROPIC_KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), None);
    let b = &r.body;
    assert_eq!(b["model"], "claude-sonnet-4-5");
    assert_eq!(b["max_tokens"], 1024);
    assert_eq!(b["system"], request().instructions);
    assert_eq!(
        b["messages"],
        json!([{"role": "user", "content": request().evidence}])
    );
    assert_eq!(b["tools"].as_array().unwrap().len(), 1);
    assert_eq!(b["tools"][0]["name"], "report_findings");
    assert_eq!(b["tools"][0]["input_schema"], schema());
    assert_eq!(
        b["tool_choice"],
        json!({"type": "tool", "name": "report_findings"})
    );
}

#[tokio::test]
async fn anthropic_error_envelopes_are_classified() {
    let e = anthropic_error;
    let cases = vec![
        (
            reply_json(
                400,
                e("invalid_request_error", "max_tokens: Field required"),
            ),
            ErrorClass::InvalidRequest,
        ),
        (
            reply_json(
                400,
                e(
                    "invalid_request_error",
                    "prompt is too long: 215000 tokens > 200000 maximum",
                ),
            ),
            ErrorClass::ContextTooLong,
        ),
        (
            reply_json(
                400,
                e(
                    "invalid_request_error",
                    "input length and `max_tokens` exceed context limit: 197779 + 8192 > 200000, decrease input length or `max_tokens` and try again",
                ),
            ),
            ErrorClass::ContextTooLong,
        ),
        (
            reply_json(
                400,
                e(
                    "invalid_request_error",
                    "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
                ),
            ),
            ErrorClass::Billing,
        ),
        (
            reply_json(
                401,
                e(
                    "authentication_error",
                    &format!("invalid x-api-key {ANTHROPIC_KEY}"),
                ),
            ),
            ErrorClass::Auth,
        ),
        (
            reply_json(402, e("billing_error", "billing issue")),
            ErrorClass::Billing,
        ),
        (
            reply_json(
                403,
                e(
                    "permission_error",
                    "Your API key does not have permission to use the specified resource.",
                ),
            ),
            ErrorClass::Permission,
        ),
        (
            reply_json(404, e("not_found_error", "model: claude-nope-1")),
            ErrorClass::ModelNotFound,
        ),
        (
            reply_json(
                413,
                e("request_too_large", "Request exceeds the maximum size"),
            ),
            ErrorClass::RequestTooLarge,
        ),
        (
            // Cloudflare answers 413 before the API does, in HTML.
            reply(
                413,
                "<html><body>413 Request Entity Too Large</body></html>",
            ),
            ErrorClass::RequestTooLarge,
        ),
        (
            reply_json(
                429,
                e(
                    "rate_limit_error",
                    "This request would exceed the rate limit",
                ),
            ),
            ErrorClass::RateLimited,
        ),
        (
            reply_json(500, e("api_error", "Internal server error")),
            ErrorClass::Server,
        ),
        (
            reply_json(504, e("timeout_error", "Request timed out")),
            ErrorClass::Server,
        ),
        (
            reply_json(529, e("overloaded_error", "Overloaded")),
            ErrorClass::Overloaded,
        ),
        (
            // An error type added after this adapter was written: the status decides.
            reply_json(409, e("brand_new_error", "something new")),
            ErrorClass::Server,
        ),
    ];
    check_classes(cases, |s| anthropic(s, no_retry()), Some(ANTHROPIC_KEY)).await;
}

#[tokio::test]
async fn anthropic_error_message_keeps_envelope_and_request_id() {
    let server = FakeServer::start(vec![reply_json(
        404,
        anthropic_error("not_found_error", "model: claude-nope-1"),
    )])
    .await;
    let e = expect_err(&anthropic(&server, no_retry())).await;
    assert!(e.message.contains("model: claude-nope-1"), "{e}");
    assert!(e.message.contains("req_011CV2oMECq8XQSX9u5puh92"), "{e}");
    assert_eq!(e.provider, "anthropic");
}

#[tokio::test]
async fn anthropic_429_honours_retry_after_then_succeeds() {
    let server = FakeServer::start(vec![
        reply_with(
            429,
            &[("retry-after", "1")],
            anthropic_error("rate_limit_error", "rate limited"),
        ),
        reply_json(200, anthropic_ok()),
    ])
    .await;
    let provider = anthropic(&server, fast(3, Duration::from_secs(5)));
    let start = Instant::now();
    let answer = call(&provider).await.unwrap();
    assert_eq!(answer.value, verdict());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
    assert!(gap < Duration::from_millis(1500), "retried after {gap:?}");
    // Latency covers the whole call, the wait included.
    assert!(answer.usage.latency >= gap);
    assert!(answer.usage.latency <= start.elapsed());
}

#[tokio::test]
async fn anthropic_retry_after_past_the_deadline_returns_rate_limited_at_once() {
    let server = FakeServer::start(vec![reply_with(
        429,
        &[("retry-after", "20")],
        anthropic_error("rate_limit_error", "rate limited"),
    )])
    .await;
    let provider = anthropic(&server, fast(3, Duration::from_secs(2)));
    let start = Instant::now();
    let e = expect_err(&provider).await;
    assert_eq!(e.class, ErrorClass::RateLimited);
    assert_eq!(e.retry_after, Some(Duration::from_secs(20)));
    assert_eq!(e.attempts, 1);
    assert!(start.elapsed() < Duration::from_millis(500));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn anthropic_529_and_500_are_retried() {
    let server = FakeServer::start(vec![
        reply_json(529, anthropic_error("overloaded_error", "Overloaded")),
        reply_json(500, anthropic_error("api_error", "Internal server error")),
        reply_json(200, anthropic_ok()),
    ])
    .await;
    let answer = call(&anthropic(&server, fast(3, Duration::from_secs(5))))
        .await
        .unwrap();
    assert_eq!(answer.value, verdict());
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn anthropic_attempts_are_capped() {
    let server = FakeServer::start(vec![
        reply_json(529, anthropic_error("overloaded_error", "Overloaded")),
        reply_json(503, anthropic_error("api_error", "unavailable")),
        reply_json(529, anthropic_error("overloaded_error", "Overloaded")),
        reply_json(200, anthropic_ok()),
    ])
    .await;
    let e = expect_err(&anthropic(&server, fast(3, Duration::from_secs(5)))).await;
    assert_eq!(e.class, ErrorClass::Overloaded);
    assert_eq!(e.status, Some(529));
    assert_eq!(e.attempts, 3);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn anthropic_non_transient_errors_are_not_retried() {
    let server = FakeServer::start(vec![
        reply_json(
            401,
            anthropic_error("authentication_error", "invalid x-api-key"),
        ),
        reply_json(200, anthropic_ok()),
    ])
    .await;
    let e = expect_err(&anthropic(&server, fast(3, Duration::from_secs(5)))).await;
    assert_eq!(e.class, ErrorClass::Auth);
    assert_eq!(e.attempts, 1);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn anthropic_stop_reasons() {
    let with = |stop: &str, content: Value| {
        let mut v = anthropic_ok();
        v["stop_reason"] = json!(stop);
        v["content"] = content;
        reply_json(200, v)
    };
    let tool = anthropic_ok()["content"].clone();
    let text = json!([{"type": "text", "text": "I think it is OOMKilled."}]);
    let cases = vec![
        (
            with(
                "max_tokens",
                json!([{"type": "tool_use", "id": "t", "name": "report_findings", "input": {}}]),
            ),
            ErrorClass::Truncated,
        ),
        (
            with(
                "refusal",
                json!([{"type": "text", "text": "I can't help with that."}]),
            ),
            ErrorClass::Refused,
        ),
        (
            with("end_turn", text.clone()),
            ErrorClass::MalformedResponse,
        ),
        (with("pause_turn", json!([])), ErrorClass::MalformedResponse),
        (
            with("model_context_window_exceeded", text),
            ErrorClass::ContextTooLong,
        ),
        (
            with(
                "tool_use",
                json!([{"type": "tool_use", "id": "t", "name": "other_tool", "input": verdict()}]),
            ),
            ErrorClass::MalformedResponse,
        ),
        (
            with(
                "tool_use",
                json!([{"type": "tool_use", "id": "t", "name": "report_findings", "input": "high"}]),
            ),
            ErrorClass::MalformedResponse,
        ),
        (
            reply_json(200, json!({"type": "message", "stop_reason": "tool_use"})),
            ErrorClass::MalformedResponse,
        ),
    ];
    check_classes(
        cases,
        |s| anthropic(s, fast(3, Duration::from_secs(5))),
        None,
    )
    .await;

    // end_turn that still carries the tool call is an answer.
    let server = FakeServer::start(vec![with("end_turn", tool)]).await;
    let answer = call(&anthropic(&server, no_retry())).await.unwrap();
    assert_eq!(answer.value, verdict());
}

#[tokio::test]
async fn anthropic_truncated_json_body_is_malformed() {
    let body = anthropic_ok().to_string();
    let server = FakeServer::start(vec![reply(200, &body[..body.len() / 2])]).await;
    let e = expect_err(&anthropic(&server, fast(3, Duration::from_secs(5)))).await;
    assert_eq!(e.class, ErrorClass::MalformedResponse);
    assert_eq!(e.attempts, 1);
}

#[tokio::test]
async fn anthropic_hung_server_times_out_at_the_deadline() {
    let server = FakeServer::start(vec![Step::Hang]).await;
    let provider = anthropic(&server, fast(3, Duration::from_millis(300)));
    let start = Instant::now();
    let e = expect_err(&provider).await;
    let elapsed = start.elapsed();
    assert_eq!(e.class, ErrorClass::Timeout);
    assert_eq!(e.attempts, 1);
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(450), "{elapsed:?}");
}

#[tokio::test]
async fn anthropic_reset_connection_is_network_and_retried() {
    let server = FakeServer::start(vec![Step::Reset, Step::Reset, Step::Reset]).await;
    let e = expect_err(&anthropic(&server, fast(3, Duration::from_secs(5)))).await;
    assert_eq!(e.class, ErrorClass::Network, "{e}");
    assert_eq!(e.attempts, 3);
    assert_eq!(e.status, None);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn anthropic_cancel_during_a_hung_call_returns_within_100ms() {
    let server = FakeServer::start(vec![Step::Hang]).await;
    let provider = anthropic(&server, fast(3, Duration::from_secs(5)));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let cancelled_at = Arc::new(Mutex::new(None));
    let mark = cancelled_at.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        *mark.lock().unwrap() = Some(Instant::now());
        trigger.cancel();
    });
    let req = request();
    let result = provider.complete(&req, cancel).await;
    let done = Instant::now();
    let e = result.unwrap_err();
    assert_eq!(e.class, ErrorClass::Cancelled);
    let at = cancelled_at.lock().unwrap().expect("cancel fired");
    assert!(done - at < Duration::from_millis(100), "{:?}", done - at);
    // The request was abandoned: the server sees the connection close.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.closed().len(), 1);
}

#[tokio::test]
async fn anthropic_cancel_during_backoff_returns_within_100ms() {
    let server = FakeServer::start(vec![
        reply_with(
            429,
            &[("retry-after", "5")],
            anthropic_error("rate_limit_error", "rate limited"),
        ),
        reply_json(200, anthropic_ok()),
    ])
    .await;
    let provider = anthropic(&server, fast(3, Duration::from_secs(10)));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let req = request();
    let call = provider.complete(&req, cancel);
    let start = Instant::now();
    let (result, cancelled_at) = tokio::join!(call, async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        trigger.cancel();
        Instant::now()
    });
    let e = result.unwrap_err();
    assert_eq!(e.class, ErrorClass::Cancelled);
    assert_eq!(e.attempts, 1);
    assert!(start.elapsed() - (cancelled_at - start) < Duration::from_millis(100));
    assert_eq!(server.requests().len(), 1, "no retry after the cancel");
}

#[tokio::test]
async fn dropping_the_future_aborts_the_request() {
    let server = FakeServer::start(vec![Step::Hang]).await;
    let provider = anthropic(&server, fast(1, Duration::from_secs(5)));
    let req = request();
    let call = provider.complete(&req, CancellationToken::new());
    let dropped_at = tokio::select! {
        _ = call => panic!("a hung server cannot answer"),
        _ = tokio::time::sleep(Duration::from_millis(100)) => Instant::now(),
    };
    // The select dropped the call future: nothing keeps the connection open.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let closed = server.closed();
    assert_eq!(closed.len(), 1, "connection still open after drop");
    assert!(closed[0] - dropped_at < Duration::from_millis(100));
}

// ---------------------------------------------------------------------------------------------
// Ollama
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn ollama_success_sends_format_and_parses_content() {
    let server = FakeServer::start(vec![reply_json(
        200,
        ollama_ok(r#"{"severity":"high","reason":"OOMKilled"}"#, "stop"),
    )])
    .await;
    let provider = ollama(&server, no_retry()).with_num_ctx(8192);
    assert_eq!(provider.name(), "ollama");
    let answer = call(&provider).await.unwrap();
    assert_eq!(answer.value, verdict());
    assert_eq!(answer.usage.input_tokens, 34);
    assert_eq!(answer.usage.output_tokens, 12);
    assert_eq!(answer.usage.model, "gemma3:4b");

    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/api/chat");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let b = &r.body;
    assert_eq!(b["model"], "gemma3:4b");
    assert_eq!(b["stream"], false);
    assert_eq!(b["format"], schema());
    assert_eq!(
        b["messages"],
        json!([
            {"role": "system", "content": request().instructions},
            {"role": "user", "content": request().evidence},
        ])
    );
    assert_eq!(b["options"]["temperature"], 0.0);
    assert_eq!(b["options"]["num_predict"], 1024);
    assert_eq!(b["options"]["num_ctx"], 8192);
}

#[tokio::test]
async fn ollama_error_envelopes_are_classified() {
    let e = |m: &str| json!({ "error": m });
    let cases = vec![
        (
            reply_json(400, e("model is required")),
            ErrorClass::InvalidRequest,
        ),
        (
            reply_json(
                400,
                e("invalid character '}' looking for beginning of value"),
            ),
            ErrorClass::InvalidRequest,
        ),
        (
            reply_json(400, e("input length exceeds the context length")),
            ErrorClass::ContextTooLong,
        ),
        (reply_json(401, e("unauthorized")), ErrorClass::Auth),
        (reply_json(403, e("forbidden")), ErrorClass::Permission),
        (
            reply_json(404, e("model 'gemma3:4b' not found")),
            ErrorClass::ModelNotFound,
        ),
        (
            reply_json(
                404,
                e("model \"gemma3:4b\" not found, try pulling it first"),
            ),
            ErrorClass::ModelNotFound,
        ),
        (
            reply_json(429, e("too many requests")),
            ErrorClass::RateLimited,
        ),
        (
            reply_json(499, e("request canceled")),
            ErrorClass::Cancelled,
        ),
        (
            reply_json(
                500,
                e("llama runner process has terminated: signal: killed"),
            ),
            ErrorClass::Server,
        ),
        (reply_json(502, e("bad gateway")), ErrorClass::Server),
        (
            reply_json(
                503,
                e("server busy, please try again.  maximum pending requests exceeded"),
            ),
            ErrorClass::Overloaded,
        ),
    ];
    check_classes(cases, |s| ollama(s, no_retry()), None).await;
}

#[tokio::test]
async fn ollama_answers_that_are_not_answers() {
    let cases = vec![
        (
            reply_json(
                200,
                ollama_ok(r#"{"severity":"high","reason":"OOMK"#, "length"),
            ),
            ErrorClass::Truncated,
        ),
        (
            reply_json(200, ollama_ok("It was probably OOMKilled.", "stop")),
            ErrorClass::MalformedResponse,
        ),
        (
            reply_json(200, ollama_ok(r#"["high","OOMKilled"]"#, "stop")),
            ErrorClass::MalformedResponse,
        ),
        (
            reply_json(200, ollama_ok("", "load")),
            ErrorClass::MalformedResponse,
        ),
        (
            reply(200, r#"{"model":"gemma3:4b","message":{"role":"assis"#),
            ErrorClass::MalformedResponse,
        ),
    ];
    check_classes(cases, |s| ollama(s, fast(3, Duration::from_secs(5))), None).await;
    // An in-band error is classified like a status-borne one (here: a transient server error).
    let cases = vec![(
        // A stream after all, failing mid-way with an in-band error line.
        reply(
            200,
            "{\"model\":\"gemma3:4b\",\"message\":{\"role\":\"assistant\",\"content\":\"{\"},\"done\":false}\n{\"error\":\"llama runner process has terminated\"}\n",
        ),
        ErrorClass::Server,
    )];
    check_classes(cases, |s| ollama(s, no_retry()), None).await;
}

#[tokio::test]
async fn ollama_fenced_json_content_is_accepted() {
    let server = FakeServer::start(vec![reply_json(
        200,
        ollama_ok(
            "```json\n{\"severity\":\"high\",\"reason\":\"OOMKilled\"}\n```",
            "stop",
        ),
    )])
    .await;
    let answer = call(&ollama(&server, no_retry())).await.unwrap();
    assert_eq!(answer.value, verdict());
}

#[tokio::test]
async fn ollama_busy_is_retried() {
    let server = FakeServer::start(vec![
        reply_json(503, json!({"error": "server busy, please try again."})),
        reply_json(500, json!({"error": "llama runner process has terminated"})),
        reply_json(
            200,
            ollama_ok(r#"{"severity":"high","reason":"OOMKilled"}"#, "stop"),
        ),
    ])
    .await;
    let answer = call(&ollama(&server, fast(3, Duration::from_secs(5))))
        .await
        .unwrap();
    assert_eq!(answer.value, verdict());
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn ollama_health_checks_version_and_model() {
    let tags = json!({"models": [
        {"name": "gemma3:4b", "model": "gemma3:4b", "size": 3338801804u64, "digest": "a2af6cc3eb7f"},
        {"name": "llama3:latest", "model": "llama3:latest"}
    ]});
    let server = FakeServer::start(vec![
        reply_json(200, json!({"version": "0.12.6"})),
        reply_json(200, tags.clone()),
    ])
    .await;
    ollama(&server, no_retry()).health().await.unwrap();
    let paths: Vec<_> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/api/version", "/api/tags"]);

    // An untagged name means `:latest`.
    let server = FakeServer::start(vec![
        reply_json(200, json!({"version": "0.12.6"})),
        reply_json(200, tags.clone()),
    ])
    .await;
    OllamaProvider::new(&server.base, "llama3", no_retry())
        .unwrap()
        .health()
        .await
        .unwrap();

    let server = FakeServer::start(vec![
        reply_json(200, json!({"version": "0.12.6"})),
        reply_json(200, tags),
    ])
    .await;
    let e = OllamaProvider::new(&server.base, "qwen3:8b", no_retry())
        .unwrap()
        .health()
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::ModelNotFound);

    let server = FakeServer::start(vec![Step::Hang]).await;
    let e = ollama(&server, fast(1, Duration::from_millis(200)))
        .health()
        .await
        .unwrap_err();
    assert_eq!(e.class, ErrorClass::Timeout);
}

#[tokio::test]
async fn ollama_hung_server_times_out_and_cancel_is_prompt() {
    let server = FakeServer::start(vec![Step::Hang]).await;
    let start = Instant::now();
    let e = expect_err(&ollama(&server, fast(3, Duration::from_millis(250)))).await;
    assert_eq!(e.class, ErrorClass::Timeout);
    assert!(start.elapsed() < Duration::from_millis(400));

    let server = FakeServer::start(vec![Step::Hang]).await;
    let provider = ollama(&server, fast(3, Duration::from_secs(5)));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let req = request();
    let (result, cancelled_at) = tokio::join!(provider.complete(&req, cancel), async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        trigger.cancel();
        Instant::now()
    });
    assert_eq!(result.unwrap_err().class, ErrorClass::Cancelled);
    assert!(cancelled_at.elapsed() < Duration::from_millis(100));
}

#[tokio::test]
async fn ollama_reset_is_network() {
    let server = FakeServer::start(vec![Step::Reset, Step::Reset]).await;
    let e = expect_err(&ollama(&server, fast(2, Duration::from_secs(5)))).await;
    assert_eq!(e.class, ErrorClass::Network, "{e}");
    assert_eq!(e.attempts, 2);
}

// ---------------------------------------------------------------------------------------------
// OpenAI-compatible
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn openai_success_sends_json_schema_and_bearer() {
    let server = FakeServer::start(vec![reply_json(
        200,
        openai_ok(json!(verdict().to_string()), "stop"),
    )])
    .await;
    let provider = openai(&server, no_retry());
    assert_eq!(provider.name(), "openai");
    assert!(!format!("{provider:?}").contains(OPENAI_KEY));
    let answer = call(&provider).await.unwrap();
    assert_eq!(answer.value, verdict());
    assert_eq!(answer.usage.input_tokens, 34);
    assert_eq!(answer.usage.output_tokens, 12);
    assert_eq!(answer.usage.model, "gemma-3-4b-it");

    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(
        r.header("authorization"),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    let b = &r.body;
    assert_eq!(b["model"], "gemma-3-4b-it");
    assert_eq!(b["stream"], false);
    assert_eq!(b["max_tokens"], 1024);
    assert_eq!(b["messages"][0]["role"], "system");
    assert_eq!(b["messages"][1]["content"], request().evidence);
    assert_eq!(
        b["response_format"],
        json!({"type": "json_schema",
               "json_schema": {"name": "report_findings", "schema": schema(), "strict": true}})
    );
}

#[tokio::test]
async fn openai_json_object_mode_without_key_for_llama_cpp() {
    let server = FakeServer::start(vec![reply_json(
        200,
        openai_ok(json!(r#"{ "severity": "low", "reason": "high" }"#), "stop"),
    )])
    .await;
    // A base URL ending in /v1 is accepted too.
    let provider = OpenAiProvider::new(format!("{}/v1/", server.base), "smollm2", None, no_retry())
        .unwrap()
        .with_schema_mode(SchemaMode::JsonObject);
    let answer = call(&provider).await.unwrap();
    assert_eq!(answer.value, json!({"severity": "low", "reason": "high"}));
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization"), None);
    assert_eq!(
        r.body["response_format"],
        json!({"type": "json_object", "schema": schema()})
    );
}

#[tokio::test]
async fn openai_compatible_error_envelopes_are_classified() {
    let cases = vec![
        (
            // OpenAI / llama-cpp-python context overflow.
            reply_json(
                400,
                json!({"error": {"message": "This model's maximum context length is 2048 tokens. However, you requested 3039 tokens (3031 in the messages, 8 in the completion). Please reduce the length of the messages or completion.",
                                 "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}),
            ),
            ErrorClass::ContextTooLong,
        ),
        (
            // llama.cpp server context overflow.
            reply_json(
                400,
                json!({"error": {"code": 400, "message": "request (9412 tokens) exceeds the available context size (8192 tokens), try increasing it",
                                 "type": "exceed_context_size_error", "n_prompt_tokens": 9412, "n_ctx": 8192}}),
            ),
            ErrorClass::ContextTooLong,
        ),
        (
            // vLLM flat envelope.
            reply_json(
                404,
                json!({"object": "error", "message": "The model `gemma-x` does not exist.",
                       "type": "NotFoundError", "param": null, "code": 404}),
            ),
            ErrorClass::ModelNotFound,
        ),
        (
            // vLLM flat envelope, 400 naming a missing model.
            reply_json(
                400,
                json!({"object": "error", "message": "The model `gemma-x` does not exist.",
                       "type": "BadRequestError", "param": null, "code": 400}),
            ),
            ErrorClass::ModelNotFound,
        ),
        (
            // Ollama's /v1 layer.
            reply_json(
                404,
                json!({"error": {"message": "model \"gemma-x\" not found, try pulling it first",
                                 "type": "not_found_error", "param": null, "code": null}}),
            ),
            ErrorClass::ModelNotFound,
        ),
        (
            // llama-cpp-python (FastAPI) with a wrong key.
            reply_json(401, json!({"detail": "Invalid API key"})),
            ErrorClass::Auth,
        ),
        (
            // OpenAI's wrong-key reply, echoing (part of) the key.
            reply_json(
                401,
                json!({"error": {"message": format!("Incorrect API key provided: {OPENAI_KEY}."),
                                 "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}),
            ),
            ErrorClass::Auth,
        ),
        (
            reply_json(
                403,
                json!({"error": {"code": 403, "message": "forbidden", "type": "permission_error"}}),
            ),
            ErrorClass::Permission,
        ),
        (
            // FastAPI validation error.
            reply_json(
                422,
                json!({"detail": [{"loc": ["body", "messages"], "msg": "field required", "type": "value_error.missing"}]}),
            ),
            ErrorClass::InvalidRequest,
        ),
        (
            reply_json(
                400,
                json!({"error": {"message": "Invalid schema for response_format", "type": "invalid_request_error",
                                 "param": "response_format", "code": null}}),
            ),
            ErrorClass::InvalidRequest,
        ),
        (
            reply_json(
                429,
                json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                                 "param": null, "code": "insufficient_quota"}}),
            ),
            ErrorClass::Billing,
        ),
        (
            reply_json(
                429,
                json!({"error": {"message": "Rate limit reached for requests", "type": "requests",
                                 "param": null, "code": "rate_limit_exceeded"}}),
            ),
            ErrorClass::RateLimited,
        ),
        (
            reply(413, "Request Entity Too Large"),
            ErrorClass::RequestTooLarge,
        ),
        (
            // llama.cpp while loading.
            reply_json(
                503,
                json!({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}),
            ),
            ErrorClass::Overloaded,
        ),
        (
            reply_json(
                500,
                json!({"error": {"code": 500, "message": "boom", "type": "server_error"}}),
            ),
            ErrorClass::Server,
        ),
    ];
    check_classes(cases, |s| openai(s, no_retry()), Some(OPENAI_KEY)).await;
}

#[tokio::test]
async fn openai_answers_that_are_not_answers() {
    let refusal = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
                     "refusal": "I'm sorry, I can't help with that."}, "finish_reason": "stop"}]
    });
    let cases = vec![
        (reply_json(200, refusal), ErrorClass::Refused),
        (
            reply_json(200, openai_ok(json!(r#"{"severity":"hi"#), "length")),
            ErrorClass::Truncated,
        ),
        (
            reply_json(200, openai_ok(json!(null), "content_filter")),
            ErrorClass::Refused,
        ),
        (
            reply_json(200, openai_ok(json!("\"high\""), "stop")),
            ErrorClass::MalformedResponse,
        ),
        (
            reply_json(200, openai_ok(json!("not json at all"), "stop")),
            ErrorClass::MalformedResponse,
        ),
        (
            reply_json(
                200,
                json!({"id": "x", "object": "chat.completion", "choices": []}),
            ),
            ErrorClass::MalformedResponse,
        ),
        (
            reply(
                200,
                r#"{"id":"chatcmpl-9f2c","object":"chat.completion","choices":[{"index":0,"mess"#,
            ),
            ErrorClass::MalformedResponse,
        ),
    ];
    check_classes(cases, |s| openai(s, fast(3, Duration::from_secs(5))), None).await;
}

#[tokio::test]
async fn openai_429_honours_retry_after_ms() {
    let server = FakeServer::start(vec![
        reply_with(
            429,
            &[("retry-after-ms", "200"), ("retry-after", "7")],
            json!({"error": {"message": "Rate limit reached for requests", "type": "requests",
                             "param": null, "code": "rate_limit_exceeded"}}),
        ),
        reply_json(200, openai_ok(json!(verdict().to_string()), "stop")),
    ])
    .await;
    let answer = call(&openai(&server, fast(3, Duration::from_secs(5))))
        .await
        .unwrap();
    assert_eq!(answer.value, verdict());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(195), "{gap:?}");
    assert!(gap < Duration::from_millis(700), "{gap:?}");
}

#[tokio::test]
async fn openai_server_errors_are_retried_and_capped() {
    let err = json!({"error": {"code": 500, "message": "boom", "type": "server_error"}});
    let server = FakeServer::start(vec![
        reply_json(500, err.clone()),
        reply_json(502, err.clone()),
        reply_json(500, err),
    ])
    .await;
    let e = expect_err(&openai(&server, fast(3, Duration::from_secs(5)))).await;
    assert_eq!(e.class, ErrorClass::Server);
    assert_eq!(e.attempts, 3);
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn openai_hung_reset_and_cancel() {
    let server = FakeServer::start(vec![Step::Hang]).await;
    let start = Instant::now();
    let e = expect_err(&openai(&server, fast(3, Duration::from_millis(250)))).await;
    assert_eq!(e.class, ErrorClass::Timeout);
    assert!(start.elapsed() < Duration::from_millis(400));

    let server = FakeServer::start(vec![Step::Reset]).await;
    let e = expect_err(&openai(&server, no_retry())).await;
    assert_eq!(e.class, ErrorClass::Network, "{e}");

    // Cancelled during the backoff between a 503 and its retry.
    let server = FakeServer::start(vec![
        reply_with(
            503,
            &[("retry-after", "3")],
            json!({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}),
        ),
        reply_json(200, openai_ok(json!(verdict().to_string()), "stop")),
    ])
    .await;
    let provider = openai(&server, fast(3, Duration::from_secs(10)));
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let req = request();
    let (result, cancelled_at) = tokio::join!(provider.complete(&req, cancel), async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        trigger.cancel();
        Instant::now()
    });
    let e = result.unwrap_err();
    assert_eq!(e.class, ErrorClass::Cancelled);
    assert!(cancelled_at.elapsed() < Duration::from_millis(100));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_network() {
    // Bind then drop a listener: the port is (almost certainly) closed now.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let provider = OpenAiProvider::new(base, "m", None, fast(2, Duration::from_secs(5))).unwrap();
    let e = expect_err(&provider).await;
    assert_eq!(e.class, ErrorClass::Network, "{e}");
    assert_eq!(e.attempts, 2);
}
