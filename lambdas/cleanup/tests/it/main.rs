//! Integration tests of the cleanup against DynamoDB and S3 in the local emulator.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use cleanup::{Deps, Report, S3Uploads, STUCK_REASON, run};
use mumble_core::store::S3Media;
use mumble_core::store::connections::{Connection, ConnectionStore, DynamoConnections};
use mumble_core::store::jobs::{DynamoJobs, Job, JobStatus, JobStore, NewJob, Progress};

const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";

struct World {
    deps: Deps,
    jobs: Arc<DynamoJobs>,
    connections: Arc<DynamoConnections>,
    s3: aws_sdk_s3::Client,
    bucket: String,
}

async fn world() -> World {
    let sdk = mumble_testing::sdk_config();
    let dynamodb = mumble_core::aws::dynamodb_client(&sdk);
    let s3 = mumble_core::aws::s3_client(&sdk);
    let bucket = mumble_testing::bucket(&s3).await;
    let jobs = Arc::new(DynamoJobs::new(
        dynamodb.clone(),
        mumble_testing::jobs_table(&dynamodb).await,
    ));
    let connections_table = mumble_testing::connections_table(&dynamodb).await;
    let connections = Arc::new(DynamoConnections::new(dynamodb, connections_table));
    let deps = Deps {
        jobs: jobs.clone(),
        connections: connections.clone(),
        uploads: Arc::new(S3Uploads {
            client: s3.clone(),
            bucket: bucket.clone(),
        }),
        media: Arc::new(S3Media::new(s3.clone(), &bucket)),
        job_timeout: Duration::from_secs(600),
        audio_retention: Duration::from_secs(7 * 24 * 3600),
    };
    World {
        deps,
        jobs,
        connections,
        s3,
        bucket,
    }
}

impl World {
    /// A job created `minutes_ago`, moved to `status` then.
    async fn job(&self, audio_key: &str, minutes_ago: i64) -> Job {
        let job = NewJob {
            job_id: uuid::Uuid::new_v4().to_string(),
            user_id: ALICE.to_owned(),
            audio_key: audio_key.to_owned(),
            language: "zh".to_owned(),
            style: None,
            location: None,
            supplied_transcript: None,
        }
        .into_job(Utc::now() - chrono::Duration::minutes(minutes_ago));
        self.jobs.create(&job, None).await.unwrap();
        job
    }

    async fn upload(&self, key: &str) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(b"audio".to_vec().into())
            .send()
            .await
            .unwrap();
    }

    async fn exists(&self, key: &str) -> bool {
        self.s3
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .is_ok()
    }
}

#[tokio::test]
async fn jobs_stuck_past_their_timeout_are_failed_with_a_reason() {
    let w = world().await;
    let stuck = w.job("audio/a/1.webm", 60).await;
    let recent = w.job("audio/a/2.webm", 2).await;
    let finished = w.job("audio/a/3.webm", 60).await;
    w.jobs
        .advance(&finished.job_id, JobStatus::Done, Progress::default())
        .await
        .unwrap();

    let report = run(&w.deps, Utc::now()).await.unwrap();

    assert_eq!(report.stuck_jobs_failed, 1);
    let stuck = w.jobs.get(&stuck.job_id).await.unwrap().unwrap();
    assert_eq!(stuck.status, JobStatus::Failed);
    assert_eq!(stuck.error.as_deref(), Some(STUCK_REASON));
    assert_eq!(
        w.jobs.get(&recent.job_id).await.unwrap().unwrap().status,
        JobStatus::Queued
    );
    assert_eq!(
        w.jobs.get(&finished.job_id).await.unwrap().unwrap().status,
        JobStatus::Done
    );
}

#[tokio::test]
async fn old_audio_that_no_job_refers_to_is_deleted() {
    let w = world().await;
    let abandoned = format!("audio/{ALICE}/abandoned.webm");
    let used = format!("audio/{ALICE}/used.webm");
    let image = format!("images/{ALICE}/kept.png");
    for key in [&abandoned, &used, &image] {
        w.upload(key).await;
    }
    w.job(&used, 1).await;

    // Today nothing is old enough.
    let today = run(&w.deps, Utc::now()).await.unwrap();
    assert_eq!(today.audio_deleted, 0);
    assert!(w.exists(&abandoned).await);

    // Eight days on, the retention (seven days) has passed.
    let later = run(&w.deps, Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    assert_eq!(later.audio_deleted, 1);
    assert_eq!(later.audio_kept_in_use, 1);
    assert!(!w.exists(&abandoned).await);
    assert!(w.exists(&used).await, "a job still refers to it");
    assert!(w.exists(&image).await, "only audio is cleaned up");
}

#[tokio::test]
async fn connections_past_their_ttl_are_removed() {
    let w = world().await;
    let now = Utc::now();
    w.connections
        .put(&Connection::new(
            "stale",
            ALICE,
            now - chrono::Duration::hours(3),
        ))
        .await
        .unwrap();
    w.connections
        .put(&Connection::new("live", ALICE, now))
        .await
        .unwrap();

    let report = run(&w.deps, now).await.unwrap();

    assert_eq!(
        report,
        Report {
            stuck_jobs_failed: 0,
            audio_deleted: 0,
            audio_kept_in_use: 0,
            connections_removed: 1
        }
    );
    assert!(w.connections.get("stale").await.unwrap().is_none());
    assert!(w.connections.get("live").await.unwrap().is_some());
}
