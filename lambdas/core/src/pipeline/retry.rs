//! Retries for calls to third-party APIs: exponential backoff with jitter on rate limits and
//! server errors, honouring `Retry-After`, inside a total time budget per pipeline step.
//!
//! The budget is what keeps the worker inside its Lambda timeout: a step never sleeps past its
//! deadline (a `Retry-After` longer than the time left ends the step at once with the upstream
//! error), and the attempt in flight when the deadline passes is abandoned.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use tokio::time::Instant;

/// How hard one step tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: usize,
    /// The first backoff; later ones double, with jitter, up to `max_delay`.
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// Wall-clock time for the whole step, attempts and sleeps together.
    pub budget: Duration,
}

impl RetryPolicy {
    /// A policy of `max_attempts` attempts within `budget`, backing off from half a second.
    pub const fn new(max_attempts: usize, budget: Duration) -> Self {
        Self {
            max_attempts,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            budget,
        }
    }
}

/// What the retry loop needs to know about an error.
pub trait RetryableError {
    /// Whether trying again may succeed (rate limits, server errors, timeouts).
    fn is_retryable(&self) -> bool;
    /// How long the server asked us to wait, if it said.
    fn retry_after(&self) -> Option<Duration>;
    /// The error to report when the step's time budget ran out mid-attempt.
    fn budget_exhausted(budget: Duration) -> Self;
}

/// Runs `attempt` until it succeeds, fails with an error that is not retryable, runs out of
/// attempts, or runs out of time.
pub async fn with_retries<T, E, F, Fut>(policy: RetryPolicy, attempt: F) -> Result<T, E>
where
    E: RetryableError,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let deadline = Instant::now() + policy.budget;
    let backoff = ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.max_attempts.saturating_sub(1));

    let retrying = attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(E::is_retryable)
        .adjust(move |error: &E, planned| {
            let planned = planned?;
            let wait = error
                .retry_after()
                .map_or(planned, |asked| asked.max(planned));
            (Instant::now() + wait < deadline).then_some(wait)
        })
        .notify(|error: &E, wait| {
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                retryable = error.is_retryable(),
                "retrying upstream call"
            );
        });

    match tokio::time::timeout_at(deadline, retrying).await {
        Ok(result) => result,
        Err(_) => Err(E::budget_exhausted(policy.budget)),
    }
}

/// Parses a `Retry-After` value: delay seconds, or an HTTP date (RFC 9110 §10.2.3).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some(
        (date.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, PartialEq)]
    enum Fail {
        Busy(Option<Duration>),
        Fatal,
        OutOfTime,
    }

    impl RetryableError for Fail {
        fn is_retryable(&self) -> bool {
            matches!(self, Fail::Busy(_))
        }
        fn retry_after(&self) -> Option<Duration> {
            match self {
                Fail::Busy(after) => *after,
                _ => None,
            }
        }
        fn budget_exhausted(_: Duration) -> Self {
            Fail::OutOfTime
        }
    }

    fn quick(max_attempts: usize) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            budget: Duration::from_secs(5),
        }
    }

    #[tokio::test]
    async fn retries_busy_errors_until_success() {
        let calls = AtomicUsize::new(0);
        let result = with_retries(quick(5), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 | 1 => Err(Fail::Busy(None)),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result, Ok("done"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn stops_after_max_attempts() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = with_retries(quick(3), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Fail::Busy(None))
        })
        .await;
        assert_eq!(result, Err(Fail::Busy(None)));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn does_not_retry_fatal_errors() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = with_retries(quick(5), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Fail::Fatal)
        })
        .await;
        assert_eq!(result, Err(Fail::Fatal));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn waits_as_long_as_retry_after_asks() {
        let calls = AtomicUsize::new(0);
        let started = std::time::Instant::now();
        let result = with_retries(quick(3), || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(Fail::Busy(Some(Duration::from_millis(300)))),
                _ => Ok(()),
            }
        })
        .await;
        assert_eq!(result, Ok(()));
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn gives_up_when_retry_after_is_beyond_the_budget() {
        let calls = AtomicUsize::new(0);
        let started = std::time::Instant::now();
        let result: Result<(), _> = with_retries(quick(5), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Fail::Busy(Some(Duration::from_secs(60))))
        })
        .await;
        assert_eq!(result, Err(Fail::Busy(Some(Duration::from_secs(60)))));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_hanging_attempt_ends_at_the_budget() {
        let policy = RetryPolicy {
            budget: Duration::from_millis(100),
            ..quick(3)
        };
        let result: Result<(), _> = with_retries(policy, || async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(())
        })
        .await;
        assert_eq!(result, Err(Fail::OutOfTime));
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
