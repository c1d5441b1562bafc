//! The generation pipeline's asynchronous functions under their own roles: the worker (cold
//! start with both secrets, a finished job with pushes, a recording that is gone) and the image
//! processor (a thumbnail, an object that is gone).

use std::sync::Arc;

use mumble_core::generation::WorkerEvent;
use mumble_core::pipeline::offline::{RenderedImage, SuppliedTranscript};
use mumble_core::pipeline::push::{ConnectionPusher, ManagementApi};
use mumble_core::secrets::{SecretSource, SsmSecrets};
use mumble_core::store::connections::{Connection, ConnectionStore, DynamoConnections};
use mumble_core::store::jobs::{DynamoJobs, JobStatus, JobStore, NewJob};
use mumble_core::store::{DynamoImages, DynamoProviderBudget, ImageStore, S3Media};
use mumble_testing::fake_openai::sample_png;
use mumble_testing::pipeline_fakes::FakeManagementApi;
use serde_json::{Value, json};

use crate::role::Role;
use crate::world::{ALICE, ALICE_AUDIO, World};

const OBJECT_CREATED: &str =
    include_str!("../../../../lambdas/image-processor/tests/fixtures/object-created.json");

async fn job(w: &World, audio_key: &str, transcript: Option<&str>) -> String {
    let job = NewJob {
        job_id: uuid::Uuid::new_v4().to_string(),
        user_id: ALICE.to_owned(),
        audio_key: audio_key.to_owned(),
        language: "zh".to_owned(),
        style: None,
        location: None,
        supplied_transcript: transcript.map(str::to_owned),
    }
    .into_job(chrono::Utc::now());
    DynamoJobs::new(w.dynamodb.clone(), &w.jobs_table)
        .create(&job, None)
        .await
        .unwrap();
    job.job_id
}

fn worker_deps(role: &Role, management: &FakeManagementApi) -> worker::Deps {
    let dynamodb = mumble_core::aws::dynamodb_client(&role.sdk);
    worker::Deps {
        jobs: Arc::new(DynamoJobs::new(dynamodb.clone(), role.env("JOBS_TABLE"))),
        images: Arc::new(DynamoImages::new(
            dynamodb.clone(),
            role.env("IMAGES_TABLE"),
        )),
        media: Arc::new(S3Media::new(
            mumble_core::aws::s3_client(&role.sdk),
            role.env("MEDIA_BUCKET"),
        )),
        transcriber: Arc::new(SuppliedTranscript),
        image_generator: Arc::new(RenderedImage),
        weather: Arc::new(worker::NoWeather),
        // The Management API is a local fake (moto has none): `execute-api:ManageConnections`
        // is checked by the static tests only.
        pusher: Arc::new(ConnectionPusher {
            connections: Arc::new(DynamoConnections::new(
                dynamodb,
                role.env("CONNECTIONS_TABLE"),
            )),
            poster: Arc::new(ManagementApi::new(&role.sdk, &management.endpoint)),
        }),
        budget: Arc::new(DynamoProviderBudget::new(
            mumble_core::aws::dynamodb_client(&role.sdk),
            role.env("JOBS_TABLE"),
            100,
        )),
    }
}

/// The regression of the worker's first deploy: its role allowed `GetParameter`, its cold start
/// reads both keys with one `GetParameters`.
#[tokio::test]
async fn worker_reads_both_api_keys_at_cold_start() {
    let w = World::new().await;
    let role = w.role("worker").await;
    let openai = w.secret(&role, "OPENAI_API_KEY_PARAM", "sk-test").await;
    let weather = w
        .secret(&role, "OPENWEATHER_API_KEY_PARAM", "ow-test")
        .await;
    let ssm = SsmSecrets::new(mumble_core::aws::ssm_client(&role.sdk));
    let keys = role
        .run(
            "cold start: read the OpenAI and OpenWeather keys",
            ssm.get_all(&[openai, weather]),
        )
        .await
        .expect("both keys");
    assert_eq!(keys[0].expose(), "sk-test");
    assert_eq!(keys[1].expose(), "ow-test");
}

