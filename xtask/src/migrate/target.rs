//! The stage the migration writes to: its users and images tables, media bucket and user pool,
//! found through the stage's stack outputs, with the batch calls retried as AWS asks.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, MessageActionType, UserStatusType};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, WriteRequest};
use mumble_contract::{Output, Table};
use mumble_core::store::S3Media;

use super::keys::{self, Item};
use crate::aws;
use crate::outputs::StageOutputs;

/// How often a batch call is repeated for its unprocessed items before the run stops.
const MAX_ATTEMPTS: u32 = 10;

pub struct Target {
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The media bucket, through the same adapter the functions use.
    pub media: S3Media,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub users_table: String,
    pub images_table: String,
    pub user_pool: String,
}

/// A Cognito account for a legacy user.
#[derive(Debug, Clone)]
pub struct Account {
    /// The `sub`: the new user id.
    pub user_id: String,
    /// Whether the migration made it (as opposed to someone who signed up on the new site).
    pub migrated: bool,
}

impl Target {
    pub fn new(config: &SdkConfig, stage: &stacks::Stage, outputs: &StageOutputs) -> Result<Self> {
        Ok(Target {
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            media: S3Media::new(
                aws_sdk_s3::Client::new(config),
                outputs.require(stage, Output::MediaBucketName)?,
            ),
            cognito: aws_sdk_cognitoidentityprovider::Client::from_conf(
                aws_sdk_cognitoidentityprovider::config::Builder::from(config)
                    // Account creation is capped per account and region (AdminCreateUser: 50
                    // requests a second by default); adaptive retries slow the run down to what
                    // the pool accepts instead of failing it after three throttled attempts.
                    .retry_config(RetryConfig::adaptive().with_max_attempts(MAX_ATTEMPTS))
                    .build(),
            ),
            users_table: outputs.require(stage, Table::Users.name_output())?,
            images_table: outputs.require(stage, Table::Images.name_output())?,
            user_pool: outputs.require(stage, Output::UserPoolId)?,
        })
    }

