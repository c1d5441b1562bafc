//! Structured logs: `tracing` as one JSON object per line, so CloudWatch Logs Insights can query
//! fields. Never log headers, bodies, tokens or secret values; log ids and outcomes.
//!
//! Every line carries the ids that tie one picture together across functions, in `spans` (outermost
//! first): Lambda's `requestId` (the runtime's invocation span), the HTTP API's `request_id`, the
//! `job_id` and `user`, a reference that is not the user's id ([`crate::identity::user_ref`]).
//! `cargo xtask logs --job ID` follows a job by them.

use std::time::Duration;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the JSON subscriber on stdout (level from `RUST_LOG`, default `info`). Call first in
/// `main`; calling it twice is harmless.
pub fn init() {
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}

/// The JSON subscriber writing to `writer` (tests capture the lines with it).
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        // All spans, not only the innermost: the runtime's span holds Lambda's request id, ours
        // the job and the user.
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(false)
        .with_ansi(false)
        .with_writer(writer)
        .finish()
}

/// The one access-log line per request; `user` is the caller's [`crate::identity::user_ref`].
pub fn log_request(
    request_id: &str,
    user: Option<&str>,
    route: &str,
    status: u16,
    latency: Duration,
) {
    tracing::info!(
        request_id,
        user,
        route,
        status,
        latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        "request"
    );
}

/// The span of one job's work in any function: every line logged inside names the job and its
/// user (as a reference).
pub fn job_span(job_id: &str, user_id: &str) -> tracing::Span {
    tracing::info_span!(
        "job",
        job_id,
        user = %crate::identity::user_ref(user_id)
    )
}
