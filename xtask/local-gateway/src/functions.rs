//! The functions, loaded once with `Deps::from_env` as each Lambda's `main` does, and called
//! in-process through the same `handle` the Lambda runtime calls.
//!
//! Only the ports AWS would wire differently are swapped: the worker invoker (Lambda async
//! invoke → [`InProcessWorker`]), the worker's media store (EventBridge "Object Created" →
//! [`NotifyingMedia`]) and the token verifiers (JWKS from the emulator). The worker's pusher
//! needs no swap: `WEBSOCKET_ENDPOINT` points it at this gateway's Management API.

use std::sync::Arc;

use aws_config::SdkConfig;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use mumble_core::config::{ConfigError, Env, vars};
use mumble_core::generation::{InvokeError, WorkerEvent, WorkerInvoker};
use mumble_core::jwt::JwtVerifier;
use serde_json::Value;

use crate::ports::{EventFunction, HttpFunction, HttpFunctions};
use crate::wiring::{InProcessWorker, NotifyingMedia, run_detached};

/// What the gateway calls, and what could not be loaded (with why).
pub struct Loaded {
    pub http: HttpFunctions,
    pub websocket: EventFunction,
    pub failed: Vec<(&'static str, String)>,
}

/// An HTTP function's `handle` with its deps, every call logged like a deployed function.
macro_rules! http_function {
    ($krate:ident, $deps:expr) => {{
        let deps = Arc::new($deps);
        let function: HttpFunction = Arc::new(move |request| {
            let deps = deps.clone();
            Box::pin(async move {
                mumble_core::runtime::instrumented(request, |request| {
                    $krate::handle(&deps, request)
                })
                .await
                .unwrap_or_else(|_| gateway_error())
            })
        });
        function
    }};
}

/// Builds every function's deps from the environment, as their cold starts would. A function
/// whose cold start fails still gets its routes: they answer 503 saying why, as a broken
/// function would in the cloud, and the rest of the app keeps working.
pub async fn load(sdk: &SdkConfig, verifier: Arc<JwtVerifier>) -> Loaded {
    let mut failed = Vec::new();
    let invoker: Arc<dyn WorkerInvoker> = match worker_with_notifications(sdk).await {
        Ok(worker) => Arc::new(InProcessWorker {
            worker: Arc::new(worker),
        }),
        Err(err) => {
            let reason = local_reason(&err);
            failed.push(("worker", reason.clone()));
            Arc::new(BrokenWorker(reason))
        }
    };
    let generate = generate::Deps::from_env(sdk).await.map(|mut deps| {
        deps.invoker = invoker.clone();
        http_function!(generate, deps)
    });
    let mut http = HttpFunctions::new();
    let mut add = |name: &'static str, loaded: Result<HttpFunction, ConfigError>| {
        let function = loaded.unwrap_or_else(|err| {
            let reason = local_reason(&err);
            failed.push((name, reason.clone()));
            cold_start_failed(name, reason)
        });
        http.insert(name.to_owned(), function);
    };
    add(
        "health",
        health::Deps::from_env().map(|deps| http_function!(health, deps)),
    );
    add(
        "audio-upload",
        audio_upload::Deps::from_env(sdk)
            .await
            .map(|deps| http_function!(audio_upload, deps)),
    );
    add(
        "weather",
        weather::Deps::from_env(sdk)
            .await
            .map(|deps| http_function!(weather, deps)),
    );
    add(
        "gallery",
        gallery::Deps::from_env(sdk)
            .await
            .map(|deps| http_function!(gallery, deps)),
    );
    add(
        "profile",
        profile::Deps::from_env(sdk)
            .await
            .map(|deps| http_function!(profile, deps)),
    );
    add(
        "jobs",
        jobs::Deps::from_env(sdk)
            .await
            .map(|deps| http_function!(jobs, deps)),
    );
    add("generate", generate);

    let websocket = match websocket::Deps::from_env(sdk).await {
        Ok(mut deps) => {
            deps.invoker = invoker;
            deps.verifier = verifier;
            websocket_function(deps)
        }
        Err(err) => {
            failed.push(("websocket", err.to_string()));
            let reason = err.to_string();
            Arc::new(
                move |_event| -> crate::ports::BoxFuture<Result<Value, String>> {
                    let reason = reason.clone();
                    Box::pin(async move {
                        Err(format!("the websocket function did not start: {reason}"))
                    })
                },
            )
        }
    };
    Loaded {
        http,
        websocket,
        failed,
    }
}

/// Why a cold start failed, in terms of what to do locally: a provider key's parameter is
/// missing when its key was not in the environment of `cargo xtask dev`.
fn local_reason(err: &ConfigError) -> String {
    match err {
        ConfigError::Missing { name } if name == vars::OPENWEATHER_API_KEY_PARAM => {
            "no OPENWEATHER_API_KEY in the environment of `cargo xtask dev`; set it and restart"
                .to_owned()
        }
        ConfigError::Missing { name } if name == vars::OPENAI_API_KEY_PARAM => {
            "no OPENAI_API_KEY in the environment of `cargo xtask dev`; set it and restart"
                .to_owned()
        }
        other => other.to_string(),
    }
}

/// The worker, whose stored images raise the image processor's notification.
async fn worker_with_notifications(sdk: &SdkConfig) -> Result<worker::Deps, ConfigError> {
    let mut worker = worker::Deps::from_env(sdk).await?;
    let processor = image_processor::Deps::from_env(sdk).await?;
    worker.media = Arc::new(NotifyingMedia {
        inner: worker.media.clone(),
        bucket: Env::require(vars::MEDIA_BUCKET)?,
        processor: Arc::new(processor),
    });
    Ok(worker)
}

fn websocket_function(deps: websocket::Deps) -> EventFunction {
    let deps = Arc::new(deps);
    Arc::new(move |event: Value| {
        let deps = deps.clone();
        Box::pin(async move {
            let event: aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest =
                serde_json::from_value(event)
                    .map_err(|e| format!("the event does not fit the function: {e}"))?;
            let run = run_detached(move || {
                Box::pin(async move { websocket::handle(&deps, event).await })
            });
            let response = run
                .await
                .map_err(|e| format!("the websocket function panicked: {e}"))?;
            serde_json::to_value(response).map_err(|e| e.to_string())
        })
    })
}

/// Invoking a worker that could not start fails the generation with the reason.
struct BrokenWorker(String);

#[async_trait::async_trait]
impl WorkerInvoker for BrokenWorker {
    async fn start(&self, _event: &WorkerEvent) -> Result<(), InvokeError> {
        Err(InvokeError(format!("the worker did not start: {}", self.0)))
    }
}

fn cold_start_failed(name: &'static str, reason: String) -> HttpFunction {
    Arc::new(move |_request| {
        let body = serde_json::json!({
            "error": {
                "code": "unavailable",
                "message": format!("the {name} function did not start locally: {reason}"),
            }
        });
        Box::pin(async move {
            let mut response = Response::new(Body::from(body.to_string()));
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response.headers_mut().insert(
                "content-type",
                "application/json".parse().expect("a valid header"),
            );
            response
        })
    })
}

/// The answer when an integration fails: API Gateway's message, in Mumble's error shape too.
fn gateway_error() -> Response<Body> {
    let mut response = Response::new(Body::from(
        r#"{"message":"Internal Server Error","error":{"code":"internal","message":"Internal Server Error"}}"#,
    ));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        "content-type",
        "application/json".parse().expect("a valid header"),
    );
    response
}
