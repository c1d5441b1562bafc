//! A scripted stand-in for the OpenAI API on 127.0.0.1, for tests of the pipeline: it answers
//! with OpenAI's response and error shapes (success, content-policy refusal, rejected audio,
//! 429 with `Retry-After`, 500, a hang) and records what it was sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 `{"text": ...}` for a transcription.
    Transcript(String),
    /// 200 `{"data":[{"b64_json": ...}]}` with this PNG.
    Image(Vec<u8>),
    /// 400 `content_policy_violation`, as DALL-E refuses a prompt.
    ContentPolicy,
    /// 400 `invalid_request_error`, as Whisper rejects a file it cannot decode.
    BadAudio,
    /// 429 with `Retry-After: {0}` seconds.
    RateLimited(u64),
    /// 500 with OpenAI's server-error body.
    ServerError,
    /// Waits this long before answering 500 (longer than the client's timeout, to test it).
    Hang(Duration),
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct Script {
    transcriptions: VecDeque<Reply>,
    images: VecDeque<Reply>,
    received: Vec<Recorded>,
}

/// The running fake. Dropping it stops the server.
pub struct FakeOpenAi {
    /// The base URL to configure (`OPENAI_BASE_URL`), ending in `/v1`.
    pub base_url: String,
    script: Arc<Mutex<Script>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeOpenAi {
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new()
            .route("/v1/audio/transcriptions", post(transcriptions))
            .route("/v1/images/generations", post(images))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake OpenAI server to 127.0.0.1");
        let address = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self {
            base_url: format!("http://{address}/v1"),
            script,
            server,
        }
    }

    /// Answers for the next transcription calls, in order; when they run out, a 500.
    pub fn transcriptions(&self, replies: impl IntoIterator<Item = Reply>) -> &Self {
        self.lock().transcriptions.extend(replies);
        self
    }

    /// Answers for the next image calls, in order; when they run out, a 500.
    pub fn images(&self, replies: impl IntoIterator<Item = Reply>) -> &Self {
        self.lock().images.extend(replies);
        self
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Recorded> {
        self.lock().received.clone()
    }

    /// Requests received at a path ending in `suffix` (e.g. `images/generations`).
    pub fn received_at(&self, suffix: &str) -> Vec<Recorded> {
        self.received()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A small valid PNG to answer image requests with.
pub fn sample_png(side: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(side, side, |x, y| {
        image::Rgb([(x * 255 / side) as u8, (y * 255 / side) as u8, 160])
    });
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode a PNG in memory");
    png
}

type Shared = State<Arc<Mutex<Script>>>;

async fn transcriptions(State(script): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let reply = record(&script, "/v1/audio/transcriptions", &headers, body, |s| {
        s.transcriptions.pop_front()
    });
    answer(reply).await
}

async fn images(State(script): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let reply = record(&script, "/v1/images/generations", &headers, body, |s| {
        s.images.pop_front()
    });
    answer(reply).await
}

fn record(
    script: &Mutex<Script>,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
    next: impl FnOnce(&mut Script) -> Option<Reply>,
) -> Reply {
    let mut script = script.lock().unwrap_or_else(|e| e.into_inner());
    script.received.push(Recorded {
        path: path.to_owned(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: body.to_vec(),
    });
    next(&mut script).unwrap_or(Reply::ServerError)
}

async fn answer(reply: Reply) -> Response {
    let json = |status: StatusCode, body: serde_json::Value| {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    };
    let error = |status: StatusCode, message: &str, kind: &str, code: Option<&str>| {
        json(
            status,
            serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
        )
    };
    match reply {
        Reply::Transcript(text) => json(StatusCode::OK, serde_json::json!({ "text": text })),
        Reply::Image(png) => json(
            StatusCode::OK,
            serde_json::json!({
                "created": 1_764_000_000,
                "data": [{
                    "b64_json": base64::engine::general_purpose::STANDARD.encode(png),
                    "revised_prompt": "a revised prompt",
                }],
            }),
        ),
        Reply::ContentPolicy => error(
            StatusCode::BAD_REQUEST,
            "Your request was rejected as a result of our safety system.",
            "invalid_request_error",
            Some("content_policy_violation"),
        ),
        Reply::BadAudio => error(
            StatusCode::BAD_REQUEST,
            "Invalid file format. Supported formats: ['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm']",
            "invalid_request_error",
            None,
        ),
        Reply::RateLimited(seconds) => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests",
                "requests",
                Some("rate_limit_exceeded"),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                seconds
                    .to_string()
                    .parse()
                    .expect("digits are a header value"),
            );
            response
        }
        Reply::ServerError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
        ),
        Reply::Hang(delay) => {
            tokio::time::sleep(delay).await;
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "too late",
                "server_error",
                None,
            )
        }
    }
}
