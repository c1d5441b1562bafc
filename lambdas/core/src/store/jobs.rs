//! Generation jobs: the jobs table (key `jobId`, TTL attribute `expiresAt`), the job states, and
//! idempotent creation.
//!
//! An `Idempotency-Key` is stored as its own item in the same table (`jobId` =
//! `idempotency#{userId}#{key}`, expiring after 24 h) written in one transaction with the job, so
//! two requests racing with the same key cannot both create a job. Job items always have a
//! `status`; key items never do, which is how scans tell them apart.
//!
//! A job is started under [`StartLimits`], checked in the same transaction that stores it: the
//! recording's claim (`jobId` = `recording#{audioKey}`, so one recording becomes at most one
//! picture) and the user's counter for the UTC day (`quota#{userId}#{day}`, see
//! [`crate::store::quota`]). A retry with the same `Idempotency-Key` finds its key item and its job
//! and takes neither the recording nor the quota again. Neither item has a `status` or an
//! `audioKey`, so the scans for stuck jobs and for audio in use pass them by.
//!
//! State changes are conditional on the job not being finished: once the cleanup has failed a
//! stuck job, a late worker cannot revive it, and a finished job is never failed afterwards.
//!
//! One file over 500 lines: the job states, the idempotent-creation transaction and the quota
//! it takes are one consistency rule, kept together with their tests.

use std::collections::HashSet;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use mumble_contract::Table;
use mumble_contract::tables::TTL_ATTRIBUTE;

use crate::store::{Coordinates, StoreError, quota};
use crate::weather::Weather;

/// The jobs table's key attribute (`jobId`).
const KEY: &str = Table::Jobs.key().partition;

/// How long an `Idempotency-Key` keeps answering with the same job.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::hours(24);
/// How long a job record is kept for polling; the image record is the lasting result.
pub const JOB_RETENTION: Duration = Duration::days(30);
/// Default for `JOB_TIMEOUT_SECONDS`: three worker attempts of 300 s each (Lambda's async retries).
pub const DEFAULT_JOB_TIMEOUT_SECONDS: u64 = 900;

/// A job's state: the API's type.
pub use mumble_contract::api::JobStatus;

/// A generation job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub job_id: String,
    pub user_id: String,
    pub status: JobStatus,
    pub audio_key: String,
    /// ISO-639-1 hint for transcription.
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Coordinates>,
    /// The words, when the request carried them (used by the offline provider only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplied_transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weather: Option<Weather>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// Why the job failed, in words for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// DynamoDB TTL (epoch seconds).
    pub expires_at: i64,
}

/// What a new job is made from.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub job_id: String,
    pub user_id: String,
    pub audio_key: String,
    pub language: String,
    pub style: Option<String>,
    pub location: Option<Coordinates>,
    pub supplied_transcript: Option<String>,
}

impl NewJob {
    /// The `queued` job record, created `now`.
    pub fn into_job(self, now: DateTime<Utc>) -> Job {
        let stamp = crate::time::format(now);
        Job {
            job_id: self.job_id,
            user_id: self.user_id,
            status: JobStatus::Queued,
            audio_key: self.audio_key,
            language: self.language,
            style: self.style,
            location: self.location,
            supplied_transcript: self.supplied_transcript,
            transcript: None,
            weather: None,
            prompt: None,
            image_id: None,
            error: None,
            created_at: stamp.clone(),
            updated_at: stamp,
            expires_at: crate::time::epoch_seconds(now + JOB_RETENTION),
        }
    }
}

/// The result of [`JobStore::create`].
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// A new job was stored; start the worker.
    New(Job),
    /// The idempotency key was used within the window: this is its job; start nothing.
    Existing(Job),
    /// The recording already has a job (this one); nothing was stored.
    RecordingUsed { job_id: String },
    /// The user started their daily number of jobs; the count starts again after `retry_after`.
    QuotaReached { retry_after: std::time::Duration },
}

/// What a new job must respect; the defaults check nothing (tests and tools storing jobs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartLimits {
    /// One job per recording (`audioKey`), ever (as long as the job record is kept).
    pub one_per_recording: bool,
    /// Jobs one user may start per UTC day.
    pub per_user_per_day: Option<u32>,
}

