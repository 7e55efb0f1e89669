//! The `llm_call` tracing span: what it records, and that the API key never reaches a log.
//!
//! A binary of its own because a thread-local subscriber races tracing's callsite-interest cache
//! when other tests in the same process hit the callsites first.

mod llm_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use llm_support::*;
use skillbox::llm::ErrorClass;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn llm_call_span_is_traced_and_the_key_is_never_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = FakeServer::start(vec![
        reply_json(529, anthropic_error("overloaded_error", "Overloaded")),
        reply_json(
            401,
            anthropic_error(
                "authentication_error",
                &format!("invalid x-api-key {ANTHROPIC_KEY}"),
            ),
        ),
    ])
    .await;
    let e = expect_err(&anthropic(&server, fast(3, Duration::from_secs(5)))).await;
    assert_eq!(e.class, ErrorClass::Auth);
    assert_eq!(e.attempts, 2);

    let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).to_string();
    assert!(log.contains("llm_call"), "{log}");
    assert!(log.contains("provider=\"anthropic\""), "{log}");
    assert!(log.contains("model=\"claude-sonnet-4-5\""), "{log}");
    assert!(log.contains("attempts=2"), "{log}");
    assert!(log.contains("outcome=\"auth\""), "{log}");
    assert!(log.contains("duration_ms="), "{log}");
    assert!(!log.contains(ANTHROPIC_KEY), "the key was logged: {log}");
}
