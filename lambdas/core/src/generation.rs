//! Starting a generation: the request body shared by `POST /api/v1/generate` and the WebSocket
//! route `generateImage`, its checks, the job record, and the asynchronous start of the worker.
//!
//! The worker is started with a Lambda asynchronous invoke (`InvocationType::Event`) rather than
//! through an SQS queue: the event is two ids, Lambda's async invoke already gives bounded retries
//! (`MaximumRetryAttempts`), a maximum event age and an on-failure destination (an SQS dead-letter
//! queue in the app stack), and it needs no queue, poller or batch handling in the worker. The
//! worker's 300 s timeout covers the slowest path (transcription and image budgets of 100 s and
//! 150 s in [`crate::pipeline::openai::StepLimits`], plus weather and storage).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::store::jobs::{Created, Job, JobStatus, JobStore, NewJob, Progress, StartLimits};
use crate::store::{Coordinates, MediaStore, StoreError, media::keys};

/// The language hint when a request gives none, as in the original app.
pub const DEFAULT_LANGUAGE: &str = "zh";
/// The longest `Idempotency-Key` accepted.
pub use mumble_contract::api::IDEMPOTENCY_KEY_MAX_CHARS as MAX_IDEMPOTENCY_KEY_CHARS;
/// The body of a generation request, and the answer: `202 {"jobId", "status"}`.
pub use mumble_contract::api::{GenerateRequest, JobAccepted as Accepted};

/// What the worker is invoked with: `{"jobId":"…","userId":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerEvent {
    pub job_id: String,
    pub user_id: String,
}

#[derive(Debug, thiserror::Error)]
#[error("could not start the worker: {0}")]
pub struct InvokeError(pub String);

/// Starts the worker for a job without waiting for it.
#[async_trait]
pub trait WorkerInvoker: Send + Sync {
    async fn start(&self, event: &WorkerEvent) -> Result<(), InvokeError>;
}

/// [`WorkerInvoker`] by Lambda asynchronous invoke of `WORKER_FUNCTION`.
pub struct LambdaInvoker {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaInvoker {
    pub fn new(client: aws_sdk_lambda::Client, function: impl Into<String>) -> Self {
        Self {
            client,
            function: function.into(),
        }
    }

    /// Invokes `WORKER_FUNCTION` with a client built from `sdk`.
    pub fn from_env(sdk: &aws_config::SdkConfig) -> Result<Self, crate::ConfigError> {
        let function = crate::Env::require(crate::config::vars::WORKER_FUNCTION)?;
        Ok(Self::new(aws_sdk_lambda::Client::new(sdk), function))
    }
}

#[async_trait]
impl WorkerInvoker for LambdaInvoker {
    async fn start(&self, event: &WorkerEvent) -> Result<(), InvokeError> {
        let payload = serde_json::to_vec(event).map_err(|e| InvokeError(e.to_string()))?;
        self.client
            .invoke()
            .function_name(&self.function)
            .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
            .payload(aws_sdk_lambda::primitives::Blob::new(payload))
            .send()
            .await
            .map_err(|e| InvokeError(aws_sdk_lambda::error::DisplayErrorContext(&e).to_string()))?;
        Ok(())
    }
}

/// `MAX_GENERATIONS_PER_USER_PER_DAY` (the stacks always set it); `None` when unset.
pub fn daily_quota_from_env() -> Result<Option<u32>, crate::ConfigError> {
    let name = crate::config::vars::MAX_GENERATIONS_PER_USER_PER_DAY;
    match crate::Env::optional(name) {
        None => Ok(None),
        Some(_) => crate::Env::parse(name).map(Some),
    }
}

/// Checks a request, records the job and starts the worker.
#[derive(Clone)]
pub struct JobStarter {
    pub jobs: Arc<dyn JobStore>,
    pub media: Arc<dyn MediaStore>,
    pub invoker: Arc<dyn WorkerInvoker>,
    /// `MAX_AUDIO_BYTES`.
    pub max_audio_bytes: u64,
    /// `MAX_GENERATIONS_PER_USER_PER_DAY`; `None` counts nothing (the local gateway).
    pub max_per_user_per_day: Option<u32>,
}

impl JobStarter {
    /// Starts a job for `user_id`, or with an `idempotency_key` used within 24 h, answers with
    /// that key's job and starts nothing.
    pub async fn start(
        &self,
        user_id: &str,
        request: GenerateRequest,
        idempotency_key: Option<&str>,
    ) -> Result<Accepted, ApiError> {
        let idempotency_key = idempotency_key.map(check_idempotency_key).transpose()?;
        let new_job = self.check(user_id, request).await?;
        let job = new_job.into_job(chrono::Utc::now());

        let limits = StartLimits {
            one_per_recording: true,
            per_user_per_day: self.max_per_user_per_day,
        };
        let job = match self
            .jobs
            .create_limited(&job, idempotency_key, limits)
            .await
        {
            Ok(Created::Existing(existing)) => {
                tracing::info!(job_id = %existing.job_id, "idempotency key reused; no new job");
                return Ok(accepted(&existing));
            }
            Ok(Created::New(job)) => job,
            Ok(Created::RecordingUsed { job_id }) => {
                return Err(ApiError::RecordingUsed(format!(
                    "this recording has already been made into a picture (job {job_id}); record \
                     a new one to make another"
                )));
            }
            Ok(Created::QuotaReached { retry_after }) => {
                let quota = self.max_per_user_per_day.unwrap_or_default();
                return Err(ApiError::QuotaExceeded {
                    message: format!(
                        "you have made today's {quota} pictures; you can make more after \
                         midnight UTC"
                    ),
                    retry_after,
                });
            }
            Err(StoreError::AlreadyExists(_)) => {
                return Err(ApiError::Conflict(
                    "a request with this Idempotency-Key is still being accepted; retry in a moment"
                        .to_owned(),
                ));
            }
            Err(e) => return Err(e.into()),
        };

        let event = WorkerEvent {
            job_id: job.job_id.clone(),
            user_id: job.user_id.clone(),
        };
        if let Err(e) = self.invoker.start(&event).await {
            tracing::error!(error = %e, job_id = %job.job_id, "worker did not start");
            let reason = "the image could not be started; please try again".to_owned();
            let failed = Progress {
                error: Some(reason),
                ..Progress::default()
            };
            if let Err(store) = self
                .jobs
                .advance(&job.job_id, JobStatus::Failed, failed)
                .await
            {
                tracing::error!(error = %store, job_id = %job.job_id, "could not mark the job failed");
            }
            if let Err(store) = self.jobs.release_recording(&job).await {
                tracing::error!(error = %store, job_id = %job.job_id, "could not release the recording");
            }
            return Err(ApiError::unavailable(e));
        }
        tracing::info!(job_id = %job.job_id, user = %crate::identity::user_ref(user_id), "job queued");
        Ok(accepted(&job))
    }

