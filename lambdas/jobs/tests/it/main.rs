//! Integration tests of the jobs function: a job's owner sees its state, nobody else does.

use std::sync::Arc;

use jobs::{Deps, handle};
use mumble_core::store::jobs::{DynamoJobs, JobStatus, JobStore, NewJob, Progress};
use mumble_testing::{self, anonymous, as_user, assert_error, json_response, request_with};
use serde_json::{Value, json};

const GET_JOB: &str = include_str!("../fixtures/get-job.json");
const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";
const BOB: &str = "0e9f11aa-3c2b-4f7e-9a51-8f1c2a4e0d6b";

async fn deps() -> (Deps, Arc<DynamoJobs>) {
    let sdk = mumble_testing::sdk_config();
    let dynamodb = mumble_core::aws::dynamodb_client(&sdk);
    let table = mumble_testing::jobs_table(&dynamodb).await;
    let jobs = Arc::new(DynamoJobs::new(dynamodb, table));
    (Deps { jobs: jobs.clone() }, jobs)
}

async fn alices_job(jobs: &DynamoJobs) -> String {
    let job = NewJob {
        job_id: uuid::Uuid::new_v4().to_string(),
        user_id: ALICE.to_owned(),
        audio_key: format!("audio/{ALICE}/a.webm"),
        language: "zh".to_owned(),
        style: None,
        location: None,
        supplied_transcript: None,
    }
    .into_job(chrono::Utc::now());
    jobs.create(&job, None).await.unwrap();
    job.job_id
}

fn get(job_id: &str, edit: impl FnOnce(&mut Value)) -> lambda_http::Request {
    let job_id = job_id.to_owned();
    request_with(GET_JOB, move |e| {
        e["pathParameters"]["id"] = json!(job_id);
        e["rawPath"] = json!(format!("/api/v1/jobs/{job_id}"));
        edit(e);
    })
}

#[tokio::test]
async fn the_owner_sees_the_jobs_progress() {
    let (deps, jobs) = deps().await;
    let job_id = alices_job(&jobs).await;
    let progress = Progress {
        transcript: Some("下雨了".to_owned()),
        ..Progress::default()
    };
    jobs.advance(&job_id, JobStatus::Prompting, progress)
        .await
        .unwrap()
        .unwrap();

    let (status, body) = json_response(&handle(&deps, get(&job_id, |_| {})).await);

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["jobId"], job_id.as_str());
    assert_eq!(body["status"], "prompting");
    assert_eq!(body["transcript"], "下雨了");
    assert!(
        body.get("audioKey").is_none() && body.get("expiresAt").is_none(),
        "{body}"
    );
}

#[tokio::test]
async fn a_failed_job_says_why() {
    let (deps, jobs) = deps().await;
    let job_id = alices_job(&jobs).await;
    let progress = Progress {
        error: Some("the recording could not be used".to_owned()),
        ..Progress::default()
    };
    jobs.advance(&job_id, JobStatus::Failed, progress)
        .await
        .unwrap()
        .unwrap();

    let (_, body) = json_response(&handle(&deps, get(&job_id, |_| {})).await);

    assert_eq!(body["status"], "failed");
    assert_eq!(body["error"], "the recording could not be used");
}

#[tokio::test]
async fn another_user_gets_the_same_404_as_for_a_missing_job() {
    let (deps, jobs) = deps().await;
    let job_id = alices_job(&jobs).await;

    let as_bob = assert_error(
        &handle(&deps, get(&job_id, |e| as_user(e, BOB))).await,
        404,
        "not_found",
    );
    let missing_id = uuid::Uuid::new_v4().to_string();
    let missing = assert_error(
        &handle(&deps, get(&missing_id, |_| {})).await,
        404,
        "not_found",
    );

    assert_eq!(
        as_bob.replace(&job_id, "ID"),
        missing.replace(&missing_id, "ID")
    );
}

#[tokio::test]
async fn idempotency_records_are_not_jobs() {
    let (deps, _) = deps().await;
    let response = handle(&deps, get(&format!("idempotency#{ALICE}#key"), |_| {})).await;
    assert_error(&response, 404, "not_found");
}

#[tokio::test]
async fn anonymous_callers_are_refused() {
    let (deps, jobs) = deps().await;
    let job_id = alices_job(&jobs).await;
    assert_error(
        &handle(&deps, get(&job_id, anonymous)).await,
        401,
        "unauthorized",
    );
}