    /// The items with these keys that exist (at most 100 keys), consistently read.
    pub async fn batch_get(&self, table: &str, keys: Vec<Item>) -> Result<Vec<Item>> {
        let mut found = Vec::new();
        let mut pending = keys;
        let mut attempt = 0;
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .context("a batch read needs keys")?;
            let output = self
                .dynamodb
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(aws::sdk_error)
                .with_context(|| format!("reading {table}"))?;
            found.extend(
                output
                    .responses
                    .and_then(|mut r| r.remove(table))
                    .unwrap_or_default(),
            );
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                attempt += 1;
                backoff(attempt, table).await?;
            }
        }
        Ok(found)
    }

    /// Writes the requests in batches of 25, repeating unprocessed ones with backoff.
    pub async fn batch_write(&self, table: &str, requests: Vec<WriteRequest>) -> Result<()> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                let result = self
                    .dynamodb
                    .batch_write_item()
                    .request_items(table, pending.clone())
                    .send()
                    .await;
                match result {
                    Ok(output) => {
                        pending = output
                            .unprocessed_items
                            .and_then(|mut u| u.remove(table))
                            .unwrap_or_default();
                    }
                    Err(e)
                        if e.as_service_error().is_some_and(|s| {
                            s.is_provisioned_throughput_exceeded_exception()
                                || s.is_request_limit_exceeded()
                                || s.is_internal_server_error()
                        }) => {}
                    Err(e) => bail!(
                        "writing {table}: {}",
                        aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                    ),
                }
                if !pending.is_empty() {
                    attempt += 1;
                    backoff(attempt, table).await?;
                }
            }
        }
        Ok(())
    }

    /// Every ledger item (the legacy id → new id map) from the users table.
    pub async fn ledger(&self) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .dynamodb
                .scan()
                .table_name(&self.users_table)
                .filter_expression("begins_with(#id, :prefix)")
                .expression_attribute_names("#id", keys::USER_ID)
                .expression_attribute_values(
                    ":prefix",
                    AttributeValue::S(keys::LEDGER_PREFIX.into()),
                )
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(aws::sdk_error)
                .with_context(|| {
                    format!("reading the migration's map from {}", self.users_table)
                })?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    pub async fn get_item(&self, table: &str, key: Item) -> Result<Option<Item>> {
        let output = self
            .dynamodb
            .get_item()
            .table_name(table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| format!("reading {table}"))?;
        Ok(output.item)
    }

    pub async fn put_item(&self, table: &str, item: Item) -> Result<()> {
        self.dynamodb
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| format!("writing {table}"))?;
        Ok(())
    }

    /// How many migrated images `user_id` has in the stage (not counting new ones).
    pub async fn count_migrated_images(&self, user_id: &str) -> Result<u64> {
        let mut count = 0;
        let mut start = None;
        loop {
            let output = self
                .dynamodb
                .query()
                .table_name(&self.images_table)
                .index_name(keys::USER_INDEX)
                .key_condition_expression("#user = :user")
                .filter_expression("attribute_exists(#legacy)")
                .expression_attribute_names("#user", keys::OWNER)
                .expression_attribute_names("#legacy", keys::LEGACY_ID)
                .expression_attribute_values(":user", AttributeValue::S(user_id.to_owned()))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(aws::sdk_error)
                .context("counting images")?;
            count += u64::try_from(output.count).unwrap_or(0);
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(count),
            }
        }
    }

    /// Marks the accounts a chunk is about to make, and answers which of them an earlier run
    /// began (and was stopped in). Making an account takes three calls ([`Target::make_account`]);
    /// the mark in the users table ([`keys::pending_account_key`]) is what lets a rerun after a
    /// kill between them finish the account instead of taking it for someone's own. The chunk's
    /// last batch write clears the marks ([`keys::pending_account_key`] deletes after the ledger
    /// items).
    pub async fn begin_accounts(&self, emails: &[&str]) -> Result<HashSet<String>> {
        if emails.is_empty() {
            return Ok(HashSet::new());
        }
        let marks: Vec<Item> = emails
            .iter()
            .map(|email| keys::pending_account_key(email))
            .collect();
        let begun = self
            .batch_get(&self.users_table, marks.clone())
            .await?
            .iter()
            .filter_map(|item| keys::string(item, keys::USER_ID))
            .filter_map(|key| key.strip_prefix(keys::PENDING_ACCOUNT_PREFIX))
            .map(str::to_owned)
            .collect();
        let requests = marks.into_iter().map(super::put).collect();
        self.batch_write(&self.users_table, requests).await?;
        Ok(begun)
    }

    /// The Cognito account for `email` (marked by [`Target::begin_accounts`]): made when
    /// missing, with a verified address, no usable password and no message, then put in
    /// `RESET_REQUIRED` so that signing in answers `PasswordResetRequiredException` and the site
    /// runs the reset flow. An account someone made on the new site themselves is used as it is.
    pub async fn make_account(&self, email: &str, begun_before: bool) -> Result<Account> {
        let created = self
            .cognito
            .admin_create_user()
            .user_pool_id(&self.user_pool)
            .username(email)
            .user_attributes(attribute("email", email))
            .user_attributes(attribute("email_verified", "true"))
            .message_action(MessageActionType::Suppress)
            .temporary_password(unusable_password())
            .send()
            .await;
        let (user_id, status) = match created {
            Ok(output) => {
                let user = output.user.context("AdminCreateUser returned no user")?;
                let sub = user
                    .attributes()
                    .iter()
                    .find(|a| a.name() == "sub")
                    .and_then(|a| a.value())
                    .map(str::to_owned);
                let sub = match sub {
                    Some(sub) => sub,
                    None => self.account(email).await?.0,
                };
                (sub, user.user_status)
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_username_exists_exception()) =>
            {
                self.account(email).await?
            }
            Err(e) => bail!(
                "creating the account of {email}: {}",
                aws_sdk_cognitoidentityprovider::error::DisplayErrorContext(&e)
            ),
        };
        let migrated = match status {
            // Ours, made by this or an interrupted run: finish it.
            Some(UserStatusType::ForceChangePassword) => {
                self.cognito
                    .admin_set_user_password()
                    .user_pool_id(&self.user_pool)
                    .username(email)
                    .password(unusable_password())
                    .permanent(true)
                    .send()
                    .await
                    .map_err(aws::sdk_error)
                    .with_context(|| format!("setting up the account of {email}"))?;
                self.require_reset(email).await?;
                true
            }
            Some(UserStatusType::ResetRequired) => true,
            // Ours too: an earlier run set its password and was stopped before the reset.
            Some(UserStatusType::Confirmed) if begun_before => {
                self.require_reset(email).await?;
                true
            }
            _ => false,
        };
        Ok(Account { user_id, migrated })
    }

    async fn require_reset(&self, email: &str) -> Result<()> {
        self.cognito
            .admin_reset_user_password()
            .user_pool_id(&self.user_pool)
            .username(email)
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| format!("marking the account of {email} for a password reset"))?;
        Ok(())
    }

    /// The `sub` and status of an existing account.
    pub async fn account(&self, email: &str) -> Result<(String, Option<UserStatusType>)> {
        let user = self
            .cognito
            .admin_get_user()
            .user_pool_id(&self.user_pool)
            .username(email)
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| format!("reading the account of {email}"))?;
        let sub = user
            .user_attributes()
            .iter()
            .find(|a| a.name() == "sub")
            .and_then(|a| a.value())
            .map(str::to_owned)
            .unwrap_or_else(|| user.username().to_owned());
        Ok((sub, user.user_status))
    }
}

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("name is set")
}

/// A password nobody knows and that is never stored or shown: the account's only way in is the
/// reset flow. Two random UUIDs meet the pool's policy (upper, lower, digits, length).
fn unusable_password() -> String {
    format!(
        "Mm1-{}-{}",
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Exponential backoff with jitter for unprocessed batch items; an error after [`MAX_ATTEMPTS`].
async fn backoff(attempt: u32, table: &str) -> Result<()> {
    if attempt > MAX_ATTEMPTS {
        bail!(
            "{table} kept refusing items after {MAX_ATTEMPTS} retries (throttled); \
             run the migration again later (it resumes), or with a lower --parallel"
        );
    }
    let base = 50u64 << attempt.min(6);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % base.max(1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
    Ok(())
}

/// Attribute values for an item made with serde_dynamo, plus the migration's own attributes.
pub fn with_attributes(mut item: Item, extra: &[(&str, &str)]) -> Item {
    for (name, value) in extra {
        item.insert((*name).to_owned(), AttributeValue::S((*value).to_owned()));
    }
    item
}
