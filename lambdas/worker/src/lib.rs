//! The generation worker: one job from recording to image.
//!
//! `transcribing` (Whisper) → `weather` (only when the request had coordinates) → `prompting` →
//! `generating` (DALL-E 3) → `storing` (image record, then the PNG under
//! `images/{userId}/{imageId}.png`, whose upload triggers the thumbnail) → `done`. Every state
//! change is written to the job and pushed to the user's open WebSocket connections.
//!
//! # Invocation, retries and failure
//! `generate` and `websocket` start the worker with a Lambda asynchronous invoke (why not SQS:
//! see [`mumble_core::generation`]). The app stack sets the async invoke config: bounded retries,
//! a maximum event age, and an SQS dead-letter destination on failure; the function timeout is
//! 300 s, above the sum of the per-step budgets ([`mumble_core::pipeline::openai::StepLimits`]).
//!
//! - What the user can act on (a refused prompt, unusable audio, an upstream outage or timeout
//!   after retries) ends the job as `failed` with a sentence for the user; the technical detail
//!   goes to the log. The invocation then succeeds, so Lambda does not retry it.
//! - When our own storage fails (DynamoDB, S3), the invocation fails and Lambda retries it; a
//!   retry starts the job over and overwrites what the previous attempt stored (the image id is
//!   the job id). When the retries are spent the event goes to the dead-letter queue, and the
//!   hourly cleanup fails the job once it has been stuck for `JOB_TIMEOUT_SECONDS`.
//! - Weather is decoration: when it cannot be had, the picture is made without it.
//! - A job that is already finished (done, failed, or failed by the cleanup) is left alone.
//! - Before any paid call, a job takes its calls from the stage's daily budget
//!   (`MAX_PROVIDER_CALLS_PER_DAY`); once that is spent, jobs fail at once with a reason and a
//!   `provider_cap_reached` log line, which the app stack turns into an alarm.

use std::sync::Arc;

use aws_config::SdkConfig;
use chrono::Utc;
use mumble_core::config::{defaults, vars};
use mumble_core::generation::WorkerEvent;
use mumble_core::http::{Timeouts, client};
use mumble_core::pipeline::offline::{RenderedImage, SuppliedTranscript};
use mumble_core::pipeline::openai::OpenAi;
use mumble_core::pipeline::prompt::{Scene, TimeOfDay, WeatherContext, build_prompt};
use mumble_core::pipeline::providers::{
    AudioClip, ImageGenerator, ProviderError, ProviderKind, Transcriber, TranscriptionRequest,
};
use mumble_core::pipeline::push::{ConnectionPusher, JobMessage, ManagementApi, NoPush, Pusher};
use mumble_core::secrets::{self, SsmSecrets};
use mumble_core::store::connections::DynamoConnections;
use mumble_core::store::jobs::{DynamoJobs, Job, JobStatus, JobStore, Progress};
use mumble_core::store::media::keys;
use mumble_core::store::quota::Unlimited;
use mumble_core::store::{
    DynamoImages, DynamoProviderBudget, ImageRecord, ImageStore, MediaStore, ProviderBudget,
    S3Media, StoreError,
};
use mumble_core::weather::{
    DEFAULT_LANGUAGE, OpenWeather, Weather, WeatherError, WeatherProvider, openweather_code,
};
use mumble_core::{ConfigError, Env, aws};
use serde::Serialize;
use tracing::Instrument;

pub struct Deps {
    pub jobs: Arc<dyn JobStore>,
    pub images: Arc<dyn ImageStore>,
    pub media: Arc<dyn MediaStore>,
    pub transcriber: Arc<dyn Transcriber>,
    pub image_generator: Arc<dyn ImageGenerator>,
    pub weather: Arc<dyn WeatherProvider>,
    /// Job updates to the user's WebSocket connections; the local gateway routes them to itself.
    pub pusher: Arc<dyn Pusher>,
    /// The stage's daily cap on paid provider calls.
    pub budget: Arc<dyn ProviderBudget>,
}

/// Paid provider calls one job makes: a transcription and an image.
pub const PROVIDER_CALLS_PER_JOB: u32 = 2;
/// The `event` field of the log line the app stack's metric filter counts; keep in step with
/// the stack's `PROVIDER_CAP_EVENT`.
pub const PROVIDER_CAP_EVENT: &str = "provider_cap_reached";
/// What the user is told when the stage's budget for the day is spent.
pub const PROVIDER_CAP_REASON: &str =
    "Mumble has made as many pictures today as it can afford; please try again tomorrow";

