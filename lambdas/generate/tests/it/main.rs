//! Integration tests of the generate function: fixture events against DynamoDB and S3 in the
//! local emulator, with a worker invoker that records what it was asked to start.

use std::sync::Arc;

use generate::{Deps, handle};
use mumble_core::store::S3Media;
use mumble_core::store::jobs::{DynamoJobs, JobStatus, JobStore};
use mumble_testing::pipeline_fakes::RecordingInvoker;
use mumble_testing::{self, anonymous, as_user, assert_error, json_response, request_with};
use serde_json::{Value, json};

const POST_GENERATE: &str = include_str!("../fixtures/post-generate.json");
const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";
const BOB: &str = "0e9f11aa-3c2b-4f7e-9a51-8f1c2a4e0d6b";
const ALICE_AUDIO: &str =
    "audio/8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11/0b5e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b.webm";

struct World {
    deps: Deps,
    invoker: Arc<RecordingInvoker>,
    jobs: Arc<DynamoJobs>,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

/// Generations one user may start per day in these tests.
const QUOTA: u32 = 3;

async fn world_with(invoker: RecordingInvoker) -> World {
    let sdk = mumble_testing::sdk_config();
    let dynamodb = mumble_core::aws::dynamodb_client(&sdk);
    let s3 = mumble_core::aws::s3_client(&sdk);
    let table = mumble_testing::jobs_table(&dynamodb).await;
    let bucket = mumble_testing::bucket(&s3).await;
    let jobs = Arc::new(DynamoJobs::new(dynamodb, table));
    let invoker = Arc::new(invoker);
    let deps = Deps {
        jobs: jobs.clone(),
        media: Arc::new(S3Media::new(s3.clone(), &bucket)),
        invoker: invoker.clone(),
        max_audio_bytes: 1024,
        max_per_user_per_day: Some(QUOTA),
    };
    World {
        deps,
        invoker,
        jobs,
        s3,
        bucket,
    }
}

async fn world() -> World {
    world_with(RecordingInvoker::default()).await
}

impl World {
    async fn upload(&self, key: &str, bytes: usize) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("audio/webm")
            .body(vec![7u8; bytes].into())
            .send()
            .await
            .expect("upload audio to the emulator");
    }
}

fn post(edit: impl FnOnce(&mut Value)) -> lambda_http::Request {
    request_with(POST_GENERATE, edit)
}

fn with_body(body: Value) -> lambda_http::Request {
    post(move |e| e["body"] = Value::String(body.to_string()))
}

#[tokio::test]
async fn a_request_queues_a_job_and_starts_the_worker() {
    let w = world().await;
    w.upload(ALICE_AUDIO, 100).await;

    let (status, body) = json_response(&handle(&w.deps, post(|_| {})).await);

    assert_eq!(status, 202, "{body}");
    let job_id = body["jobId"].as_str().expect("a job id").to_owned();
    assert_eq!(body["status"], "queued");
    let job = w
        .jobs
        .get(&job_id)
        .await
        .unwrap()
        .expect("the job is stored");
    assert_eq!(job.status, JobStatus::Queued);
    assert_eq!(job.user_id, ALICE);
    assert_eq!(job.audio_key, ALICE_AUDIO);
    assert_eq!(job.language, "zh");
    assert_eq!(job.style.as_deref(), Some("ink wash painting"));
    assert_eq!(
        job.location.map(|l| (l.latitude, l.longitude)),
        Some((30.25, 120.17))
    );
    let events = w.invoker.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].job_id.as_str(), events[0].user_id.as_str()),
        (job_id.as_str(), ALICE)
    );
}

#[tokio::test]
async fn the_same_idempotency_key_answers_the_same_job_and_starts_nothing_new() {
    let w = world().await;
    w.upload(ALICE_AUDIO, 100).await;

    let (first_status, first) = json_response(&handle(&w.deps, post(|_| {})).await);
    let (second_status, second) = json_response(&handle(&w.deps, post(|_| {})).await);

    assert_eq!((first_status, second_status), (202, 202));
    assert_eq!(first["jobId"], second["jobId"]);
    assert_eq!(
        w.invoker.events().len(),
        1,
        "the retry must not start a second worker"
    );

    // Another key is another request: with another recording, another job.
    let second_audio = format!("audio/{ALICE}/second.webm");
    w.upload(&second_audio, 100).await;
    let (_, other) = json_response(
        &handle(
            &w.deps,
            post(|e| {
                e["headers"]["idempotency-key"] = json!("another");
                e["body"] = Value::String(json!({"audioKey": second_audio}).to_string());
            }),
        )
        .await,
    );
    assert_ne!(other["jobId"], first["jobId"]);
    let third_audio = format!("audio/{ALICE}/third.webm");
    w.upload(&third_audio, 100).await;
    let (_, none) = json_response(
        &handle(
            &w.deps,
            post(|e| {
                e["headers"]
                    .as_object_mut()
                    .unwrap()
                    .remove("idempotency-key");
                e["body"] = Value::String(json!({"audioKey": third_audio}).to_string());
            }),
        )
        .await,
    );
    assert_ne!(none["jobId"], first["jobId"]);
    assert_eq!(w.invoker.events().len(), 3);
}

