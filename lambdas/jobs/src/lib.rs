//! `GET /api/v1/jobs/{id}`: a generation job's state, for polling when no WebSocket is open.
//! Only the owner sees a job; anyone else gets the same 404 as for a job that does not exist.

use std::sync::Arc;

use aws_config::SdkConfig;
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use mumble_core::config::vars;
use mumble_core::store::jobs::{DynamoJobs, Job, JobStore};
use mumble_core::{ApiError, Caller, ConfigError, Env, aws, request, respond, response};

pub struct Deps {
    pub jobs: Arc<dyn JobStore>,
}

impl Deps {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            jobs: Arc::new(DynamoJobs::new(
                aws::dynamodb_client(sdk),
                Env::require(vars::JOBS_TABLE)?,
            )),
        })
    }
}

/// What the owner sees of a job: the API's type.
pub use mumble_contract::api::Job as JobView;

/// The stored job as the API shows it.
pub fn view(job: Job) -> JobView {
    JobView {
        job_id: job.job_id,
        status: job.status,
        image_id: job.image_id,
        transcript: job.transcript,
        weather: job.weather,
        prompt: job.prompt,
        error: job.error,
        created_at: job.created_at,
        updated_at: job.updated_at,
    }
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    respond(job(deps, &req).await)
}

async fn job(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    if req.method() != Method::GET {
        return Err(ApiError::no_route(req));
    }
    let caller = Caller::from_request(req)?;
    let job_id = request::path_param(req, "id")?;
    let not_found = || ApiError::NotFound(format!("no job {}", mumble_core::error::echo(&job_id)));
    if job_id.len() > 64 {
        return Err(not_found());
    }
    let job = deps
        .jobs
        .get_owned(&caller.user_id, &job_id)
        .await?
        .ok_or_else(not_found)?;
    Ok(response::ok(&view(job)))
}
