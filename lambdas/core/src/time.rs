//! Timestamps as stored and returned: RFC 3339 UTC with milliseconds and a `Z`, a fixed width so
//! that string order is time order (DynamoDB sort keys compare strings).

use chrono::{DateTime, SecondsFormat, Utc};

/// Now, formatted for storage and responses.
pub fn now() -> String {
    format(Utc::now())
}

/// `at` in the stored format.
pub fn format(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Seconds since the Unix epoch, for DynamoDB TTL attributes.
pub fn epoch_seconds(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}