#[tokio::test]
async fn a_recording_becomes_one_picture_and_a_retry_still_gets_its_job() {
    let w = world().await;
    w.upload(ALICE_AUDIO, 100).await;
    let (status, first) = json_response(&handle(&w.deps, post(|_| {})).await);
    assert_eq!(status, 202, "{first}");

    // The same recording under another key (or none) is a second picture: refused.
    for edit in [
        Box::new(|e: &mut Value| e["headers"]["idempotency-key"] = json!("again"))
            as Box<dyn FnOnce(&mut Value)>,
        Box::new(|e: &mut Value| {
            e["headers"]
                .as_object_mut()
                .unwrap()
                .remove("idempotency-key");
        }),
    ] {
        let message = assert_error(&handle(&w.deps, post(edit)).await, 409, "recording_used");
        assert!(message.contains("record a new one"), "{message}");
    }
    // A retry of the first request (same key) still answers its job.
    let (status, retry) = json_response(&handle(&w.deps, post(|_| {})).await);
    assert_eq!(status, 202, "{retry}");
    assert_eq!(retry["jobId"], first["jobId"]);
    assert_eq!(w.invoker.events().len(), 1);
}

#[tokio::test]
async fn after_the_daily_quota_a_user_gets_429_with_retry_after_and_others_do_not() {
    let w = world().await;
    for n in 0..QUOTA {
        let audio = format!("audio/{ALICE}/clip-{n}.webm");
        w.upload(&audio, 100).await;
        let (status, body) = json_response(
            &handle(
                &w.deps,
                post(|e| {
                    e["headers"]["idempotency-key"] = json!(format!("key-{n}"));
                    e["body"] = Value::String(json!({"audioKey": audio}).to_string());
                }),
            )
            .await,
        );
        assert_eq!(status, 202, "generation {n}: {body}");
    }
    // A retry of an accepted request is not a new generation.
    let (status, _) = json_response(
        &handle(
            &w.deps,
            post(|e| {
                e["headers"]["idempotency-key"] = json!("key-0");
                e["body"] = Value::String(
                    json!({"audioKey": format!("audio/{ALICE}/clip-0.webm")}).to_string(),
                );
            }),
        )
        .await,
    );
    assert_eq!(status, 202);

    let over = format!("audio/{ALICE}/one-more.webm");
    w.upload(&over, 100).await;
    let response = handle(
        &w.deps,
        post(|e| {
            e["headers"]["idempotency-key"] = json!("one-more");
            e["body"] = Value::String(json!({"audioKey": over}).to_string());
        }),
    )
    .await;

    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=24 * 3600).contains(&retry_after), "{retry_after}");
    let message = assert_error(&response, 429, "quota_exceeded");
    assert!(message.contains(&format!("{QUOTA} pictures")), "{message}");
    assert_eq!(w.invoker.events().len(), QUOTA as usize);
    // The recording was not used up by the refused request.
    assert!(w.jobs.audio_keys_in_use().await.unwrap().len() == QUOTA as usize);

    // Bob has his own quota.
    let bob_audio = format!("audio/{BOB}/clip.webm");
    w.upload(&bob_audio, 100).await;
    let (status, body) = json_response(
        &handle(
            &w.deps,
            post(|e| {
                as_user(e, BOB);
                e["body"] = Value::String(json!({"audioKey": bob_audio}).to_string());
            }),
        )
        .await,
    );
    assert_eq!(status, 202, "{body}");
}

#[tokio::test]
async fn an_idempotency_key_belongs_to_its_user() {
    let w = world().await;
    w.upload(ALICE_AUDIO, 100).await;
    let bob_audio = format!("audio/{BOB}/clip.webm");
    w.upload(&bob_audio, 100).await;

    let (_, alice) = json_response(&handle(&w.deps, post(|_| {})).await);
    let (status, bob) = json_response(
        &handle(
            &w.deps,
            post(|e| {
                as_user(e, BOB);
                e["body"] = Value::String(json!({"audioKey": bob_audio}).to_string());
            }),
        )
        .await,
    );

    assert_eq!(status, 202, "{bob}");
    assert_ne!(alice["jobId"], bob["jobId"]);
    assert_eq!(w.invoker.events().len(), 2);
}

