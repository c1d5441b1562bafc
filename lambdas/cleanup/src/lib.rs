//! The hourly cleanup (EventBridge schedule):
//! - jobs still running `JOB_TIMEOUT_SECONDS` after their last change are failed with a reason,
//!   so no job stays in a running state forever (a worker whose retries all failed, or one that
//!   was never started, leaves such a job behind);
//! - audio uploads older than `AUDIO_RETENTION_DAYS` that no job record refers to are deleted
//!   (job records expire after 30 days, which releases their audio);
//! - connection records past their TTL that DynamoDB has not removed yet are deleted.
//!
//! It logs one line with the counts.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use mumble_core::config::vars;
use mumble_core::store::connections::{ConnectionStore, DynamoConnections};
use mumble_core::store::jobs::{DEFAULT_JOB_TIMEOUT_SECONDS, DynamoJobs, JobStore};
use mumble_core::store::{MediaStore, S3Media, StoreError};
use mumble_core::{ConfigError, Env, aws};
use serde::Serialize;

/// Default for `AUDIO_RETENTION_DAYS`.
pub const DEFAULT_AUDIO_RETENTION_DAYS: u32 = 7;
/// What the user reads on a job the cleanup failed.
pub const STUCK_REASON: &str = "making the image took too long and was stopped; please try again";
/// `DeleteObjects` takes at most this many keys.
const DELETE_BATCH: usize = 1000;

pub struct Deps {
    pub jobs: Arc<dyn JobStore>,
    pub connections: Arc<dyn ConnectionStore>,
    pub uploads: Arc<dyn AudioUploads>,
    pub media: Arc<dyn MediaStore>,
    pub job_timeout: Duration,
    pub audio_retention: Duration,
}

impl Deps {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let dynamodb = aws::dynamodb_client(sdk);
        let s3 = aws::s3_client(sdk);
        let bucket = Env::require(vars::MEDIA_BUCKET)?;
        let timeout: u64 = Env::parse_or(vars::JOB_TIMEOUT_SECONDS, DEFAULT_JOB_TIMEOUT_SECONDS)?;
        let retention_days: u32 =
            Env::parse_or(vars::AUDIO_RETENTION_DAYS, DEFAULT_AUDIO_RETENTION_DAYS)?;
        Ok(Self {
            jobs: Arc::new(DynamoJobs::new(
                dynamodb.clone(),
                Env::require(vars::JOBS_TABLE)?,
            )),
            connections: Arc::new(DynamoConnections::new(
                dynamodb,
                Env::require(vars::CONNECTIONS_TABLE)?,
            )),
            uploads: Arc::new(S3Uploads {
                client: s3.clone(),
                bucket: bucket.clone(),
            }),
            media: Arc::new(S3Media::new(s3, bucket)),
            job_timeout: Duration::from_secs(timeout),
            audio_retention: Duration::from_secs(u64::from(retention_days) * 24 * 60 * 60),
        })
    }
}

/// Lists uploaded recordings by age.
#[async_trait]
pub trait AudioUploads: Send + Sync {
    /// Keys under `audio/` last modified before `cutoff`.
    async fn older_than(&self, cutoff: DateTime<Utc>) -> Result<Vec<String>, StoreError>;
}

/// [`AudioUploads`] by listing the media bucket.
pub struct S3Uploads {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
}

#[async_trait]
impl AudioUploads for S3Uploads {
    async fn older_than(&self, cutoff: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let cutoff_seconds = cutoff.timestamp();
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix("audio/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| StoreError::Backend {
                operation: "listing audio uploads",
                detail: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
            })?;
            keys.extend(
                page.contents
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|object| {
                        let old = object
                            .last_modified
                            .is_some_and(|at| at.secs() < cutoff_seconds);
                        old.then_some(object.key).flatten()
                    }),
            );
        }
        Ok(keys)
    }
}

/// What a run did; logged as one line and returned as the invocation's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub stuck_jobs_failed: usize,
    pub audio_deleted: usize,
    pub audio_kept_in_use: usize,
    pub connections_removed: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn handle(deps: &Deps, _event: EventBridgeEvent) -> Result<Report, CleanupError> {
    run(deps, Utc::now()).await
}

/// One cleanup as of `now`. Its three parts touch different records, so they run at once: the
/// invocation takes as long as the slowest, not the sum.
pub async fn run(deps: &Deps, now: DateTime<Utc>) -> Result<Report, CleanupError> {
    let (stuck_jobs_failed, (audio_deleted, audio_kept_in_use), connections_removed) = tokio::try_join!(
        fail_stuck_jobs(deps, now),
        delete_unused_audio(deps, now),
        remove_expired_connections(deps, now),
    )?;
    let report = Report {
        stuck_jobs_failed,
        audio_deleted,
        audio_kept_in_use,
        connections_removed,
    };
    tracing::info!(
        stuck_jobs_failed = report.stuck_jobs_failed,
        audio_deleted = report.audio_deleted,
        audio_kept_in_use = report.audio_kept_in_use,
        connections_removed = report.connections_removed,
        "cleanup finished"
    );
    Ok(report)
}

/// Fails the jobs still running `job_timeout` after their last change; returns how many.
async fn fail_stuck_jobs(deps: &Deps, now: DateTime<Utc>) -> Result<usize, CleanupError> {
    let cutoff = before(now, deps.job_timeout);
    let mut failed = 0;
    for job in deps.jobs.stuck(cutoff).await? {
        if deps
            .jobs
            .fail_if_stuck(&job.job_id, cutoff, STUCK_REASON)
            .await?
        {
            tracing::info!(job_id = %job.job_id, status = job.status.as_str(), "stuck job failed");
            failed += 1;
        }
    }
    Ok(failed)
}

/// Deletes recordings older than the retention that no job refers to; returns how many were
/// deleted and how many old ones were kept because a job still refers to them.
async fn delete_unused_audio(
    deps: &Deps,
    now: DateTime<Utc>,
) -> Result<(usize, usize), CleanupError> {
    let old_audio = deps
        .uploads
        .older_than(before(now, deps.audio_retention))
        .await?;
    if old_audio.is_empty() {
        return Ok((0, 0));
    }
    let in_use = deps.jobs.audio_keys_in_use().await?;
    let (kept, expired): (Vec<String>, Vec<String>) =
        old_audio.into_iter().partition(|key| in_use.contains(key));
    for batch in expired.chunks(DELETE_BATCH) {
        deps.media.delete(batch).await?;
    }
    Ok((expired.len(), kept.len()))
}

/// Deletes connection records past their TTL that DynamoDB has not removed yet.
async fn remove_expired_connections(
    deps: &Deps,
    now: DateTime<Utc>,
) -> Result<usize, CleanupError> {
    let expired = deps.connections.expired(now).await?;
    for connection_id in &expired {
        deps.connections.delete(connection_id).await?;
    }
    Ok(expired.len())
}

/// `now` minus `age`, saturating at the earliest time for absurd settings.
fn before(now: DateTime<Utc>, age: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(age)
        .ok()
        .and_then(|age| now.checked_sub_signed(age))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}