/// A state change, with what the step found out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub transcript: Option<String>,
    pub weather: Option<Weather>,
    pub prompt: Option<String>,
    pub image_id: Option<String>,
    pub error: Option<String>,
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores `job`; with `idempotency_key`, returns the key's job instead when `job.user_id`
    /// used the same key within [`IDEMPOTENCY_WINDOW`].
    async fn create(
        &self,
        job: &Job,
        idempotency_key: Option<&str>,
    ) -> Result<Created, StoreError> {
        self.create_limited(job, idempotency_key, StartLimits::default())
            .await
    }
    /// [`JobStore::create`], refusing the job when it would break `limits`.
    async fn create_limited(
        &self,
        job: &Job,
        idempotency_key: Option<&str>,
        limits: StartLimits,
    ) -> Result<Created, StoreError>;
    async fn get(&self, job_id: &str) -> Result<Option<Job>, StoreError>;
    /// Gives the job's recording back (its worker never started), so it can be used again.
    async fn release_recording(&self, job: &Job) -> Result<(), StoreError>;
    /// Moves the job to `status` with `progress`; `None` when the job is missing or finished
    /// (the caller should stop working on it).
    async fn advance(
        &self,
        job_id: &str,
        status: JobStatus,
        progress: Progress,
    ) -> Result<Option<Job>, StoreError>;
    /// Jobs still running whose last change is older than `cutoff`.
    async fn stuck(&self, cutoff: DateTime<Utc>) -> Result<Vec<Job>, StoreError>;
    /// Fails the job with `reason` if it is still running and unchanged since `cutoff`; whether
    /// it did.
    async fn fail_if_stuck(
        &self,
        job_id: &str,
        cutoff: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, StoreError>;
    /// The audio keys that some job record refers to.
    async fn audio_keys_in_use(&self) -> Result<HashSet<String>, StoreError>;

    /// The job if `user_id` owns it; `None` for missing and for other users' jobs alike.
    async fn get_owned(&self, user_id: &str, job_id: &str) -> Result<Option<Job>, StoreError> {
        Ok(self.get(job_id).await?.filter(|job| job.user_id == user_id))
    }
}

/// [`JobStore`] on DynamoDB.
pub struct DynamoJobs {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoJobs {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get_item(
        &self,
        id: &str,
    ) -> Result<Option<std::collections::HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("reading a job", &e))?;
        Ok(output.item)
    }

    /// Which condition refused a job, read back in the order a caller should hear about it: a
    /// retry's own job first, then the recording's job, then the quota.
    async fn why_not_created(
        &self,
        job: &Job,
        key_id: Option<&str>,
        limits: StartLimits,
        now: DateTime<Utc>,
    ) -> Result<Created, StoreError> {
        let in_flight =
            || StoreError::AlreadyExists("a request with this Idempotency-Key".to_owned());
        let now_seconds = crate::time::epoch_seconds(now);
        let target = |item: &std::collections::HashMap<String, AttributeValue>| match item
            .get("targetJobId")
        {
            Some(AttributeValue::S(id)) => Ok(id.clone()),
            _ => Err(StoreError::Backend {
                operation: "reading a job's claim",
                detail: "the item has no targetJobId".to_owned(),
            }),
        };
        if let Some(key_id) = key_id
            && let Some(key_item) = self.get_item(key_id).await?
            && number(&key_item, TTL_ATTRIBUTE) >= now_seconds
        {
            let existing = self
                .get_item(&target(&key_item)?)
                .await?
                .map(decode_job)
                .transpose()?;
            return existing.map(Created::Existing).ok_or_else(in_flight);
        }
        if limits.one_per_recording
            && let Some(claim) = self.get_item(&recording_item_id(&job.audio_key)).await?
            && number(&claim, TTL_ATTRIBUTE) >= now_seconds
        {
            return Ok(Created::RecordingUsed {
                job_id: target(&claim)?,
            });
        }
        if let Some(quota) = limits.per_user_per_day {
            let used = self
                .get_item(&quota::user_day_id(&job.user_id, now))
                .await?
                .map(|item| number(&item, quota::COUNT))
                .unwrap_or(0);
            if used >= i64::from(quota) {
                return Ok(Created::QuotaReached {
                    retry_after: quota::until_tomorrow(now),
                });
            }
        }
        Err(in_flight())
    }

    /// Every item matching `filter`, across scan pages.
    async fn scan(
        &self,
        filter: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
        projection: Option<&str>,
    ) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut request = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(filter)
                .set_projection_expression(projection.map(str::to_owned))
                .set_exclusive_start_key(start.take());
            for (placeholder, name) in names {
                request = request.expression_attribute_names(*placeholder, *name);
            }
            for (placeholder, value) in &values {
                request = request.expression_attribute_values(*placeholder, value.clone());
            }
            let output = request
                .send()
                .await
                .map_err(|e| backend("scanning jobs", &e))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }
}

