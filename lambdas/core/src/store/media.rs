//! Media objects in the S3 bucket: presigned uploads and downloads, reads, writes, deletes.
//!
//! Presigning is local computation with the function's credentials (no AWS call), so it is cheap
//! enough to do for every image on a gallery page.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use super::StoreError;

/// The object keys of the contracts.
pub mod keys {
    /// `audio/{userId}/{uuid}.{ext}`
    pub fn audio(user_id: &str, upload_id: &str, ext: &str) -> String {
        format!("audio/{user_id}/{upload_id}.{ext}")
    }

    /// The prefix under which only `user_id`'s audio lives (ownership check for `audioKey`s).
    pub fn audio_prefix(user_id: &str) -> String {
        format!("audio/{user_id}/")
    }

    /// `images/{userId}/{imageId}.png`
    pub fn image(user_id: &str, image_id: &str) -> String {
        format!("images/{user_id}/{image_id}.png")
    }

    /// `thumbnails/{userId}/{imageId}.jpg`
    pub fn thumbnail(user_id: &str, image_id: &str) -> String {
        format!("thumbnails/{user_id}/{image_id}.jpg")
    }
}

/// A request the client makes directly to S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    pub method: String,
    pub url: String,
    /// Headers the client must send exactly as given (they are part of the signature).
    pub headers: Vec<(String, String)>,
}

/// What `head` reports about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub content_type: Option<String>,
}

#[async_trait]
pub trait MediaStore: Send + Sync {
    /// A PUT URL valid for `expires_in` that only accepts exactly `content_type` and
    /// `content_length` bytes (both are signed headers).
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError>;
    /// A GET URL valid for `expires_in`.
    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, StoreError>;
    /// Size and type of the object, `None` when it does not exist.
    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError>;
    /// The object's bytes, `None` when it does not exist.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), StoreError>;
    /// Deletes the objects; missing ones are not an error.
    async fn delete(&self, keys: &[String]) -> Result<(), StoreError>;
}

/// [`MediaStore`] on S3.
pub struct S3Media {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Media {
    /// `client` should come from [`crate::aws::s3_client`] (path-style against the emulator).
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

fn presigning(expires_in: Duration) -> Result<PresigningConfig, StoreError> {
    PresigningConfig::expires_in(expires_in).map_err(|e| StoreError::backend("presigning", e))
}

fn s3_detail<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    aws_sdk_s3::error::DisplayErrorContext(e).to_string()
}

#[async_trait]
impl MediaStore for S3Media {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        let length = i64::try_from(content_length)
            .map_err(|e| StoreError::backend("presigning an upload", e))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| StoreError::backend("presigning an upload", s3_detail(&e)))?;
        Ok(PresignedRequest {
            method: request.method().to_owned(),
            url: request.uri().to_owned(),
            headers: request
                .headers()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        })
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, StoreError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(presigning(expires_in)?)
            .await
            .map_err(|e| StoreError::backend("presigning a download", s3_detail(&e)))?;
        Ok(request.uri().to_owned())
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => Ok(Some(ObjectInfo {
                size: output
                    .content_length
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: output.content_type,
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(StoreError::backend("inspecting an object", s3_detail(&e))),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(output) => {
                let bytes = output
                    .body
                    .collect()
                    .await
                    .map_err(|e| StoreError::backend("reading an object", e))?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(StoreError::backend("reading an object", s3_detail(&e))),
        }
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| StoreError::backend("writing an object", s3_detail(&e)))?;
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let objects = keys
            .iter()
            .map(|key| ObjectIdentifier::builder().key(key).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::backend("deleting objects", e))?;
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(|e| StoreError::backend("deleting objects", e))?;
        let output = self
            .client
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| StoreError::backend("deleting objects", s3_detail(&e)))?;
        match output.errors.unwrap_or_default().first() {
            Some(failed) => Err(StoreError::backend(
                "deleting objects",
                format!(
                    "{}: {}",
                    failed.key().unwrap_or("?"),
                    failed.message().unwrap_or("unknown error")
                ),
            )),
            None => Ok(()),
        }
    }
}
