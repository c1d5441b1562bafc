//! `POST /api/v1/generate`: checks the request, records a `queued` job and starts the worker,
//! answering `202 {"jobId"}` at once (the HTTP API's 29 s limit rules out generating inline).
//!
//! The worker is started by Lambda asynchronous invoke, not an SQS queue; the reasons are in
//! [`mumble_core::generation`]. A client-supplied `Idempotency-Key` makes retries safe: the same
//! key from the same user within 24 h answers with the first job and starts nothing.

use std::sync::Arc;

use aws_config::SdkConfig;
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use mumble_core::config::{defaults, vars};
use mumble_core::generation::{GenerateRequest, JobStarter, LambdaInvoker, WorkerInvoker};
use mumble_core::store::jobs::{DynamoJobs, JobStore};
use mumble_core::store::{MediaStore, S3Media};
use mumble_core::{ApiError, Caller, ConfigError, Env, aws, request, respond, response};

/// The header carrying the client's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

pub struct Deps {
    pub jobs: Arc<dyn JobStore>,
    pub media: Arc<dyn MediaStore>,
    /// Starts the worker; the local gateway runs it in process instead.
    pub invoker: Arc<dyn WorkerInvoker>,
    /// `MAX_AUDIO_BYTES`.
    pub max_audio_bytes: u64,
    /// `MAX_GENERATIONS_PER_USER_PER_DAY`; unset counts nothing.
    pub max_per_user_per_day: Option<u32>,
}

impl Deps {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            jobs: Arc::new(DynamoJobs::new(
                aws::dynamodb_client(sdk),
                Env::require(vars::JOBS_TABLE)?,
            )),
            media: Arc::new(S3Media::new(
                aws::s3_client(sdk),
                Env::require(vars::MEDIA_BUCKET)?,
            )),
            invoker: Arc::new(LambdaInvoker::from_env(sdk)?),
            max_audio_bytes: Env::parse_or(vars::MAX_AUDIO_BYTES, defaults::MAX_AUDIO_BYTES)?,
            max_per_user_per_day: mumble_core::generation::daily_quota_from_env()?,
        })
    }

    /// The starter shared with the WebSocket route `generateImage`.
    pub fn starter(&self) -> JobStarter {
        JobStarter {
            jobs: self.jobs.clone(),
            media: self.media.clone(),
            invoker: self.invoker.clone(),
            max_audio_bytes: self.max_audio_bytes,
            max_per_user_per_day: self.max_per_user_per_day,
        }
    }
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    respond(generate(deps, &req).await)
}

async fn generate(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    if req.method() != Method::POST {
        return Err(ApiError::no_route(req));
    }
    let caller = Caller::from_request(req)?;
    let body: GenerateRequest = request::json_body(req)?;
    let idempotency_key = request::header(req, IDEMPOTENCY_HEADER);
    let accepted = deps
        .starter()
        .start(&caller.user_id, body, idempotency_key)
        .await?;
    Ok(response::accepted(&accepted))
}
