//! A local Lambda Runtime API (`/2018-06-01/runtime`): it hands a started function one event and
//! records what the function posts back, as Lambda's runtime interface does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::oneshot;

use super::ANSWER_TIMEOUT;

/// What the function posted for its invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReplyKind {
    Response,
    Error,
    InitError,
}

#[derive(Debug, Clone)]
pub(super) struct Reply {
    /// When the function first asked for its event: the end of its initialisation.
    pub(super) polled: Option<Instant>,
    /// When the runtime API received the answer: the end of the cold start.
    pub(super) at: Instant,
    pub(super) kind: ReplyKind,
    pub(super) body: Bytes,
}

impl Reply {
    /// `200` for an HTTP response, `ok` for another response, or the error's type.
    pub(super) fn summary(&self) -> String {
        match self.kind {
            ReplyKind::Response => {
                let body: Value = serde_json::from_slice(&self.body).unwrap_or_default();
                match body.get("statusCode").and_then(Value::as_u64) {
                    Some(status) => status.to_string(),
                    None => "ok".to_owned(),
                }
            }
            ReplyKind::Error | ReplyKind::InitError => format!("error {}", self.error_text()),
        }
    }

    /// `errorType: errorMessage` from an error post, short enough for a row name: the type
    /// without its module path, the message's last clause on one line.
    pub(super) fn error_text(&self) -> String {
        let body: Value = serde_json::from_slice(&self.body).unwrap_or_default();
        let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
        let kind = field("errorType").rsplit("::").next().unwrap_or_default();
        let message = field("errorMessage").lines().next().unwrap_or_default();
        let message: String = message
            .rsplit(": ")
            .next()
            .unwrap_or_default()
            .chars()
            .take(80)
            .collect();
        format!("{kind}: {message}")
    }
}

/// A minimal Lambda Runtime API on 127.0.0.1: it hands out the queued event once and delivers the
/// function's answer to whoever queued it. Later polls for the next event wait forever, as a
/// frozen Lambda sandbox would.
pub(super) struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
pub(super) struct Shared {
    queued: Mutex<Option<Queued>>,
    /// When the queued event was handed out.
    polled: Mutex<Option<Instant>>,
    waiting: Mutex<Option<(String, oneshot::Sender<Reply>)>>,
}

pub(super) struct Queued {
    request_id: String,
    function_arn: String,
    event: Vec<u8>,
}

pub(super) const API_PREFIX: &str = "/2018-06-01/runtime";

impl RuntimeApi {
    pub(super) async fn start() -> Result<RuntimeApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("cannot listen on 127.0.0.1 for the Lambda Runtime API")?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route(
                &format!("{API_PREFIX}/invocation/next"),
                get(next_invocation),
            )
            .route(
                &format!("{API_PREFIX}/invocation/{{id}}/response"),
                post(invocation_response),
            )
            .route(
                &format!("{API_PREFIX}/invocation/{{id}}/error"),
                post(invocation_error),
            )
            .route(&format!("{API_PREFIX}/init/error"), post(init_error))
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(%err, "the Lambda Runtime API stopped");
            }
        });
        Ok(RuntimeApi {
            address,
            shared,
            server,
        })
    }

    /// `127.0.0.1:{port}`: the value of `AWS_LAMBDA_RUNTIME_API`.
    pub(super) fn host(&self) -> String {
        self.address.to_string()
    }

    /// Queues `event` as the next invocation; the receiver gets the function's answer.
    pub(super) fn invoke(
        &self,
        request_id: &str,
        function_arn: &str,
        event: &Value,
    ) -> oneshot::Receiver<Reply> {
        let (sender, receiver) = oneshot::channel();
        *lock(&self.shared.waiting) = Some((request_id.to_owned(), sender));
        *lock(&self.shared.polled) = None;
        *lock(&self.shared.queued) = Some(Queued {
            request_id: request_id.to_owned(),
            function_arn: function_arn.to_owned(),
            event: event.to_string().into_bytes(),
        });
        receiver
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Delivers an answer for `request_id` (any pending one for an init error).
    pub(super) fn answer(
        &self,
        request_id: Option<&str>,
        kind: ReplyKind,
        body: Bytes,
    ) -> StatusCode {
        let at = Instant::now();
        let mut waiting = lock(&self.waiting);
        let matches = match (&*waiting, request_id) {
            (Some((pending, _)), Some(id)) => pending == id,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !matches {
            return StatusCode::BAD_REQUEST;
        }
        if let Some((_, sender)) = waiting.take() {
            let polled = lock(&self.polled).take();
            let _ = sender.send(Reply {
                polled,
                at,
                kind,
                body,
            });
        }
        StatusCode::ACCEPTED
    }
}

pub(super) async fn next_invocation(State(shared): State<Arc<Shared>>) -> Response {
    let polled = Instant::now();
    let queued = lock(&shared.queued).take();
    let Some(queued) = queued else {
        return std::future::pending().await;
    };
    *lock(&shared.polled) = Some(polled);
    let deadline = SystemTime::now() + ANSWER_TIMEOUT;
    let deadline_ms = deadline
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let headers = [
        ("lambda-runtime-aws-request-id", queued.request_id),
        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
        ("lambda-runtime-invoked-function-arn", queued.function_arn),
        (
            "lambda-runtime-trace-id",
            "Root=1-6745a000-000000000000000000000000;Sampled=0".to_owned(),
        ),
        ("content-type", "application/json".to_owned()),
    ];
    (headers, queued.event).into_response()
}

pub(super) async fn invocation_response(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    shared.answer(Some(&id), ReplyKind::Response, body)
}

pub(super) async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    shared.answer(Some(&id), ReplyKind::Error, body)
}

pub(super) async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    shared.answer(None, ReplyKind::InitError, body)
}