fn idempotency_item_id(user_id: &str, key: &str) -> String {
    format!("idempotency#{user_id}#{key}")
}

fn recording_item_id(audio_key: &str) -> String {
    format!("recording#{audio_key}")
}

fn build_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend {
        operation: "creating a job",
        detail: e.to_string(),
    }
}

fn number(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> i64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

fn backend<E, R>(operation: &'static str, e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Backend {
        operation,
        detail: aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string(),
    }
}

fn decode_job(item: std::collections::HashMap<String, AttributeValue>) -> Result<Job, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Backend {
        operation: "decoding a job",
        detail: e.to_string(),
    })
}

fn running_values() -> Vec<(String, AttributeValue)> {
    JobStatus::RUNNING
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                format!(":running{i}"),
                AttributeValue::S(s.as_str().to_owned()),
            )
        })
        .collect()
}

fn running_list() -> String {
    (0..JobStatus::RUNNING.len())
        .map(|i| format!(":running{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl JobStore for DynamoJobs {
    async fn create_limited(
        &self,
        job: &Job,
        idempotency_key: Option<&str>,
        limits: StartLimits,
    ) -> Result<Created, StoreError> {
        let item = serde_dynamo::to_item(job).map_err(|e| StoreError::Backend {
            operation: "encoding a job",
            detail: e.to_string(),
        })?;
        let now = Utc::now();
        let now_seconds = AttributeValue::N(crate::time::epoch_seconds(now).to_string());
        let mut writes = Vec::new();
        let key_id = idempotency_key.map(|key| idempotency_item_id(&job.user_id, key));
        if let Some(key_id) = &key_id {
            let key_item = Put::builder()
                .table_name(&self.table)
                .item(KEY, AttributeValue::S(key_id.clone()))
                .item("targetJobId", AttributeValue::S(job.job_id.clone()))
                .item("userId", AttributeValue::S(job.user_id.clone()))
                .item("createdAt", AttributeValue::S(crate::time::format(now)))
                .item(
                    TTL_ATTRIBUTE,
                    AttributeValue::N(
                        crate::time::epoch_seconds(now + IDEMPOTENCY_WINDOW).to_string(),
                    ),
                )
                // DynamoDB deletes expired items only eventually, so an expired key is overwritten.
                .condition_expression(format!(
                    "attribute_not_exists({KEY}) OR {TTL_ATTRIBUTE} < :now"
                ))
                .expression_attribute_values(":now", now_seconds.clone())
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().put(key_item).build());
        }
        if limits.one_per_recording {
            let claim = Put::builder()
                .table_name(&self.table)
                .item(KEY, AttributeValue::S(recording_item_id(&job.audio_key)))
                .item("targetJobId", AttributeValue::S(job.job_id.clone()))
                .item("userId", AttributeValue::S(job.user_id.clone()))
                .item(
                    TTL_ATTRIBUTE,
                    AttributeValue::N(crate::time::epoch_seconds(now + JOB_RETENTION).to_string()),
                )
                .condition_expression(format!(
                    "attribute_not_exists({KEY}) OR {TTL_ATTRIBUTE} < :now"
                ))
                .expression_attribute_values(":now", now_seconds.clone())
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().put(claim).build());
        }
        if let Some(quota) = limits.per_user_per_day {
            let count = Update::builder()
                .table_name(&self.table)
                .key(
                    KEY,
                    AttributeValue::S(quota::user_day_id(&job.user_id, now)),
                )
                .update_expression(format!("ADD #used :one SET {TTL_ATTRIBUTE} = :expires"))
                .condition_expression("attribute_not_exists(#used) OR #used < :quota")
                .expression_attribute_names("#used", quota::COUNT)
                .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
                .expression_attribute_values(":quota", AttributeValue::N(quota.to_string()))
                .expression_attribute_values(
                    ":expires",
                    AttributeValue::N(quota::expires_at(now).to_string()),
                )
                .build()
                .map_err(build_error)?;
            writes.push(TransactWriteItem::builder().update(count).build());
        }
        if writes.is_empty() {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(format!("attribute_not_exists({KEY})"))
                .send()
                .await
                .map_err(|e| backend("creating a job", &e))?;
            return Ok(Created::New(job.clone()));
        }
        let job_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(format!("attribute_not_exists({KEY})"))
            .build()
            .map_err(build_error)?;
        writes.push(TransactWriteItem::builder().put(job_put).build());
        let written = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        match written {
            Ok(_) => Ok(Created::New(job.clone())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_transaction_canceled_exception()) =>
            {
                self.why_not_created(job, key_id.as_deref(), limits, now)
                    .await
            }
            Err(e) => Err(backend("creating a job", &e)),
        }
    }

    async fn release_recording(&self, job: &Job) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(recording_item_id(&job.audio_key)))
            .condition_expression("targetJobId = :job")
            .expression_attribute_values(":job", AttributeValue::S(job.job_id.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Claimed by another job, or never claimed: nothing of this job's to give back.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(backend("releasing a recording", &e)),
        }
    }

    async fn get(&self, job_id: &str) -> Result<Option<Job>, StoreError> {
        // Idempotency items share the table; no job id contains '#'.
        if job_id.contains('#') {
            return Ok(None);
        }
        self.get_item(job_id).await?.map(decode_job).transpose()
    }

    async fn advance(
        &self,
        job_id: &str,
        status: JobStatus,
        progress: Progress,
    ) -> Result<Option<Job>, StoreError> {
        let mut sets = vec!["#status = :status", "updatedAt = :now"];
        let mut values = vec![
            (":status", AttributeValue::S(status.as_str().to_owned())),
            (":now", AttributeValue::S(crate::time::now())),
            (
                ":done",
                AttributeValue::S(JobStatus::Done.as_str().to_owned()),
            ),
            (
                ":failed",
                AttributeValue::S(JobStatus::Failed.as_str().to_owned()),
            ),
        ];
        let text = |v: String| AttributeValue::S(v);
        if let Some(transcript) = progress.transcript {
            sets.push("transcript = :transcript");
            values.push((":transcript", text(transcript)));
        }
        if let Some(weather) = progress.weather {
            let value =
                serde_dynamo::to_attribute_value(&weather).map_err(|e| StoreError::Backend {
                    operation: "encoding weather",
                    detail: e.to_string(),
                })?;
            sets.push("weather = :weather");
            values.push((":weather", value));
        }
        if let Some(prompt) = progress.prompt {
            sets.push("prompt = :prompt");
            values.push((":prompt", text(prompt)));
        }
        if let Some(image_id) = progress.image_id {
            sets.push("imageId = :imageId");
            values.push((":imageId", text(image_id)));
        }
        if let Some(error) = progress.error {
            sets.push("#error = :error");
            values.push((":error", text(error)));
        }
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(job_id.to_owned()))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression("attribute_exists(jobId) AND NOT #status IN (:done, :failed)")
            .expression_attribute_names("#status", "status")
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        if sets.iter().any(|s| s.starts_with("#error")) {
            request = request.expression_attribute_names("#error", "error");
        }
        for (placeholder, value) in values {
            request = request.expression_attribute_values(placeholder, value);
        }
        match request.send().await {
            Ok(output) => output.attributes.map(decode_job).transpose(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(backend("updating a job", &e)),
        }
    }

    async fn stuck(&self, cutoff: DateTime<Utc>) -> Result<Vec<Job>, StoreError> {
        let filter = format!("#status IN ({}) AND updatedAt < :cutoff", running_list());
        let running = running_values();
        let mut values: Vec<(&str, AttributeValue)> = running
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        values.push((":cutoff", AttributeValue::S(crate::time::format(cutoff))));
        let items = self
            .scan(&filter, &[("#status", "status")], values, None)
            .await?;
        items.into_iter().map(decode_job).collect()
    }

    async fn fail_if_stuck(
        &self,
        job_id: &str,
        cutoff: DateTime<Utc>,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let running = running_values();
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(job_id.to_owned()))
            .update_expression("SET #status = :failed, #error = :reason, updatedAt = :now")
            .condition_expression(format!(
                "#status IN ({}) AND updatedAt < :cutoff",
                running_list()
            ))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#error", "error")
            .expression_attribute_values(
                ":failed",
                AttributeValue::S(JobStatus::Failed.as_str().to_owned()),
            )
            .expression_attribute_values(":reason", AttributeValue::S(reason.to_owned()))
            .expression_attribute_values(":now", AttributeValue::S(crate::time::now()))
            .expression_attribute_values(":cutoff", AttributeValue::S(crate::time::format(cutoff)));
        for (placeholder, value) in running {
            request = request.expression_attribute_values(placeholder, value);
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(backend("failing a stuck job", &e)),
        }
    }

    async fn audio_keys_in_use(&self) -> Result<HashSet<String>, StoreError> {
        let items = self
            .scan(
                "attribute_exists(audioKey)",
                &[],
                Vec::new(),
                Some("audioKey"),
            )
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|mut item| match item.remove("audioKey") {
                Some(AttributeValue::S(key)) => Some(key),
                _ => None,
            })
            .collect())
    }
}
