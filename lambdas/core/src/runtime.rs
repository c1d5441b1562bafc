//! Serving an HTTP handler on the Lambda runtime, with the per-request log line.

use std::future::Future;
use std::time::Instant;

use lambda_http::{Body, Request, Response, service_fn};
use tracing::Instrument;

use crate::identity::{Caller, user_ref};
use crate::request::{request_id, route_key};
use crate::telemetry::log_request;

/// Runs `handle` for every API Gateway request until the runtime shuts the process down.
/// `deps` is borrowed for the life of the process, so clients are built once per cold start.
pub async fn serve_http<'a, D, F, Fut>(deps: &'a D, handle: F) -> Result<(), lambda_http::Error>
where
    D: Sync,
    F: Fn(&'a D, Request) -> Fut + Sync,
    Fut: Future<Output = Response<Body>> + Send + 'a,
{
    lambda_http::run(service_fn(|req: Request| {
        instrumented(req, |req| handle(deps, req))
    }))
    .await
}

/// Calls `handle` and logs request id, route, status and latency; for the local gateway too.
pub async fn instrumented<F, Fut>(
    req: Request,
    handle: F,
) -> Result<Response<Body>, lambda_http::Error>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response<Body>>,
{
    let started = Instant::now();
    let id = request_id(&req);
    let route = route_key(&req);
    let user = Caller::from_request(&req)
        .ok()
        .map(|caller| user_ref(&caller.user_id));
    // Lines logged inside the handler (errors, upstream failures) carry the request id too.
    let span = tracing::info_span!("request", request_id = %id, user = tracing::field::Empty);
    if let Some(user) = &user {
        span.record("user", user.as_str());
    }
    let response = handle(req).instrument(span).await;
    log_request(
        &id,
        user.as_deref(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    Ok(response)
}
