//! The HTTP API's functions under their own roles: each path that reaches AWS, happy and not.

use std::sync::Arc;

use mumble_core::secrets::{SecretSource, SsmSecrets};
use mumble_core::store::jobs::{DynamoJobs, JobStore, NewJob};
use mumble_core::store::{DynamoImages, DynamoUsers, S3Media};
use mumble_testing::{json_response, request, request_with};
use serde_json::{Value, json};

use crate::world::{ALICE, ALICE_AUDIO, World};

const POST_UPLOAD_URL: &str =
    include_str!("../../../../lambdas/audio-upload/tests/fixtures/post-upload-url.json");
const LIST_IMAGES: &str =
    include_str!("../../../../lambdas/gallery/tests/fixtures/list-images.json");
const GET_IMAGE: &str = include_str!("../../../../lambdas/gallery/tests/fixtures/get-image.json");
const DELETE_IMAGE: &str =
    include_str!("../../../../lambdas/gallery/tests/fixtures/delete-image.json");
const GET_ME: &str = include_str!("../../../../lambdas/profile/tests/fixtures/get-me.json");
const PUT_ME: &str = include_str!("../../../../lambdas/profile/tests/fixtures/put-me.json");
const POST_GENERATE: &str =
    include_str!("../../../../lambdas/generate/tests/fixtures/post-generate.json");
const GET_JOB: &str = include_str!("../../../../lambdas/jobs/tests/fixtures/get-job.json");

