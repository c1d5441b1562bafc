//! User profiles: the users table, key `userId`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use mumble_contract::Table;
use serde::{Deserialize, Serialize};

use super::{StoreError, sdk_detail};

/// A user's profile as stored and returned by `GET /api/v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub display_name: String,
    /// A BCP 47 language tag such as `zh-CN`; the default transcription and weather language.
    pub preferred_language: String,
    /// Whether the user agreed to send their location with recordings by default.
    #[serde(default)]
    pub location_consent: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn get(&self, user_id: &str) -> Result<Option<UserProfile>, StoreError>;
    /// Creates the profile; [`StoreError::AlreadyExists`] when one is already there (two first
    /// requests racing), so the first writer wins.
    async fn create(&self, profile: &UserProfile) -> Result<(), StoreError>;
    /// Replaces an existing profile.
    async fn save(&self, profile: &UserProfile) -> Result<(), StoreError>;
}

/// [`UserStore`] on DynamoDB.
pub struct DynamoUsers {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoUsers {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn put(
        &self,
        profile: &UserProfile,
        condition: &str,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        let item = serde_dynamo::to_item(profile)
            .map_err(|e| StoreError::backend("encoding a profile", e))?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                if condition.starts_with("attribute_not_exists") {
                    Err(StoreError::AlreadyExists("the profile".to_owned()))
                } else {
                    Err(StoreError::backend(
                        operation,
                        "the profile was removed meanwhile",
                    ))
                }
            }
            Err(e) => Err(StoreError::backend(operation, sdk_detail(&e))),
        }
    }
}

#[async_trait]
impl UserStore for DynamoUsers {
    async fn get(&self, user_id: &str) -> Result<Option<UserProfile>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(
                Table::Users.key().partition,
                AttributeValue::S(user_id.to_owned()),
            )
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::backend("reading a profile", sdk_detail(&e)))?;
        output
            .item
            .map(|item| {
                serde_dynamo::from_item(item)
                    .map_err(|e| StoreError::backend("decoding a profile", e))
            })
            .transpose()
    }

    async fn create(&self, profile: &UserProfile) -> Result<(), StoreError> {
        self.put(
            profile,
            "attribute_not_exists(userId)",
            "creating a profile",
        )
        .await
    }

    async fn save(&self, profile: &UserProfile) -> Result<(), StoreError> {
        self.put(profile, "attribute_exists(userId)", "saving a profile")
            .await
    }
}
