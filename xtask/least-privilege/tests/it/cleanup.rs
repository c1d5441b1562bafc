//! The scheduled clean-up under its own role: stuck jobs, old recordings, stale connections.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mumble_core::store::S3Media;
use mumble_core::store::connections::{Connection, ConnectionStore, DynamoConnections};
use mumble_core::store::jobs::{DynamoJobs, JobStore, NewJob};

use crate::world::{ALICE, World};

#[tokio::test]
async fn cleanup_fails_stuck_jobs_and_deletes_old_audio_under_its_role() {
    let w = World::new().await;
    let role = w.role("cleanup").await;
    let abandoned = format!("audio/{ALICE}/abandoned.webm");
    let used = format!("audio/{ALICE}/used.webm");
    for key in [&abandoned, &used] {
        w.put_object(key, b"webm".to_vec(), "audio/webm").await;
    }
    let stuck = NewJob {
        job_id: uuid::Uuid::new_v4().to_string(),
        user_id: ALICE.to_owned(),
        audio_key: used.clone(),
        language: "zh".to_owned(),
        style: None,
        location: None,
        supplied_transcript: None,
    }
    .into_job(Utc::now() - chrono::Duration::hours(2));
    DynamoJobs::new(w.dynamodb.clone(), &w.jobs_table)
        .create(&stuck, None)
        .await
        .unwrap();
    DynamoConnections::new(w.dynamodb.clone(), &w.connections_table)
        .put(&Connection::new(
            "stale",
            ALICE,
            Utc::now() - chrono::Duration::days(2),
        ))
        .await
        .unwrap();

    let dynamodb = mumble_core::aws::dynamodb_client(&role.sdk);
    let s3 = mumble_core::aws::s3_client(&role.sdk);
    let bucket = role.env("MEDIA_BUCKET");
    let deps = cleanup::Deps {
        jobs: Arc::new(DynamoJobs::new(dynamodb.clone(), role.env("JOBS_TABLE"))),
        connections: Arc::new(DynamoConnections::new(
            dynamodb,
            role.env("CONNECTIONS_TABLE"),
        )),
        uploads: Arc::new(cleanup::S3Uploads {
            client: s3.clone(),
            bucket: bucket.clone(),
        }),
        media: Arc::new(S3Media::new(s3, bucket)),
        job_timeout: Duration::from_secs(600),
        audio_retention: Duration::from_secs(7 * 24 * 3600),
    };

    let report = role
        .run(
            "an hourly run eight days on",
            cleanup::run(&deps, Utc::now() + chrono::Duration::days(8)),
        )
        .await
        .expect("the clean-up runs");
    assert_eq!(report.stuck_jobs_failed, 1, "{report:?}");
    assert!(report.audio_deleted >= 1, "{report:?}");
    assert_eq!(report.connections_removed, 1, "{report:?}");
    assert!(w.object(&abandoned).await.is_none());
}
