//! A fresh world per test: tables, bucket, fake OpenAI, fake Management API, and the generate,
//! worker and image-processor functions wired to them.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mumble_core::generation::WorkerEvent;
use mumble_core::pipeline::openai::{OpenAi, StepLimits};
use mumble_core::pipeline::push::{ConnectionPusher, ManagementApi};
use mumble_core::pipeline::retry::RetryPolicy;
use mumble_core::secrets::Secret;
use mumble_core::store::connections::{Connection, ConnectionStore, DynamoConnections};
use mumble_core::store::jobs::{DynamoJobs, Job, JobStore};
use mumble_core::store::{DynamoImages, DynamoProviderBudget, ImageRecord, ImageStore, S3Media};
use mumble_core::weather::{Weather, WeatherError, WeatherProvider};
use mumble_testing::fake_openai::FakeOpenAi;
use mumble_testing::pipeline_fakes::{FakeManagementApi, RecordingInvoker};
use mumble_testing::{json_response, request_with};
use serde_json::{Value, json};

pub const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";
pub const BOB: &str = "0e9f11aa-3c2b-4f7e-9a51-8f1c2a4e0d6b";
pub const ALICE_AUDIO: &str =
    "audio/8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11/0b5e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b.webm";
const POST_GENERATE: &str = include_str!("../../../generate/tests/fixtures/post-generate.json");
const OBJECT_CREATED: &str =
    include_str!("../../../image-processor/tests/fixtures/object-created.json");

/// Weather that is always the same light rain, or always fails.
pub struct FixedWeather(pub Option<Weather>);

impl FixedWeather {
    pub fn light_rain() -> Self {
        Self(Some(Weather {
            description: "小雨".to_owned(),
            temperature: 12.4,
            location: "Hangzhou".to_owned(),
        }))
    }
}

#[async_trait]
impl WeatherProvider for FixedWeather {
    async fn current(&self, _: f64, _: f64, _: &str) -> Result<Weather, WeatherError> {
        self.0.clone().ok_or(WeatherError::Timeout)
    }
}

/// The stage settings the world runs with: generations per user per day, paid calls per day.
pub const DAILY_QUOTA: u32 = 20;
pub const PROVIDER_CALLS_PER_DAY: u32 = 6;

pub struct World {
    pub openai: FakeOpenAi,
    pub management: FakeManagementApi,
    pub invoker: Arc<RecordingInvoker>,
    pub jobs: Arc<DynamoJobs>,
    pub images: Arc<DynamoImages>,
    pub connections: Arc<DynamoConnections>,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub generate: generate::Deps,
    pub worker: worker::Deps,
    pub processor: image_processor::Deps,
}

/// Fast retries so failure paths take milliseconds, with a short attempt timeout.
pub fn quick_limits() -> StepLimits {
    StepLimits {
        attempt_timeout: Duration::from_millis(800),
        retry: RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            budget: Duration::from_secs(3),
        },
    }
}

