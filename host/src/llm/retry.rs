//! Retries, backoff, the per-call deadline and cancellation, shared by every adapter.
//!
//! The host enforces the deadline itself with `tokio::time` around the whole call (attempts and
//! backoff sleeps alike): wasm epoch interruption cannot reach a host-side network wait, and a
//! reqwest timeout would only bound one attempt. Every wait races the caller's
//! [`CancellationToken`], so a cancelled investigation stops within milliseconds, and the HTTP
//! work runs inside the returned future (nothing is spawned), so dropping it aborts the request.

use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use tracing::field::Empty;

use super::{Answer, ErrorClass, LlmError};

/// How transient failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Backoff before the first retry grows from this (doubling per retry)…
    pub base: Duration,
    /// …up to this cap; the actual sleep is uniform in `[0, min(cap, base·2ⁿ)]` (full jitter).
    pub cap: Duration,
    /// Longest `retry-after` honoured; longer requests are clamped to this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 3 attempts, 500 ms base, 8 s cap (the official SDKs' schedule), `retry-after` ≤ 30 s.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The sleep before retry number `retry` (1 = the first retry). A server's `retry-after`
    /// wins (clamped to `max_retry_after`) because it knows when capacity returns; otherwise
    /// full-jitter exponential backoff, which spreads a fleet's retries apart.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max_retry_after);
        }
        let exp = retry.saturating_sub(1).min(20);
        let ceiling = self.base.saturating_mul(1u32 << exp).min(self.cap);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

/// Per-call settings every adapter takes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderOptions {
    /// The whole call (all attempts and backoff sleeps) must finish within this; default 60 s.
    pub deadline: Duration,
    /// Retry policy for transient failures.
    pub retry: RetryPolicy,
    /// Sampling temperature; 0 (the default) for repeatable answers.
    pub temperature: f32,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            temperature: 0.0,
        }
    }
}

fn cancelled(provider: &'static str, attempts: u32) -> LlmError {
    let mut e = LlmError::new(provider, ErrorClass::Cancelled, "cancelled by the caller");
    e.attempts = attempts;
    e
}

fn timed_out(provider: &'static str, deadline: Duration, attempts: u32) -> LlmError {
    let mut e = LlmError::new(
        provider,
        ErrorClass::Timeout,
        format!(
            "no answer within the {:.1} s deadline",
            deadline.as_secs_f64()
        ),
    );
    e.attempts = attempts;
    e
}

/// Runs `attempt` until it succeeds, fails with a non-transient class, or `policy.max_attempts`
/// is reached; each attempt and each backoff sleep is raced against `cancel` (→ `Cancelled`) and
/// against `deadline`, measured from the call (→ `Timeout`).
///
/// A retry whose wait would end past the deadline is not attempted: the last error is returned
/// at once, which says more (e.g. `rate-limited`, with its `retry_after`) than a timeout would.
/// The returned error's `attempts` counts the attempts made; the answer's `usage.latency` covers
/// the whole call.
pub async fn with_retries<F, Fut>(
    provider: &'static str,
    policy: RetryPolicy,
    deadline: Duration,
    cancel: CancellationToken,
    mut attempt: F,
) -> Result<Answer, LlmError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Answer, LlmError>>,
{
    let start = Instant::now();
    let deadline_at = start + deadline;
    let max_attempts = policy.max_attempts.max(1);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(cancelled(provider, attempts)),
            _ = sleep_until(deadline_at) => return Err(timed_out(provider, deadline, attempts)),
            result = attempt() => result,
        };
        let mut error = match result {
            Ok(mut answer) => {
                answer.usage.latency = start.elapsed();
                return Ok(answer);
            }
            Err(error) => error,
        };
        error.attempts = attempts;
        if !error.class.is_transient() || attempts >= max_attempts {
            return Err(error);
        }
        let delay = policy.delay(attempts, error.retry_after);
        if Instant::now() + delay >= deadline_at {
            tracing::debug!(class = %error.class, ?delay, "no time left to retry");
            return Err(error);
        }
        tracing::debug!(class = %error.class, attempt = attempts, ?delay, "retrying");
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(cancelled(provider, attempts)),
            _ = sleep(delay) => {}
        }
    }
}

/// [`with_retries`] inside a `llm_call` tracing span that records provider, model, attempts,
/// outcome (`ok` or the error class) and duration. Never records request or answer content.
pub async fn traced_call<F, Fut>(
    provider: &'static str,
    model: &str,
    options: &ProviderOptions,
    cancel: CancellationToken,
    mut attempt: F,
) -> Result<Answer, LlmError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Answer, LlmError>>,
{
    let span = tracing::info_span!(
        "llm_call",
        provider,
        model,
        attempts = Empty,
        outcome = Empty,
        duration_ms = Empty
    );
    let start = Instant::now();
    let mut made = 0u32;
    let result = with_retries(provider, options.retry, options.deadline, cancel, || {
        made += 1;
        attempt()
    })
    .instrument(span.clone())
    .await;
    let duration_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("attempts", made);
    span.record("duration_ms", duration_ms);
    let _entered = span.enter();
    match &result {
        Ok(answer) => {
            span.record("outcome", "ok");
            tracing::info!(
                input_tokens = answer.usage.input_tokens,
                output_tokens = answer.usage.output_tokens,
                "llm call answered"
            );
        }
        Err(error) => {
            span.record("outcome", error.class.label());
            tracing::warn!(class = %error.class, status = ?error.status, "llm call failed");
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_is_jittered_capped_and_honours_retry_after() {
        let p = RetryPolicy::default();
        for retry in 1..10 {
            let d = p.delay(retry, None);
            assert!(d <= p.cap);
            assert!(d <= p.base * 2u32.pow(retry - 1));
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600))),
            p.max_retry_after
        );
    }
}