#[tokio::test]
async fn worker_finishes_a_job_and_pushes_it_under_its_role() {
    let w = World::new().await;
    let role = w.role("worker").await;
    let management = FakeManagementApi::start(&["alice-gone"]).await;
    let connections = DynamoConnections::new(w.dynamodb.clone(), &w.connections_table);
    for id in ["alice-1", "alice-gone"] {
        connections
            .put(&Connection::new(id, ALICE, chrono::Utc::now()))
            .await
            .unwrap();
    }
    w.put_object(ALICE_AUDIO, b"webm".to_vec(), "audio/webm")
        .await;
    let job_id = job(&w, ALICE_AUDIO, Some("月光下的湖")).await;
    let deps = worker_deps(&role, &management);

    let event = WorkerEvent {
        job_id: job_id.clone(),
        user_id: ALICE.to_owned(),
    };
    let outcome = role
        .run(
            "a job from recording to image",
            worker::handle(&deps, event.clone()),
        )
        .await
        .expect("the worker finishes");
    let worker::Outcome::Done { image_id } = outcome else {
        panic!("the job did not finish: {outcome:?}")
    };
    let record = DynamoImages::new(w.dynamodb.clone(), &w.images_table)
        .get(&image_id)
        .await
        .unwrap()
        .expect("the image record");
    assert!(w.object(&record.image_key).await.is_some());
    assert!(!management.posts().is_empty(), "progress was pushed");
    assert!(
        connections.get("alice-gone").await.unwrap().is_none(),
        "a gone connection is dropped"
    );

    let again = role
        .run("the same event again", worker::handle(&deps, event))
        .await
        .expect("a repeated event is no error");
    assert_eq!(again, worker::Outcome::Skipped);
    let unknown = WorkerEvent {
        job_id: "no-such-job".to_owned(),
        user_id: ALICE.to_owned(),
    };
    let skipped = role
        .run("an unknown job", worker::handle(&deps, unknown))
        .await
        .expect("an unknown job is no error");
    assert_eq!(skipped, worker::Outcome::Skipped);
}

/// On AWS, a missing object answers 404 only to a caller that may list the bucket (403
/// otherwise); moto answers 404 to anyone, so the static test
/// `every_object_reader_may_list_its_prefix` (stacks) guards the listing permission.
#[tokio::test]
async fn worker_fails_a_job_whose_recording_is_gone_under_its_role() {
    let w = World::new().await;
    let role = w.role("worker").await;
    let management = FakeManagementApi::start(&[]).await;
    let job_id = job(&w, ALICE_AUDIO, None).await;
    let deps = worker_deps(&role, &management);

    let outcome = role
        .run(
            "a recording that is gone",
            worker::handle(
                &deps,
                WorkerEvent {
                    job_id: job_id.clone(),
                    user_id: ALICE.to_owned(),
                },
            ),
        )
        .await
        .expect("a missing recording fails the job, not the invocation");
    assert!(
        matches!(outcome, worker::Outcome::Failed { .. }),
        "{outcome:?}"
    );
    let job = DynamoJobs::new(w.dynamodb.clone(), &w.jobs_table)
        .get(&job_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.status, JobStatus::Failed);
}

fn object_created(bucket: &str, key: &str) -> image_processor::ObjectCreatedEvent {
    let mut event: Value = serde_json::from_str(OBJECT_CREATED).unwrap();
    event["detail"]["bucket"]["name"] = json!(bucket);
    event["detail"]["object"]["key"] = json!(key);
    serde_json::from_value(event).expect("an EventBridge Object Created event")
}

#[tokio::test]
async fn image_processor_makes_thumbnails_under_its_role() {
    let w = World::new().await;
    let role = w.role("image-processor").await;
    let deps = image_processor::Deps {
        media: Arc::new(S3Media::new(
            mumble_core::aws::s3_client(&role.sdk),
            role.env("MEDIA_BUCKET"),
        )),
        details: Arc::new(image_processor::DynamoImageDetails::new(
            mumble_core::aws::dynamodb_client(&role.sdk),
            role.env("IMAGES_TABLE"),
        )),
    };
    let image_id = uuid::Uuid::new_v4().to_string();
    let record = w.image_record(&image_id).await;
    w.put_object(&record.image_key, sample_png(64), "image/png")
        .await;

    let report = role
        .run(
            "a new image and its record",
            image_processor::handle(&deps, object_created(&w.bucket, &record.image_key)),
        )
        .await
        .expect("a thumbnail");
    assert_eq!(report.thumbnails, 1);
    let stored = DynamoImages::new(w.dynamodb.clone(), &w.images_table)
        .get(&image_id)
        .await
        .unwrap()
        .expect("the record");
    assert_eq!(stored.width, Some(64), "the details were recorded");

    let gone = format!("images/{ALICE}/deleted.png");
    let report = role
        .run(
            "an image deleted before its event arrived",
            image_processor::handle(&deps, object_created(&w.bucket, &gone)),
        )
        .await
        .expect("a vanished object is ignored, not retried");
    assert_eq!(report.ignored, 1);
}