impl Deps {
    /// OpenAI unless `MUMBLE_PROVIDERS=offline`; the OpenAI and OpenWeather keys come from SSM.
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let dynamodb = aws::dynamodb_client(sdk);
        let ssm = SsmSecrets::new(aws::ssm_client(sdk));
        let providers = ProviderKind::from_env()?;
        // Offline development may run without an OpenWeather key: pictures are then made
        // without weather. Deployed stages (openai) always have one.
        let has_weather = Env::optional(vars::OPENWEATHER_API_KEY_PARAM).is_some();
        if !has_weather && providers == ProviderKind::Openai {
            return Err(ConfigError::Missing {
                name: vars::OPENWEATHER_API_KEY_PARAM.to_owned(),
            });
        }
        let mut wanted = Vec::new();
        if providers == ProviderKind::Openai {
            wanted.push(vars::OPENAI_API_KEY_PARAM);
        }
        if has_weather {
            wanted.push(vars::OPENWEATHER_API_KEY_PARAM);
        }
        mumble_core::http::preload_roots();
        let mut keys = secrets::load_all(&ssm, &wanted).await?;
        let openai_key = keys.remove(vars::OPENAI_API_KEY_PARAM);
        let weather_key = keys.remove(vars::OPENWEATHER_API_KEY_PARAM);
        let (transcriber, image_generator): (Arc<dyn Transcriber>, Arc<dyn ImageGenerator>) =
            match openai_key {
                Some(key) => {
                    let base_url = Env::or(vars::OPENAI_BASE_URL, defaults::OPENAI_BASE_URL);
                    let openai = Arc::new(OpenAi::new(client(Timeouts::SLOW)?, &base_url, key));
                    (openai.clone(), openai)
                }
                None => (Arc::new(SuppliedTranscript), Arc::new(RenderedImage)),
            };
        let weather: Arc<dyn WeatherProvider> = match weather_key {
            Some(key) => Arc::new(OpenWeather::new(
                client(Timeouts::QUICK)?,
                &Env::or(vars::OPENWEATHER_BASE_URL, defaults::OPENWEATHER_BASE_URL),
                key,
            )),
            None => Arc::new(NoWeather),
        };
        let connections = Arc::new(DynamoConnections::new(
            dynamodb.clone(),
            Env::require(vars::CONNECTIONS_TABLE)?,
        ));
        let pusher: Arc<dyn Pusher> = match Env::optional(vars::WEBSOCKET_ENDPOINT) {
            Some(endpoint) => Arc::new(ConnectionPusher {
                connections,
                poster: Arc::new(ManagementApi::new(sdk, &endpoint)),
            }),
            None => Arc::new(NoPush),
        };
        let jobs_table = Env::require(vars::JOBS_TABLE)?;
        // Offline stand-ins cost nothing; a paid provider is always capped when the stack says.
        let budget: Arc<dyn ProviderBudget> = match Env::optional(vars::MAX_PROVIDER_CALLS_PER_DAY)
        {
            Some(_) if providers == ProviderKind::Openai => Arc::new(DynamoProviderBudget::new(
                dynamodb.clone(),
                &jobs_table,
                Env::parse(vars::MAX_PROVIDER_CALLS_PER_DAY)?,
            )),
            _ => Arc::new(Unlimited),
        };
        Ok(Self {
            jobs: Arc::new(DynamoJobs::new(dynamodb.clone(), jobs_table)),
            images: Arc::new(DynamoImages::new(
                dynamodb,
                Env::require(vars::IMAGES_TABLE)?,
            )),
            media: Arc::new(S3Media::new(
                aws::s3_client(sdk),
                Env::require(vars::MEDIA_BUCKET)?,
            )),
            transcriber,
            image_generator,
            weather,
            pusher,
            budget,
        })
    }
}

/// How an invocation ended (the Lambda result, for the logs and the tests).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum Outcome {
    Done {
        image_id: String,
    },
    Failed {
        reason: String,
    },
    /// Nothing to do: the job is missing, someone else's, or already finished.
    Skipped,
}