#[tokio::test]
async fn audio_upload_hands_out_urls_it_can_upload_to_under_its_role() {
    let w = World::new().await;
    let role = w.role("audio-upload").await;
    let deps = audio_upload::Deps {
        media: Arc::new(S3Media::new(
            mumble_core::aws::s3_client(&role.sdk),
            role.env("MEDIA_BUCKET"),
        )),
        max_audio_bytes: 1_000_000,
    };
    let (status, body) = json_response(
        &role
            .run(
                "POST /upload-url",
                audio_upload::handle(&deps, request(POST_UPLOAD_URL)),
            )
            .await,
    );
    assert_eq!(status, 200, "{body}");

    // The URL is signed with the role's credentials: the upload is what the role must allow.
    let http = mumble_core::http::client(mumble_core::http::Timeouts::QUICK).expect("a client");
    let mut put = http
        .put(body["uploadUrl"].as_str().unwrap())
        .body(vec![7u8; 48213]);
    for (name, value) in body["headers"].as_object().unwrap() {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    let uploaded = role.run("PUT the presigned URL", put.send()).await.unwrap();
    assert!(uploaded.status().is_success(), "{}", uploaded.status());
    let key = body["audioKey"].as_str().unwrap();
    assert_eq!(w.object(key).await.map(|b| b.len()), Some(48213));
}

/// The regression of the weather function's first deploy: its role allowed `GetParameter`,
/// its cold start calls `GetParameters`.
#[tokio::test]
async fn weather_reads_its_api_key_at_cold_start() {
    let w = World::new().await;
    let role = w.role("weather").await;
    let name = w
        .secret(&role, "OPENWEATHER_API_KEY_PARAM", "ow-test-key")
        .await;
    let ssm = SsmSecrets::new(mumble_core::aws::ssm_client(&role.sdk));
    let key = role
        .run("cold start: read the OpenWeather key", ssm.get(&name))
        .await
        .expect("the key");
    assert_eq!(key.expose(), "ow-test-key");
}

fn by_id(fixture: &str, id: &str) -> lambda_http::Request {
    let id = id.to_owned();
    request_with(fixture, move |e| {
        e["pathParameters"]["id"] = id.clone().into();
        e["rawPath"] = format!("/api/v1/images/{id}").into();
        e["requestContext"]["http"]["path"] = e["rawPath"].clone();
    })
}

#[tokio::test]
async fn gallery_lists_shows_and_deletes_under_its_role() {
    let w = World::new().await;
    let role = w.role("gallery").await;
    let image_id = uuid::Uuid::new_v4().to_string();
    let record = w.image_record(&image_id).await;
    w.put_object(&record.image_key, b"png".to_vec(), "image/png")
        .await;
    w.put_object(
        record.thumbnail_key.as_ref().unwrap(),
        b"jpg".to_vec(),
        "image/jpeg",
    )
    .await;
    let deps = gallery::Deps {
        images: Arc::new(DynamoImages::new(
            mumble_core::aws::dynamodb_client(&role.sdk),
            role.env("IMAGES_TABLE"),
        )),
        media: Arc::new(S3Media::new(
            mumble_core::aws::s3_client(&role.sdk),
            role.env("MEDIA_BUCKET"),
        )),
    };

    let (status, body) = json_response(
        &role
            .run("list", gallery::handle(&deps, request(LIST_IMAGES)))
            .await,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["imageId"], image_id.as_str());
    let (status, body) = json_response(
        &role
            .run("get", gallery::handle(&deps, by_id(GET_IMAGE, &image_id)))
            .await,
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = json_response(
        &role
            .run(
                "get an unknown image",
                gallery::handle(&deps, by_id(GET_IMAGE, "no-such-image")),
            )
            .await,
    );
    assert_eq!(status, 404);
    let deleted = role
        .run(
            "delete",
            gallery::handle(&deps, by_id(DELETE_IMAGE, &image_id)),
        )
        .await;
    assert_eq!(deleted.status(), 204);
    assert!(w.object(&record.image_key).await.is_none());
    assert!(
        w.object(record.thumbnail_key.as_ref().unwrap())
            .await
            .is_none()
    );
    let again = role
        .run(
            "delete an image already gone",
            gallery::handle(&deps, by_id(DELETE_IMAGE, &image_id)),
        )
        .await;
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn profile_creates_reads_and_updates_under_its_role() {
    let w = World::new().await;
    let role = w.role("profile").await;
    let deps = profile::Deps {
        users: Arc::new(DynamoUsers::new(
            mumble_core::aws::dynamodb_client(&role.sdk),
            role.env("USERS_TABLE"),
        )),
    };
    let (status, body) = json_response(
        &role
            .run(
                "first GET creates the profile",
                profile::handle(&deps, request(GET_ME)),
            )
            .await,
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = json_response(
        &role
            .run("PUT", profile::handle(&deps, request(PUT_ME)))
            .await,
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = json_response(
        &role
            .run("GET after PUT", profile::handle(&deps, request(GET_ME)))
            .await,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["displayName"], "小明");
}

fn generate_deps(role: &crate::role::Role) -> generate::Deps {
    generate::Deps {
        jobs: Arc::new(DynamoJobs::new(
            mumble_core::aws::dynamodb_client(&role.sdk),
            role.env("JOBS_TABLE"),
        )),
        media: Arc::new(S3Media::new(
            mumble_core::aws::s3_client(&role.sdk),
            role.env("MEDIA_BUCKET"),
        )),
        invoker: Arc::new(mumble_core::generation::LambdaInvoker::new(
            aws_sdk_lambda::Client::new(&role.sdk),
            role.env("WORKER_FUNCTION"),
        )),
        max_audio_bytes: 10 * 1024 * 1024,
        max_per_user_per_day: None,
    }
}

fn post_generate(body: Value) -> lambda_http::Request {
    request_with(POST_GENERATE, move |e| {
        e["body"] = Value::String(body.to_string())
    })
}

#[tokio::test]
async fn generate_queues_a_job_and_starts_the_worker_under_its_role() {
    let w = World::new().await;
    let role = w.role("generate").await;
    Box::pin(w.worker_function(&role.env("WORKER_FUNCTION"))).await;
    let deps = generate_deps(&role);

    let (status, body) = json_response(
        &role
            .run(
                "a recording that was never uploaded",
                generate::handle(&deps, post_generate(json!({"audioKey": ALICE_AUDIO}))),
            )
            .await,
    );
    assert_eq!(status, 404, "{body}");

    w.put_object(ALICE_AUDIO, b"webm".to_vec(), "audio/webm")
        .await;
    let (status, body) = json_response(
        &role
            .run(
                "queue a job",
                generate::handle(&deps, post_generate(json!({"audioKey": ALICE_AUDIO}))),
            )
            .await,
    );
    assert_eq!(status, 202, "{body}");
    let (again, same) = json_response(
        &role
            .run(
                "the same idempotency key again",
                generate::handle(&deps, post_generate(json!({"audioKey": ALICE_AUDIO}))),
            )
            .await,
    );
    assert_eq!(again, 202, "{same}");
    assert_eq!(same["jobId"], body["jobId"]);
}

fn get_job(job_id: &str) -> lambda_http::Request {
    let job_id = job_id.to_owned();
    request_with(GET_JOB, move |e| {
        e["pathParameters"]["id"] = json!(job_id);
        e["rawPath"] = json!(format!("/api/v1/jobs/{job_id}"));
    })
}

#[tokio::test]
async fn jobs_reports_a_job_or_its_absence_under_its_role() {
    let w = World::new().await;
    let role = w.role("jobs").await;
    let job = NewJob {
        job_id: uuid::Uuid::new_v4().to_string(),
        user_id: ALICE.to_owned(),
        audio_key: ALICE_AUDIO.to_owned(),
        language: "zh".to_owned(),
        style: None,
        location: None,
        supplied_transcript: None,
    }
    .into_job(chrono::Utc::now());
    DynamoJobs::new(w.dynamodb.clone(), &w.jobs_table)
        .create(&job, None)
        .await
        .unwrap();
    let deps = jobs::Deps {
        jobs: Arc::new(DynamoJobs::new(
            mumble_core::aws::dynamodb_client(&role.sdk),
            role.env("JOBS_TABLE"),
        )),
    };
    let (status, body) = json_response(
        &role
            .run("a job", jobs::handle(&deps, get_job(&job.job_id)))
            .await,
    );
    assert_eq!(status, 200, "{body}");
    let (status, _) = json_response(
        &role
            .run(
                "an unknown job",
                jobs::handle(&deps, get_job("no-such-job")),
            )
            .await,
    );
    assert_eq!(status, 404);
}
