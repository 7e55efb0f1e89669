//! Shared by the `llm_*` test binaries: a scripted fake HTTP/1.1 server on 127.0.0.1 that records
//! the requests it reads, plus request/response fixtures in each provider's wire format.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use skillbox::llm::{
    Answer, AnthropicProvider, CompletionRequest, ErrorClass, LlmError, OllamaProvider,
    OpenAiProvider, Provider, ProviderOptions, RetryPolicy,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

// ---------------------------------------------------------------------------------------------
// Fake server
// ---------------------------------------------------------------------------------------------

/// What the fake server does with the next request it reads.
#[derive(Clone, Debug)]
pub enum Step {
    /// Answer with this status, extra headers and body.
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Never answer; hold the connection until the client closes it.
    Hang,
    /// Close the connection with a TCP RST.
    Reset,
}

pub fn reply(status: u16, body: impl Into<String>) -> Step {
    Step::Reply {
        status,
        headers: Vec::new(),
        body: body.into(),
    }
}

pub fn reply_json(status: u16, body: Value) -> Step {
    reply(status, body.to_string())
}

pub fn reply_with(status: u16, headers: &[(&'static str, &str)], body: Value) -> Step {
    Step::Reply {
        status,
        headers: headers.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        body: body.to_string(),
    }
}

/// One request the fake server read.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
pub struct State {
    steps: Mutex<VecDeque<Step>>,
    requests: Mutex<Vec<Recorded>>,
    /// When a hung connection saw the client go away.
    closed: Mutex<Vec<Instant>>,
}

/// A scripted HTTP/1.1 server on 127.0.0.1:0; aborted when dropped.
pub struct FakeServer {
    pub base: String,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    pub async fn start(steps: Vec<Step>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State {
            steps: Mutex::new(steps.into()),
            ..State::default()
        });
        let shared = state.clone();
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                connections.spawn(serve(socket, shared.clone()));
            }
        });
        Self { base, state, task }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn closed(&self) -> Vec<Instant> {
        self.state.closed.lock().unwrap().clone()
    }
}

pub async fn serve(mut socket: TcpStream, state: Arc<State>) {
    let mut buf = Vec::new();
    while let Some(request) = read_request(&mut socket, &mut buf).await {
        state.requests.lock().unwrap().push(request);
        let step = state.steps.lock().unwrap().pop_front();
        match step {
            Some(Step::Reply {
                status,
                headers,
                body,
            }) => {
                let mut head = format!(
                    "HTTP/1.1 {status} Scripted\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                if socket.write_all(head.as_bytes()).await.is_err()
                    || socket.write_all(body.as_bytes()).await.is_err()
                {
                    return;
                }
            }
            Some(Step::Hang) => {
                let mut sink = [0u8; 1024];
                loop {
                    match socket.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                state.closed.lock().unwrap().push(Instant::now());
                return;
            }
            Some(Step::Reset) => {
                let _ = socket.set_zero_linger();
                return;
            }
            None => {
                let body = r#"{"error":"fake server: no step scripted for this request"}"#;
                let head = format!(
                    "HTTP/1.1 418 Unscripted\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
            }
        }
    }
}

/// Reads one request (headers + content-length body); `None` at EOF.
pub async fn read_request(socket: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Recorded> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
    Some(Recorded {
        method,
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at,
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

pub const ANTHROPIC_KEY: &str = "sk-ant-test-0123456789";
pub const OPENAI_KEY: &str = "sk-openai-test-0123456789";

pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "severity": {"type": "string", "enum": ["low", "high"]},
            "reason": {"type": "string"}
        },
        "required": ["severity", "reason"],
        "additionalProperties": false
    })
}

pub fn request() -> CompletionRequest {
    CompletionRequest {
        instructions: "You triage Kubernetes events. Answer only via the tool.".into(),
        evidence: "<evidence>Pod api-7f9 CrashLoopBackOff, exit 137</evidence>".into(),
        schema: schema(),
        max_output_tokens: 1024,
    }
}

/// Fast retries so the whole file runs in a few seconds.
pub fn fast(attempts: u32, deadline: Duration) -> ProviderOptions {
    ProviderOptions {
        deadline,
        retry: RetryPolicy {
            max_attempts: attempts,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(30),
        },
        temperature: 0.0,
    }
}

pub fn no_retry() -> ProviderOptions {
    fast(1, Duration::from_secs(5))
}

pub fn anthropic(server: &FakeServer, options: ProviderOptions) -> AnthropicProvider {
    AnthropicProvider::new(&server.base, "claude-sonnet-4-5", ANTHROPIC_KEY, options).unwrap()
}

pub fn ollama(server: &FakeServer, options: ProviderOptions) -> OllamaProvider {
    OllamaProvider::new(&server.base, "gemma3:4b", options).unwrap()
}

pub fn openai(server: &FakeServer, options: ProviderOptions) -> OpenAiProvider {
    OpenAiProvider::new(
        &server.base,
        "gemma-3-4b-it",
        Some(OPENAI_KEY.to_string()),
        options,
    )
    .unwrap()
}

pub async fn call(provider: &dyn Provider) -> Result<Answer, LlmError> {
    provider
        .complete(&request(), CancellationToken::new())
        .await
}

pub async fn expect_err(provider: &dyn Provider) -> LlmError {
    match call(provider).await {
        Ok(answer) => panic!("expected an error, got {answer:?}"),
        Err(e) => e,
    }
}

pub fn verdict() -> Value {
    json!({"severity": "high", "reason": "OOMKilled"})
}

pub fn anthropic_ok() -> Value {
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9",
                     "name": "report_findings", "input": verdict()}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 412, "output_tokens": 38, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "service_tier": "standard"}
    })
}