/// Our own storage failed; Lambda retries the invocation.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn handle(deps: &Deps, event: WorkerEvent) -> Result<Outcome, WorkerError> {
    // Every line logged for this job, by the pipeline or the adapters, carries its id.
    let span = mumble_core::telemetry::job_span(&event.job_id, &event.user_id);
    work(deps, event).instrument(span).await
}

async fn work(deps: &Deps, event: WorkerEvent) -> Result<Outcome, WorkerError> {
    let Some(job) = deps.jobs.get(&event.job_id).await? else {
        tracing::warn!("no such job; nothing to do");
        return Ok(Outcome::Skipped);
    };
    if job.user_id != event.user_id {
        tracing::warn!("the event names another user than the job; ignored");
        return Ok(Outcome::Skipped);
    }
    if job.status.is_finished() {
        tracing::info!(status = job.status.as_str(), "job already finished");
        return Ok(Outcome::Skipped);
    }

    let run = Run { deps, job: &job };
    match run.pipeline().await {
        Ok(image_id) => {
            tracing::info!(image_id, "job done");
            Ok(Outcome::Done { image_id })
        }
        Err(Stop::Abandoned) => {
            tracing::info!("job was finished elsewhere; stopped");
            Ok(Outcome::Skipped)
        }
        Err(Stop::Store(e)) => {
            tracing::error!(error = %e, "storage failed; the invocation will be retried");
            Err(e.into())
        }
        Err(Stop::Failed { reason, detail }) => {
            tracing::warn!(reason, detail, "job failed");
            let progress = Progress {
                error: Some(reason.clone()),
                ..Progress::default()
            };
            if let Some(failed) = deps
                .jobs
                .advance(&job.job_id, JobStatus::Failed, progress)
                .await?
            {
                deps.pusher
                    .push(&failed.user_id, &JobMessage::from(&failed))
                    .await;
            }
            Ok(Outcome::Failed { reason })
        }
    }
}

/// Why the pipeline stopped before `done`.
enum Stop {
    /// The user is told `reason`; `detail` is logged.
    Failed {
        reason: String,
        detail: String,
    },
    /// The job was finished by someone else (the cleanup); leave it.
    Abandoned,
    Store(StoreError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl Stop {
    fn failed(reason: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::Failed {
            reason: reason.into(),
            detail: detail.to_string(),
        }
    }

    fn provider(step: JobStatus, error: ProviderError) -> Self {
        let reason = match (step, &error) {
            (JobStatus::Generating, ProviderError::InvalidInput(_)) => {
                "the image service did not accept this description; try saying it differently"
                    .to_owned()
            }
            _ => error.user_reason(),
        };
        Self::failed(reason, format!("{}: {error}", step.as_str()))
    }
}

struct Run<'a> {
    deps: &'a Deps,
    job: &'a Job,
}

impl Run<'_> {
    /// Records the new state and pushes it to the user.
    async fn advance(&self, status: JobStatus, progress: Progress) -> Result<Job, Stop> {
        let job = self
            .deps
            .jobs
            .advance(&self.job.job_id, status, progress)
            .await?
            .ok_or(Stop::Abandoned)?;
        tracing::info!(status = status.as_str(), "job advanced");
        let report = self
            .deps
            .pusher
            .push(&job.user_id, &JobMessage::from(&job))
            .await;
        tracing::debug!(
            delivered = report.delivered,
            removed = report.removed,
            failed = report.failed,
            "pushed"
        );
        Ok(job)
    }

    async fn pipeline(&self) -> Result<String, Stop> {
        let job = self.job;
        if !self.deps.budget.take(PROVIDER_CALLS_PER_JOB).await? {
            tracing::error!(
                event = PROVIDER_CAP_EVENT,
                "the stage's daily cap on paid provider calls is reached; job failed unstarted"
            );
            return Err(Stop::failed(
                PROVIDER_CAP_REASON,
                "MAX_PROVIDER_CALLS_PER_DAY reached",
            ));
        }
        self.advance(JobStatus::Transcribing, Progress::default())
            .await?;
        let transcript = self.transcribe().await?;

        let mut weather = None;
        let mut pending_transcript = Some(transcript.clone());
        if let Some(location) = job.location {
            let progress = Progress {
                transcript: pending_transcript.take(),
                ..Progress::default()
            };
            self.advance(JobStatus::Weather, progress).await?;
            let lang =
                openweather_code(&job.language).unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned());
            match self
                .deps
                .weather
                .current(location.latitude, location.longitude, &lang)
                .await
            {
                Ok(found) => weather = Some(found),
                Err(e) => tracing::warn!(error = %e, "no weather; the picture is made without it"),
            }
        }

