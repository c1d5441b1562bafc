//! Daily counters in the jobs table: generations per user (checked in the transaction that stores
//! a job, see [`crate::store::jobs`]) and the stage's paid provider calls (checked by the worker before
//! it calls a provider). Each counter is one item per UTC day that expires the day after, and
//! every increment is a conditional update, so concurrent requests can never pass a limit.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use mumble_contract::Table;
use mumble_contract::tables::TTL_ATTRIBUTE;

use super::StoreError;

/// The counter attribute of a counter item.
pub const COUNT: &str = "used";

/// The UTC day of `at`, as counter items name it: `2026-11-30`.
pub fn day(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// How long until the next UTC day starts, when the counters start again (at least a second).
pub fn until_tomorrow(at: DateTime<Utc>) -> std::time::Duration {
    let tomorrow = (at.date_naive() + Duration::days(1)).and_time(NaiveTime::MIN);
    let left = tomorrow.and_utc() - at;
    std::time::Duration::from_secs(left.num_seconds().max(1) as u64)
}

/// When a counter item of `at`'s day may be deleted: a day after the day ends.
pub fn expires_at(at: DateTime<Utc>) -> i64 {
    crate::time::epoch_seconds(at + Duration::days(2))
}

/// The id of a user's generation counter for one day.
pub fn user_day_id(user_id: &str, at: DateTime<Utc>) -> String {
    format!("quota#{user_id}#{}", day(at))
}

/// The id of the stage's provider call counter for one day.
pub fn provider_day_id(at: DateTime<Utc>) -> String {
    format!("provider-calls#{}", day(at))
}

/// The stage-wide daily cap on paid provider calls.
#[async_trait::async_trait]
pub trait ProviderBudget: Send + Sync {
    /// Takes `calls` from today's budget; `false` (and nothing taken) when that would pass the cap.
    async fn take(&self, calls: u32) -> Result<bool, StoreError>;
}

/// [`ProviderBudget`] as a counter item in the jobs table.
pub struct DynamoProviderBudget {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// Calls allowed per UTC day.
    cap: u32,
}

impl DynamoProviderBudget {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>, cap: u32) -> Self {
        Self {
            client,
            table: table.into(),
            cap,
        }
    }
}

#[async_trait::async_trait]
impl ProviderBudget for DynamoProviderBudget {
    async fn take(&self, calls: u32) -> Result<bool, StoreError> {
        let Some(most_before) = self.cap.checked_sub(calls) else {
            return Ok(false);
        };
        let now = Utc::now();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(
                Table::Jobs.key().partition,
                AttributeValue::S(provider_day_id(now)),
            )
            .update_expression(format!("ADD #used :calls SET {TTL_ATTRIBUTE} = :expires"))
            .condition_expression("attribute_not_exists(#used) OR #used <= :most")
            .expression_attribute_names("#used", COUNT)
            .expression_attribute_values(":calls", AttributeValue::N(calls.to_string()))
            .expression_attribute_values(":most", AttributeValue::N(most_before.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N(expires_at(now).to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::backend(
                "counting provider calls",
                super::sdk_detail(&e),
            )),
        }
    }
}

/// No cap (the local gateway's offline providers cost nothing).
pub struct Unlimited;

#[async_trait::async_trait]
impl ProviderBudget for Unlimited {
    async fn take(&self, _calls: u32) -> Result<bool, StoreError> {
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_quota_starts_again_at_midnight_utc() {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 0).unwrap();
        assert_eq!(day(at), "2026-11-30");
        assert_eq!(until_tomorrow(at).as_secs(), 60);
        let midnight = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        assert_eq!(day(midnight), "2026-12-01");
        assert_eq!(until_tomorrow(midnight).as_secs(), 24 * 3600);
    }
}