impl World {
    /// Alice has connections `alice-1` and `alice-gone` (which answers 410); Bob has `bob-1`.
    pub async fn new() -> Self {
        let sdk = mumble_testing::sdk_config();
        let dynamodb = mumble_core::aws::dynamodb_client(&sdk);
        let s3 = mumble_core::aws::s3_client(&sdk);
        let bucket = mumble_testing::bucket(&s3).await;
        let jobs_table = mumble_testing::jobs_table(&dynamodb).await;
        let jobs = Arc::new(DynamoJobs::new(dynamodb.clone(), &jobs_table));
        let images_table = mumble_testing::images_table(&dynamodb).await;
        let images = Arc::new(DynamoImages::new(dynamodb.clone(), &images_table));
        let connections = Arc::new(DynamoConnections::new(
            dynamodb.clone(),
            mumble_testing::connections_table(&dynamodb).await,
        ));
        let media = Arc::new(S3Media::new(s3.clone(), &bucket));
        let openai = FakeOpenAi::start().await;
        let management = FakeManagementApi::start(&["alice-gone"]).await;
        let invoker = Arc::new(RecordingInvoker::default());

        let now = chrono::Utc::now();
        for (id, user) in [("alice-1", ALICE), ("alice-gone", ALICE), ("bob-1", BOB)] {
            connections
                .put(&Connection::new(id, user, now))
                .await
                .unwrap();
        }

        let http =
            mumble_core::http::client(mumble_core::http::Timeouts::SLOW).expect("an HTTP client");
        let mut client = OpenAi::new(http, &openai.base_url, Secret::new("sk-test"));
        client.transcription_limits = quick_limits();
        client.image_limits = quick_limits();
        let client = Arc::new(client);

        let generate = generate::Deps {
            jobs: jobs.clone(),
            media: media.clone(),
            invoker: invoker.clone(),
            max_audio_bytes: 10 * 1024 * 1024,
            max_per_user_per_day: Some(DAILY_QUOTA),
        };
        let worker = worker::Deps {
            jobs: jobs.clone(),
            images: images.clone(),
            media: media.clone(),
            transcriber: client.clone(),
            image_generator: client,
            weather: Arc::new(FixedWeather::light_rain()),
            pusher: Arc::new(ConnectionPusher {
                connections: connections.clone(),
                poster: Arc::new(ManagementApi::new(&sdk, &management.endpoint)),
            }),
            budget: Arc::new(DynamoProviderBudget::new(
                dynamodb.clone(),
                &jobs_table,
                PROVIDER_CALLS_PER_DAY,
            )),
        };
        let processor = image_processor::Deps {
            media,
            details: Arc::new(image_processor::DynamoImageDetails::new(
                dynamodb,
                images_table,
            )),
        };
        Self {
            openai,
            management,
            invoker,
            jobs,
            images,
            connections,
            s3,
            bucket,
            generate,
            worker,
            processor,
        }
    }

    pub async fn upload_audio(&self, key: &str) {
        self.put_object(key, b"webm audio bytes".to_vec(), "audio/webm")
            .await;
    }

    pub async fn put_object(&self, key: &str, bytes: Vec<u8>, content_type: &str) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .expect("put an object in the emulator");
    }

    pub async fn object(&self, key: &str) -> Option<Vec<u8>> {
        let output = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .ok()?;
        Some(output.body.collect().await.ok()?.into_bytes().to_vec())
    }

    /// `POST /api/v1/generate` as Alice with `body`; returns the event the worker would get.
    pub async fn generate(&self, body: Value) -> WorkerEvent {
        self.generate_with_key(body, None).await
    }

    /// [`World::generate`] with another `Idempotency-Key` than the fixture's (one per job).
    pub async fn generate_with_key(&self, body: Value, key: Option<&str>) -> WorkerEvent {
        let request = request_with(POST_GENERATE, |e| {
            e["body"] = Value::String(body.to_string());
            if let Some(key) = key {
                e["headers"]["idempotency-key"] = json!(key);
            }
        });
        let (status, answer) = json_response(&generate::handle(&self.generate, request).await);
        assert_eq!(status, 202, "{answer}");
        let event = self
            .invoker
            .events()
            .pop()
            .expect("generate started the worker");
        assert_eq!(answer["jobId"], event.job_id.as_str());
        event
    }

    pub async fn job(&self, job_id: &str) -> Job {
        self.jobs
            .get(job_id)
            .await
            .unwrap()
            .expect("the job exists")
    }

    pub async fn image(&self, image_id: &str) -> Option<ImageRecord> {
        self.images.get(image_id).await.unwrap()
    }

    /// The media bucket's EventBridge "Object Created" event of an object at `key`.
    pub fn object_created(&self, key: &str) -> image_processor::ObjectCreatedEvent {
        let mut event: Value = serde_json::from_str(OBJECT_CREATED).unwrap();
        event["detail"]["bucket"]["name"] = json!(self.bucket);
        event["detail"]["object"]["key"] = json!(key);
        serde_json::from_value(event).expect("an EventBridge Object Created event")
    }

    /// The statuses pushed to `connection_id`, in order.
    pub fn pushed_statuses(&self, connection_id: &str) -> Vec<String> {
        self.management
            .posts()
            .into_iter()
            .filter(|p| p.connection_id == connection_id)
            .map(|p| p.body["status"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}