#[tokio::test]
async fn another_users_recording_is_not_found() {
    let w = world().await;
    let bob_audio = format!("audio/{BOB}/clip.webm");
    w.upload(&bob_audio, 100).await;

    let response = handle(&w.deps, with_body(json!({"audioKey": bob_audio}))).await;

    assert_error(&response, 404, "not_found");
    assert!(w.invoker.events().is_empty());
}

#[tokio::test]
async fn a_recording_that_was_never_uploaded_is_not_found() {
    let w = world().await;
    let message = assert_error(&handle(&w.deps, post(|_| {})).await, 404, "not_found");
    assert!(message.contains("upload"), "{message}");
    assert!(w.invoker.events().is_empty());
}

#[tokio::test]
async fn recordings_over_the_limit_are_refused() {
    let w = world().await;
    w.upload(ALICE_AUDIO, 2048).await;
    assert_error(
        &handle(&w.deps, post(|_| {})).await,
        413,
        "payload_too_large",
    );
    assert!(w.invoker.events().is_empty());
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_problem() {
    let w = world().await;
    w.upload(ALICE_AUDIO, 100).await;
    let cases = [
        (json!({"audioKey": ""}), "audioKey"),
        (json!({"audioKey": "images/x/y.png"}), "audioKey"),
        (
            json!({"audioKey": ALICE_AUDIO, "latitude": 10.0}),
            "longitude",
        ),
        (
            json!({"audioKey": ALICE_AUDIO, "latitude": 91.0, "longitude": 0.0}),
            "latitude",
        ),
        (
            json!({"audioKey": ALICE_AUDIO, "latitude": 0.0, "longitude": -181.0}),
            "longitude",
        ),
        (
            json!({"audioKey": ALICE_AUDIO, "language": "chinese"}),
            "language",
        ),
        (
            json!({"audioKey": ALICE_AUDIO, "style": "x".repeat(500)}),
            "style",
        ),
        (json!({"audioKey": 42}), "audioKey"),
        (json!({"latitude": 1.0}), "audioKey"),
    ];
    for (body, field) in cases {
        let response = handle(&w.deps, with_body(body.clone())).await;
        let message = assert_error(&response, 400, "invalid_input");
        assert!(message.contains(field), "{body} -> {message}");
    }
    let not_json = post(|e| e["body"] = json!("{not json"));
    assert_error(&handle(&w.deps, not_json).await, 400, "invalid_input");
    let no_body = post(|e| e["body"] = Value::Null);
    assert_error(&handle(&w.deps, no_body).await, 400, "invalid_input");
    let bad_key = post(|e| e["headers"]["idempotency-key"] = json!("x".repeat(300)));
    let message = assert_error(&handle(&w.deps, bad_key).await, 400, "invalid_input");
    assert!(message.contains("Idempotency-Key"), "{message}");
    assert!(
        w.invoker.events().is_empty(),
        "nothing starts for bad input"
    );
}

#[tokio::test]
async fn a_browser_language_tag_is_accepted_by_its_language() {
    let w = world().await;
    w.upload(ALICE_AUDIO, 100).await;
    let (status, body) = json_response(
        &handle(
            &w.deps,
            with_body(json!({"audioKey": ALICE_AUDIO, "language": "en-US"})),
        )
        .await,
    );
    assert_eq!(status, 202, "{body}");
    let job = w
        .jobs
        .get(body["jobId"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.language, "en");
}

#[tokio::test]
async fn anonymous_callers_are_refused() {
    let w = world().await;
    assert_error(&handle(&w.deps, post(anonymous)).await, 401, "unauthorized");
}

#[tokio::test]
async fn a_worker_that_cannot_be_started_fails_the_job_with_a_reason() {
    let w = world_with(RecordingInvoker::failing()).await;
    w.upload(ALICE_AUDIO, 100).await;

    let response = handle(
        &w.deps,
        post(|e| e["headers"]["idempotency-key"] = json!("retry-me")),
    )
    .await;

    assert_error(&response, 503, "unavailable");
    // The key now names a failed job: a retry with it reports that job instead of hanging.
    let (status, body) = json_response(
        &handle(
            &w.deps,
            post(|e| e["headers"]["idempotency-key"] = json!("retry-me")),
        )
        .await,
    );
    assert_eq!(status, 202);
    let job = w
        .jobs
        .get(body["jobId"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.error
            .as_deref()
            .is_some_and(|e| e.contains("try again")),
        "{job:?}"
    );
}
