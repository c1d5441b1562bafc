//! Starting a generation: the request body shared by `POST /api/v1/generate` and the WebSocket
//! route `generateImage`, its checks, the job record, and the asynchronous start of the worker.
//!
//! The worker is started with a Lambda asynchronous invoke (`InvocationType::Event`) rather than
//! through an SQS queue: the event is two ids, Lambda's async invoke already gives bounded retries
//! (`MaximumRetryAttempts`), a maximum event age and an on-failure destination (an SQS dead-letter
//! queue in the app stack), and it needs no queue, poller or batch handling in the worker. The
//! worker's 300 s timeout covers the slowest path (transcription and image budgets of 100 s and
//! 150 s in [`crate::openai::StepLimits`], plus weather and storage).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::jobs::{Created, Job, JobStatus, JobStore, NewJob, Progress};
use crate::store::{Coordinates, MediaStore, StoreError, media::keys};

/// The language hint when a request gives none, as in the original app.
pub const DEFAULT_LANGUAGE: &str = "zh";
/// The longest `style` accepted.
pub const MAX_STYLE_CHARS: usize = 200;
/// The longest `transcript` accepted (offline provider).
pub const MAX_TRANSCRIPT_CHARS: usize = 4000;
/// The longest `Idempotency-Key` accepted.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 128;

/// The body of a generation request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    pub audio_key: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub language: Option<String>,
    pub style: Option<String>,
    /// The words of the recording, for stages running the offline provider.
    pub transcript: Option<String>,
}

/// The answer: `202 {"jobId": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub job_id: String,
    pub status: JobStatus,
}

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

/// Checks a request, records the job and starts the worker.
#[derive(Clone)]
pub struct JobStarter {
    pub jobs: Arc<dyn JobStore>,
    pub media: Arc<dyn MediaStore>,
    pub invoker: Arc<dyn WorkerInvoker>,
    /// `MAX_AUDIO_BYTES`.
    pub max_audio_bytes: u64,
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

        let job = match self.jobs.create(&job, idempotency_key).await {
            Ok(Created::Existing(existing)) => {
                tracing::info!(job_id = %existing.job_id, "idempotency key reused; no new job");
                return Ok(accepted(&existing));
            }
            Ok(Created::New(job)) => job,
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

        let location = match (request.latitude, request.longitude) {
            (None, None) => None,
            (Some(latitude), Some(longitude)) => {
                if !latitude.is_finite() || !(-90.0..=90.0).contains(&latitude) {
                    return Err(ApiError::invalid("latitude", "must be between -90 and 90"));
                }
                if !longitude.is_finite() || !(-180.0..=180.0).contains(&longitude) {
                    return Err(ApiError::invalid(
                        "longitude",
                        "must be between -180 and 180",
                    ));
                }
                Some(Coordinates {
                    latitude,
                    longitude,
                })
            }
            (Some(_), None) => {
                return Err(ApiError::invalid(
                    "longitude",
                    "give both latitude and longitude, or neither",
                ));
            }
            (None, Some(_)) => {
                return Err(ApiError::invalid(
                    "latitude",
                    "give both latitude and longitude, or neither",
                ));
            }
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
        if style
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_STYLE_CHARS)
        {
            return Err(ApiError::invalid(
                "style",
                format!("must be at most {MAX_STYLE_CHARS} characters"),
            ));
        }
        let transcript = request
            .transcript
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if transcript
            .as_ref()
            .is_some_and(|s| s.chars().count() > MAX_TRANSCRIPT_CHARS)
        {
            return Err(ApiError::invalid(
                "transcript",
                format!("must be at most {MAX_TRANSCRIPT_CHARS} characters"),
            ));
        }

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
