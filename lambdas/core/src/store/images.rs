//! Image records: the images table (key `imageId` + `createdAt`) and its `UserIndex` GSI
//! (partition `userId`, sort `createdAt`) for a user's images, newest first.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use mumble_contract::{Index, KeySchema, Table};
use serde::{Deserialize, Serialize};

use super::cursor::{decode_image_cursor, encode_image_cursor};
use super::{StoreError, sdk_detail};
use crate::weather::Weather;

/// The table's key (`imageId` + `createdAt`).
const KEY: KeySchema = Table::Images.key();
/// The GSI listing a user's images by time.
const BY_USER: Index = Table::Images.indexes()[0];

/// A stored image and what it was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRecord {
    pub image_id: String,
    /// See [`crate::time`]; the table's sort key and the index's order.
    pub created_at: String,
    pub user_id: String,
    /// `images/{userId}/{imageId}.png`
    pub image_key: String,
    /// `thumbnails/{userId}/{imageId}.jpg`, once the processor made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_key: Option<String>,
    #[serde(default)]
    pub transcript: String,
    #[serde(default)]
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weather: Option<Weather>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Coordinates>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// `#rrggbb`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dominant_color: Option<String>,
    /// Made by the offline provider (local development), not by the real image model.
    #[serde(default)]
    pub offline: bool,
    /// The picture itself is lost (moved from the old Mumble without its file): the record keeps
    /// what was said and when, and there is no image or thumbnail object to show.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unavailable: bool,
}

/// Where a recording was made: the API's type.
pub use mumble_contract::api::Coordinates;

/// One page of a user's images, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePage {
    pub images: Vec<ImageRecord>,
    /// Pass back to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

#[async_trait]
pub trait ImageStore: Send + Sync {
    /// Creates or replaces the record.
    async fn put(&self, record: &ImageRecord) -> Result<(), StoreError>;
    /// The record with `image_id`, whoever owns it.
    async fn get(&self, image_id: &str) -> Result<Option<ImageRecord>, StoreError>;
    /// `user_id`'s images, newest first, `limit` per page, after `cursor` (from a previous page).
    async fn list_by_user(
        &self,
        user_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<ImagePage, StoreError>;
    /// Removes the record (not its media objects).
    async fn delete(&self, image_id: &str, created_at: &str) -> Result<(), StoreError>;

    /// The record with `image_id` if `user_id` owns it. Callers answer 404 for `None` whether the
    /// image is missing or someone else's, so ids of other users' images reveal nothing.
    async fn get_owned(
        &self,
        user_id: &str,
        image_id: &str,
    ) -> Result<Option<ImageRecord>, StoreError> {
        Ok(self.get(image_id).await?.filter(|r| r.user_id == user_id))
    }
}

/// [`ImageStore`] on DynamoDB.
pub struct DynamoImages {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoImages {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl ImageStore for DynamoImages {
    async fn put(&self, record: &ImageRecord) -> Result<(), StoreError> {
        let item = serde_dynamo::to_item(record)
            .map_err(|e| StoreError::backend("encoding an image", e))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::backend("storing an image", sdk_detail(&e)))?;
        Ok(())
    }

    async fn get(&self, image_id: &str) -> Result<Option<ImageRecord>, StoreError> {
        // The table's range key is createdAt, which callers do not know: query the one
        // partition instead of GetItem. An image id has exactly one record.
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression(format!("{} = :id", KEY.partition))
            .expression_attribute_values(":id", AttributeValue::S(image_id.to_owned()))
            .limit(1)
            .send()
            .await
            .map_err(|e| StoreError::backend("reading an image", sdk_detail(&e)))?;
        match output.items.unwrap_or_default().into_iter().next() {
            Some(item) => serde_dynamo::from_item(item)
                .map(Some)
                .map_err(|e| StoreError::backend("decoding an image", e)),
            None => Ok(None),
        }
    }

    async fn list_by_user(
        &self,
        user_id: &str,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<ImagePage, StoreError> {
        let start_key = cursor
            .map(|c| decode_image_cursor(c, user_id))
            .transpose()?;
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_USER.name)
            .key_condition_expression(format!("{} = :user", BY_USER.key.partition))
            .expression_attribute_values(":user", AttributeValue::S(user_id.to_owned()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit.max(1)).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start_key)
            .send()
            .await
            .map_err(|e| StoreError::backend("listing images", sdk_detail(&e)))?;
        let images = serde_dynamo::from_items(output.items.unwrap_or_default())
            .map_err(|e| StoreError::backend("decoding images", e))?;
        let next_cursor = match output.last_evaluated_key {
            Some(key) if !key.is_empty() => Some(encode_image_cursor(&key)?),
            _ => None,
        };
        Ok(ImagePage {
            images,
            next_cursor,
        })
    }

    async fn delete(&self, image_id: &str, created_at: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(KEY.partition, AttributeValue::S(image_id.to_owned()))
            .key(KEY.sort_key(), AttributeValue::S(created_at.to_owned()))
            .send()
            .await
            .map_err(|e| StoreError::backend("deleting an image", sdk_detail(&e)))?;
        Ok(())
    }
}