pub fn anthropic_error(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message},
           "request_id": "req_011CV2oMECq8XQSX9u5puh92"})
}

pub fn ollama_ok(content: &str, done_reason: &str) -> Value {
    json!({
        "model": "gemma3:4b", "created_at": "2024-12-06T00:46:58.265747Z",
        "message": {"role": "assistant", "content": content},
        "done": true, "done_reason": done_reason, "total_duration": 2254970291u64,
        "load_duration": 574751416, "prompt_eval_count": 34,
        "prompt_eval_duration": 1502000000, "eval_count": 12, "eval_duration": 175000000
    })
}

pub fn openai_ok(content: Value, finish_reason: &str) -> Value {
    json!({
        "id": "chatcmpl-9f2c", "object": "chat.completion", "created": 1733446018,
        "model": "gemma-3-4b-it",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                     "finish_reason": finish_reason, "logprobs": null}],
        "usage": {"prompt_tokens": 34, "completion_tokens": 12, "total_tokens": 46}
    })
}

/// Runs one no-retry call per `(step, class)` case against a fresh server, asserting the class,
/// the status, one attempt and that no API key leaked into the message.
pub async fn check_classes<P: Provider>(
    cases: Vec<(Step, ErrorClass)>,
    make: impl Fn(&FakeServer) -> P,
    secret: Option<&str>,
) {
    for (step, class) in cases {
        let label = format!("{step:?}");
        let status = match &step {
            Step::Reply { status, .. } => Some(*status),
            _ => None,
        };
        let server = FakeServer::start(vec![step]).await;
        let provider = make(&server);
        let e = expect_err(&provider).await;
        assert_eq!(e.class, class, "{label}: {e}");
        assert_eq!(e.attempts, 1, "{label}: {e}");
        if status.is_some_and(|s| s >= 400) {
            assert_eq!(e.status, status, "{label}: {e}");
        }
        if let Some(secret) = secret {
            assert!(!e.message.contains(secret), "key leaked: {e}");
            assert!(!format!("{e:?}").contains(secret), "key leaked: {e:?}");
        }
        assert_eq!(server.requests().len(), 1, "{label}");
    }
}
