//! The image processor: for every PNG stored under `images/{userId}/{imageId}.png` (the media
//! bucket's EventBridge "Object Created" event), a 256 px JPEG thumbnail under `thumbnails/{userId}/{imageId}.jpg`, and the
//! image's width, height, size and dominant colour in its record.
//!
//! A broken or non-image object is logged and skipped: the invocation succeeds, so it is never
//! retried. Only a failure of our own storage fails the invocation, and EventBridge's asynchronous
//! invoke retries that a bounded number of times (the app stack's event invoke config).

pub mod thumbnail;

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use mumble_core::config::vars;
use mumble_core::contract::{KeySchema, Table};
use mumble_core::store::media::keys;
use mumble_core::store::{DynamoImages, ImageStore, MediaStore, S3Media, StoreError};
use mumble_core::{ConfigError, Env, aws};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

/// The images table's key (`imageId` + `createdAt`).
const KEY: KeySchema = Table::Images.key();

pub struct Deps {
    pub media: Arc<dyn MediaStore>,
    pub details: Arc<dyn ImageDetailsStore>,
}

impl Deps {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let table = Env::require(vars::IMAGES_TABLE)?;
        Ok(Self {
            media: Arc::new(S3Media::new(
                aws::s3_client(sdk),
                Env::require(vars::MEDIA_BUCKET)?,
            )),
            details: Arc::new(DynamoImageDetails::new(aws::dynamodb_client(sdk), table)),
        })
    }
}

/// What the processor learns about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDetails {
    pub thumbnail_key: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub dominant_color: String,
}

/// Writes [`ImageDetails`] into image records.
#[async_trait]
pub trait ImageDetailsStore: Send + Sync {
    /// Whether the record existed and was updated.
    async fn record(&self, image_id: &str, details: &ImageDetails) -> Result<bool, StoreError>;
}

/// [`ImageDetailsStore`] on the images table: an `UpdateItem` of the five attributes, so the
/// processor needs no right to replace whole records.
pub struct DynamoImageDetails {
    images: DynamoImages,
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoImageDetails {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        let table = table.into();
        Self {
            images: DynamoImages::new(client.clone(), table.clone()),
            client,
            table,
        }
    }
}

#[async_trait]
impl ImageDetailsStore for DynamoImageDetails {
    async fn record(&self, image_id: &str, details: &ImageDetails) -> Result<bool, StoreError> {
        let Some(image) = self.images.get(image_id).await? else {
            return Ok(false);
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY.partition, AttributeValue::S(image.image_id))
            .key(KEY.sort_key(), AttributeValue::S(image.created_at))
            .update_expression(
                "SET thumbnailKey = :thumbnail, width = :width, height = :height, #bytes = :bytes, dominantColor = :color",
            )
            .condition_expression("attribute_exists(imageId)")
            .expression_attribute_names("#bytes", "bytes")
            .expression_attribute_values(":thumbnail", AttributeValue::S(details.thumbnail_key.clone()))
            .expression_attribute_values(":width", AttributeValue::N(details.width.to_string()))
            .expression_attribute_values(":height", AttributeValue::N(details.height.to_string()))
            .expression_attribute_values(":bytes", AttributeValue::N(details.bytes.to_string()))
            .expression_attribute_values(":color", AttributeValue::S(details.dominant_color.clone()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            // Deleted between the read and the update.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::Backend {
                operation: "recording image details",
                detail: aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
            }),
        }
    }
}

/// What one invocation did, per object (the Lambda result, for logs and tests).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub thumbnails: usize,
    /// Objects that were not images we can read; logged, never retried.
    pub broken: usize,
    /// Keys outside `images/{userId}/{imageId}.png`, or objects already gone.
    pub ignored: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The media bucket's EventBridge "Object Created" event (`source` `aws.s3`).
pub type ObjectCreatedEvent = EventBridgeEvent<ObjectCreated>;

/// The `detail` of an S3 "Object Created" event on EventBridge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectCreated {
    pub bucket: CreatedBucket,
    pub object: CreatedObject,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedBucket {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedObject {
    /// The key as stored: unlike S3 notification records, EventBridge's S3 events carry the key
    /// without URL encoding, so it is used verbatim (decoding would corrupt a `+` or `%`).
    pub key: String,
    pub size: Option<u64>,
}

pub async fn handle(deps: &Deps, event: ObjectCreatedEvent) -> Result<Report, ProcessError> {
    // An image takes its job's id, so the processor's lines follow the job like the worker's.
    match parse_image_key(&event.detail.object.key) {
        Some((user_id, image_id)) => {
            let span = mumble_core::telemetry::job_span(image_id, user_id);
            handle_object(deps, &event).instrument(span).await
        }
        None => handle_object(deps, &event).await,
    }
}

async fn handle_object(deps: &Deps, event: &ObjectCreatedEvent) -> Result<Report, ProcessError> {
    let mut report = Report::default();
    let key = &event.detail.object.key;
    tracing::info!(
        bucket = %event.detail.bucket.name,
        key,
        size = event.detail.object.size,
        "object created"
    );
    match process(deps, key).await? {
        Processed::Thumbnail => report.thumbnails += 1,
        Processed::Broken => report.broken += 1,
        Processed::Ignored => report.ignored += 1,
    }
    tracing::info!(
        thumbnails = report.thumbnails,
        broken = report.broken,
        ignored = report.ignored,
        "processed"
    );
    Ok(report)
}

enum Processed {
    Thumbnail,
    Broken,
    Ignored,
}

async fn process(deps: &Deps, key: &str) -> Result<Processed, StoreError> {
    let Some((user_id, image_id)) = parse_image_key(key) else {
        tracing::warn!(key, "not an image key; ignored");
        return Ok(Processed::Ignored);
    };
    let Some(original) = deps.media.get(key).await? else {
        tracing::warn!(key, "the object is gone; ignored");
        return Ok(Processed::Ignored);
    };
    let thumbnail = match thumbnail::make(&original) {
        Ok(thumbnail) => thumbnail,
        Err(e) => {
            tracing::warn!(key, error = %e, bytes = original.len(), "broken image skipped");
            return Ok(Processed::Broken);
        }
    };
    let thumbnail_key = keys::thumbnail(user_id, image_id);
    deps.media
        .put(&thumbnail_key, thumbnail.jpeg, "image/jpeg")
        .await?;
    let details = ImageDetails {
        thumbnail_key,
        width: thumbnail.width,
        height: thumbnail.height,
        bytes: original.len() as u64,
        dominant_color: thumbnail.dominant_color,
    };
    if !deps.details.record(image_id, &details).await? {
        tracing::warn!(
            key,
            "the image has no record (deleted?); thumbnail kept without details"
        );
    }
    Ok(Processed::Thumbnail)
}

/// `(userId, imageId)` of `images/{userId}/{imageId}.png`.
pub fn parse_image_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("images/")?;
    let (user_id, file) = rest.split_once('/')?;
    let image_id = file.strip_suffix(".png")?;
    let plain = |s: &str| !s.is_empty() && !s.contains('/') && s != "." && s != "..";
    (plain(user_id) && plain(image_id)).then_some((user_id, image_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_keys_are_recognised() {
        assert_eq!(parse_image_key("images/u1/i1.png"), Some(("u1", "i1")));
        assert_eq!(parse_image_key("thumbnails/u1/i1.jpg"), None);
        assert_eq!(parse_image_key("images/u1/nested/i1.png"), None);
        assert_eq!(parse_image_key("images/u1/.png"), None);
        assert_eq!(parse_image_key("images/u1/i1.jpg"), None);
    }
}
