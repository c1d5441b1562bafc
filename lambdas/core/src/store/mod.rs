//! Data adapters behind small traits ("ports"): user profiles, image records, jobs and WebSocket
//! connections in DynamoDB, media objects in S3, daily counters. Handlers depend on the traits; tests and the local gateway may swap them.

pub mod connections;
mod cursor;
pub mod images;
pub mod jobs;
pub mod media;
pub mod quota;
pub mod users;

pub use images::{Coordinates, DynamoImages, ImagePage, ImageRecord, ImageStore};
pub use media::{MediaStore, ObjectInfo, PresignedRequest, S3Media};
pub use quota::{DynamoProviderBudget, ProviderBudget};
pub use users::{DynamoUsers, UserProfile, UserStore};

use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A pagination cursor that we did not issue for this caller.
    #[error("the cursor is not one this API returned")]
    InvalidCursor,
    /// A conditional create found the item already there.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The backend failed; the detail is for logs only.
    #[error("{operation} failed: {detail}")]
    Backend {
        operation: &'static str,
        detail: String,
    },
}

impl StoreError {
    pub(crate) fn backend(operation: &'static str, detail: impl std::fmt::Display) -> Self {
        Self::Backend {
            operation,
            detail: detail.to_string(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => ApiError::invalid(
                "cursor",
                "pass the nextCursor value of a previous page unchanged",
            ),
            StoreError::AlreadyExists(what) => ApiError::Conflict(format!("{what} already exists")),
            e @ StoreError::Backend { .. } => ApiError::unavailable(e),
        }
    }
}

/// The full error chain of an SDK call, for logs.
pub(crate) fn sdk_detail<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string()
}
