//! Structured logs: `tracing` as one JSON object per line, so CloudWatch Logs Insights can query
//! fields. Never log headers, bodies, tokens or secret values; log ids and outcomes.

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
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_ansi(false)
        .with_writer(writer)
        .finish()
}

/// The one access-log line per request.
pub fn log_request(request_id: &str, route: &str, status: u16, latency: Duration) {
    tracing::info!(
        request_id,
        route,
        status,
        latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
        "request"
    );
}