        let progress = Progress {
            transcript: pending_transcript.take(),
            weather: weather.clone(),
            ..Progress::default()
        };
        self.advance(JobStatus::Prompting, progress).await?;
        let prompt = prompt_for(&transcript, weather.as_ref(), job);

        self.advance(
            JobStatus::Generating,
            Progress {
                prompt: Some(prompt.clone()),
                ..Progress::default()
            },
        )
        .await?;
        let image = self
            .deps
            .image_generator
            .generate(&prompt)
            .await
            .map_err(|e| Stop::provider(JobStatus::Generating, e))?;

        self.advance(JobStatus::Storing, Progress::default())
            .await?;
        // One job makes one image, so the image takes the job's id (and time): a retried
        // invocation overwrites the record and object instead of adding a second image.
        let image_id = job.job_id.clone();
        let image_key = keys::image(&job.user_id, &image_id);
        let record = ImageRecord {
            image_id: image_id.clone(),
            created_at: job.created_at.clone(),
            user_id: job.user_id.clone(),
            image_key: image_key.clone(),
            thumbnail_key: None,
            transcript,
            prompt,
            weather,
            location: job.location,
            job_id: Some(job.job_id.clone()),
            width: None,
            height: None,
            bytes: None,
            dominant_color: None,
            offline: image.provider == ProviderKind::Offline,
            unavailable: false,
        };
        // The record first: the PNG's upload triggers the thumbnail maker, which updates it.
        self.deps.images.put(&record).await?;
        self.deps
            .media
            .put(&image_key, image.png, "image/png")
            .await?;

        self.advance(
            JobStatus::Done,
            Progress {
                image_id: Some(image_id.clone()),
                ..Progress::default()
            },
        )
        .await?;
        Ok(image_id)
    }

    async fn transcribe(&self) -> Result<String, Stop> {
        let job = self.job;
        let bytes = self.deps.media.get(&job.audio_key).await?.ok_or_else(|| {
            Stop::failed(
                "the recording is no longer stored; record it again",
                format!("{} is missing", job.audio_key),
            )
        })?;
        let file_name = job
            .audio_key
            .rsplit('/')
            .next()
            .unwrap_or("recording.webm")
            .to_owned();
        let audio = AudioClip {
            content_type: audio_content_type(&file_name).to_owned(),
            file_name,
            bytes,
        };
        let transcript = self
            .deps
            .transcriber
            .transcribe(TranscriptionRequest {
                audio: &audio,
                language: &job.language,
                supplied_transcript: job.supplied_transcript.as_deref(),
            })
            .await
            .map_err(|e| Stop::provider(JobStatus::Transcribing, e))?;
        let transcript = transcript.trim().to_owned();
        if transcript.is_empty() {
            return Err(Stop::failed(
                "no speech was heard in the recording; try again a little closer to the microphone",
                "empty transcript",
            ));
        }
        Ok(transcript)
    }
}

/// The prompt for this job, at this moment's time of day where the user is.
fn prompt_for(transcript: &str, weather: Option<&Weather>, job: &Job) -> String {
    build_prompt(&Scene {
        transcript,
        weather: weather.map(|w| WeatherContext {
            description: &w.description,
            temperature_celsius: w.temperature,
        }),
        place: weather.map(|w| w.location.as_str()),
        time_of_day: Some(TimeOfDay::at(Utc::now(), job.location.map(|l| l.longitude))),
        style: job.style.as_deref(),
    })
}

/// Weather for offline development without an OpenWeather key: none.
pub struct NoWeather;

#[async_trait::async_trait]
impl WeatherProvider for NoWeather {
    async fn current(&self, _: f64, _: f64, _: &str) -> Result<Weather, WeatherError> {
        Err(WeatherError::Unreachable(
            "no OpenWeather key is configured".to_owned(),
        ))
    }
}

/// The media type Whisper is told, from the extension the upload URL gave the key.
fn audio_content_type(file_name: &str) -> &'static str {
    match file_name.rsplit('.').next().unwrap_or_default() {
        "webm" => "audio/webm",
        "ogg" => "audio/ogg",
        "m4a" | "mp4" => "audio/mp4",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        _ => "application/octet-stream",
    }
}
