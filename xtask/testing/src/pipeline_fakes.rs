//! Stand-ins for the generation pipeline's ports in tests: a worker
//! invoker that records what it was asked to start, and a local API Gateway Management API on
//! 127.0.0.1 that records posts to connections and answers 410 Gone for chosen ones.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use mumble_core::generation::{InvokeError, WorkerEvent, WorkerInvoker};

/// Records the worker events instead of invoking anything; fails every start when `failing`.
#[derive(Default)]
pub struct RecordingInvoker {
    events: Mutex<Vec<WorkerEvent>>,
    pub failing: bool,
}

impl RecordingInvoker {
    pub fn failing() -> Self {
        Self {
            events: Mutex::default(),
            failing: true,
        }
    }

    /// The events of every start so far.
    pub fn events(&self) -> Vec<WorkerEvent> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait]
impl WorkerInvoker for RecordingInvoker {
    async fn start(&self, event: &WorkerEvent) -> Result<(), InvokeError> {
        if self.failing {
            return Err(InvokeError("Lambda is unavailable (test)".to_owned()));
        }
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event.clone());
        Ok(())
    }
}

/// One `POST /@connections/{id}` the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub connection_id: String,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Recorded {
    posts: Vec<Post>,
    gone: HashSet<String>,
}

/// A local Management API. Dropping it stops the server.
pub struct FakeManagementApi {
    /// The endpoint to configure (`WEBSOCKET_ENDPOINT`), with a stage path like the real one.
    pub endpoint: String,
    recorded: Arc<Mutex<Recorded>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeManagementApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeManagementApi {
    /// Answers 410 Gone for the connections in `gone`, 200 for all others.
    pub async fn start(gone: &[&str]) -> Self {
        let recorded = Arc::new(Mutex::new(Recorded {
            posts: Vec::new(),
            gone: gone.iter().map(|id| (*id).to_owned()).collect(),
        }));
        let app = Router::new()
            .route("/test/@connections/{id}", post(post_to_connection))
            .with_state(recorded.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Management API to 127.0.0.1");
        let address = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self {
            endpoint: format!("http://{address}/test"),
            recorded,
            server,
        }
    }

    /// Every post received, in order (including those answered 410).
    pub fn posts(&self) -> Vec<Post> {
        self.recorded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .posts
            .clone()
    }
}

async fn post_to_connection(
    State(recorded): State<Arc<Mutex<Recorded>>>,
    Path(connection_id): Path<String>,
    body: Bytes,
) -> Response {
    let mut recorded = recorded.lock().unwrap_or_else(|e| e.into_inner());
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let gone = recorded.gone.contains(&connection_id);
    recorded.posts.push(Post {
        connection_id,
        body,
    });
    if gone {
        // As API Gateway answers: the error type in a header, a JSON message.
        (
            StatusCode::GONE,
            [
                ("x-amzn-errortype", "GoneException"),
                ("content-type", "application/json"),
            ],
            r#"{"message":null}"#,
        )
            .into_response()
    } else {
        StatusCode::OK.into_response()
    }
}
