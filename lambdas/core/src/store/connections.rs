//! Open WebSocket connections: the connections table (key `connectionId`, GSI `UserIndex` on
//! `userId`, TTL attribute `expiresAt`), so the worker can push job updates to every browser tab
//! of a user.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use mumble_contract::tables::TTL_ATTRIBUTE;
use mumble_contract::{Index, Table};
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

/// The table's key attribute (`connectionId`).
const KEY: &str = Table::Connections.key().partition;
/// The GSI listing a user's connections.
const BY_USER: Index = Table::Connections.indexes()[0];
/// API Gateway closes every WebSocket connection after two hours at the latest, so a record older
/// than that belongs to a connection whose `$disconnect` was lost.
pub const CONNECTION_TTL: Duration = Duration::hours(2);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub connection_id: String,
    pub user_id: String,
    pub connected_at: String,
    /// DynamoDB TTL (epoch seconds).
    pub expires_at: i64,
}

impl Connection {
    pub fn new(
        connection_id: impl Into<String>,
        user_id: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            connection_id: connection_id.into(),
            user_id: user_id.into(),
            connected_at: crate::time::format(now),
            expires_at: crate::time::epoch_seconds(now + CONNECTION_TTL),
        }
    }

    /// Ends the connection's authorization at `token_expires_at` if that comes first: a
    /// connection is as signed in as the token it was opened with, and no longer.
    pub fn until(mut self, token_expires_at: DateTime<Utc>) -> Self {
        self.expires_at = self
            .expires_at
            .min(crate::time::epoch_seconds(token_expires_at));
        self
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= crate::time::epoch_seconds(now)
    }
}

#[async_trait]
pub trait ConnectionStore: Send + Sync {
    async fn put(&self, connection: &Connection) -> Result<(), StoreError>;
    async fn get(&self, connection_id: &str) -> Result<Option<Connection>, StoreError>;
    /// Removing a connection that is not there is not an error.
    async fn delete(&self, connection_id: &str) -> Result<(), StoreError>;
    /// `user_id`'s connections that have not expired.
    async fn list_by_user(&self, user_id: &str) -> Result<Vec<Connection>, StoreError>;
    /// Ids of connections expired at `now` that DynamoDB's TTL has not removed yet.
    async fn expired(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError>;
}

/// [`ConnectionStore`] on DynamoDB.
pub struct DynamoConnections {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoConnections {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
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

fn decode<T: serde::de::DeserializeOwned>(
    items: Vec<std::collections::HashMap<String, AttributeValue>>,
) -> Result<Vec<T>, StoreError> {
    serde_dynamo::from_items(items).map_err(|e| StoreError::Backend {
        operation: "decoding connections",
        detail: e.to_string(),
    })
}

#[async_trait]
impl ConnectionStore for DynamoConnections {
    async fn put(&self, connection: &Connection) -> Result<(), StoreError> {
        let item = serde_dynamo::to_item(connection).map_err(|e| StoreError::Backend {
            operation: "encoding a connection",
            detail: e.to_string(),
        })?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| backend("storing a connection", &e))?;
        Ok(())
    }

    async fn get(&self, connection_id: &str) -> Result<Option<Connection>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(connection_id.to_owned()))
            .send()
            .await
            .map_err(|e| backend("reading a connection", &e))?;
        Ok(decode(output.item.into_iter().collect())?
            .into_iter()
            .next())
    }

    async fn delete(&self, connection_id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(connection_id.to_owned()))
            .send()
            .await
            .map_err(|e| backend("removing a connection", &e))?;
        Ok(())
    }

    async fn list_by_user(&self, user_id: &str) -> Result<Vec<Connection>, StoreError> {
        let now = Utc::now();
        let mut connections = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(BY_USER.name)
                .key_condition_expression(format!("{} = :user", BY_USER.key.partition))
                .expression_attribute_values(":user", AttributeValue::S(user_id.to_owned()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("listing connections", &e))?;
            connections.extend(decode::<Connection>(output.items.unwrap_or_default())?);
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        connections.retain(|c| !c.is_expired(now));
        Ok(connections)
    }

    async fn expired(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(format!("{TTL_ATTRIBUTE} <= :now"))
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(crate::time::epoch_seconds(now).to_string()),
                )
                .projection_expression(KEY)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("scanning connections", &e))?;
            ids.extend(
                output
                    .items
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|mut item| match item.remove(KEY) {
                        Some(AttributeValue::S(id)) => Some(id),
                        _ => None,
                    }),
            );
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(ids),
            }
        }
    }
}