    async fn check(&self, user_id: &str, request: GenerateRequest) -> Result<NewJob, ApiError> {
        let audio_key = request.audio_key.trim().to_owned();
        if audio_key.is_empty() {
            return Err(ApiError::invalid(
                "audioKey",
                "give the audioKey returned by POST /api/v1/audio/upload-url",
            ));
        }
        if !audio_key.starts_with("audio/") || audio_key.contains("..") {
            return Err(ApiError::invalid(
                "audioKey",
                "must be an audio key returned by POST /api/v1/audio/upload-url",
            ));
        }
        let not_found = || {
            ApiError::NotFound(
                "no uploaded recording has this audioKey; upload it with the URL from POST /api/v1/audio/upload-url first"
                    .to_owned(),
            )
        };
        // Another user's key is answered like a missing one, so keys reveal nothing.
        if !audio_key.starts_with(&keys::audio_prefix(user_id)) {
            return Err(not_found());
        }
        let info = self.media.head(&audio_key).await?.ok_or_else(not_found)?;
        if info.size == 0 {
            return Err(ApiError::invalid(
                "audioKey",
                "the uploaded recording is empty; record again",
            ));
        }
        if info.size > self.max_audio_bytes {
            return Err(ApiError::PayloadTooLarge(format!(
                "the recording is {} bytes; the limit is {} bytes",
                info.size, self.max_audio_bytes
            )));
        }

        // The ranges, lengths and pairing were checked with the body (`api::GenerateRequest`).
        let location = match (request.latitude, request.longitude) {
            (Some(latitude), Some(longitude)) => Some(Coordinates {
                latitude,
                longitude,
            }),
            _ => None,
        };

        let language = match request.language.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_LANGUAGE.to_owned(),
            Some(tag) => {
                // Whisper takes ISO-639-1; accept a browser tag such as `zh-CN` by its language.
                let primary = tag
                    .split(['-', '_'])
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if primary.len() != 2 || !primary.bytes().all(|b| b.is_ascii_lowercase()) {
                    return Err(ApiError::invalid(
                        "language",
                        "must be an ISO-639-1 code such as zh or en",
                    ));
                }
                primary
            }
        };

        let style = request
            .style
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        let transcript = request
            .transcript
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());

        Ok(NewJob {
            job_id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.to_owned(),
            audio_key,
            language,
            style,
            location,
            supplied_transcript: transcript,
        })
    }
}

fn accepted(job: &Job) -> Accepted {
    Accepted {
        job_id: job.job_id.clone(),
        status: job.status,
    }
}

/// A usable `Idempotency-Key`: 1–128 visible ASCII characters.
fn check_idempotency_key(key: &str) -> Result<&str, ApiError> {
    let key = key.trim();
    let valid = !key.is_empty()
        && key.len() <= MAX_IDEMPOTENCY_KEY_CHARS
        && key.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(key)
    } else {
        Err(ApiError::invalid(
            "Idempotency-Key",
            format!(
                "must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters, e.g. a UUID"
            ),
        ))
    }
}
