//! A counting proxy in front of the emulator: every AWS request a command makes passes through
//! it and is logged (method, path, API action), so a benchmark can say how many requests, writes
//! and change sets a deploy cost. It runs on its own thread and runtime, because the benchmarks
//! wait for the command they measure with a blocking call.

use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;

/// One request the proxy forwarded.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: Method,
    /// The path, without the query: `/{bucket}/{key}` for S3 (path-style), `/` for query APIs.
    pub path: String,
    /// The API action: `Action=` of a query API (CloudFormation, STS), else `METHOD /path`.
    pub action: String,
}

impl Logged {
    /// A request that changes nothing: any GET or HEAD, and the query APIs' Describe, List, Get.
    pub fn is_read(&self) -> bool {
        self.method == Method::GET
            || self.method == Method::HEAD
            || ["Describe", "List", "Get", "Validate", "Estimate"]
                .iter()
                .any(|prefix| self.action.starts_with(prefix))
    }
}

#[derive(Clone)]
struct Forward {
    client: reqwest::Client,
    upstream: String,
    log: Arc<Mutex<Vec<Logged>>>,
}

/// The proxy: `endpoint_url()` goes in the command's `AWS_ENDPOINT_URL`.
pub struct Proxy {
    port: u16,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl Proxy {
    pub fn start(upstream: String) -> Result<Proxy> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = Forward {
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .context("cannot build the proxy's HTTP client")?,
            upstream,
            log: log.clone(),
        };
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the proxy");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("the proxy's listener");
                let app = axum::Router::new().fallback(forward).with_state(state);
                axum::serve(listener, app).await.ok();
            });
        });
        Ok(Proxy { port, log })
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything logged so far, and a fresh log.
    pub fn take(&self) -> Vec<Logged> {
        std::mem::take(&mut self.log.lock().expect("the proxy log"))
    }
}

async fn forward(State(state): State<Forward>, request: Request) -> Response {
    match forward_one(&state, request).await {
        Ok(response) => response,
        Err(error) => Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::from(format!("{error:#}")))
            .expect("a plain response"),
    }
}

async fn forward_one(state: &Forward, request: Request) -> Result<Response> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await?;
    let path = parts.uri.path().to_owned();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .and_then(|target| target.rsplit('.').next())
        .map(str::to_owned);
    let form_action = form_urlencoded_action(&body)
        .or_else(|| form_urlencoded_action(parts.uri.query().unwrap_or_default().as_bytes()));
    let action = target
        .or(form_action)
        .unwrap_or_else(|| format!("{} {path}", parts.method));
    state.log.lock().expect("the proxy log").push(Logged {
        method: parts.method.clone(),
        path,
        action,
    });
    let url = format!(
        "{}{}",
        state.upstream,
        parts.uri.path_and_query().map_or("/", |path| path.as_str())
    );
    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "transfer-encoding" | "connection"
        ) {
            headers.append(name.clone(), value.clone());
        }
    }
    let upstream = state
        .client
        .request(parts.method, url)
        .headers(headers)
        .body(body)
        .send()
        .await?;
    let mut response = Response::builder().status(upstream.status());
    for (name, value) in upstream.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            response = response.header(name, value);
        }
    }
    Ok(response.body(Body::from(upstream.bytes().await?))?)
}

/// `Action=...` of a form-encoded body or query string.
fn form_urlencoded_action(text: &[u8]) -> Option<String> {
    std::str::from_utf8(text)
        .ok()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_owned)
}
