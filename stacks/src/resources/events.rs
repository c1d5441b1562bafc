//! EventBridge rules: schedules and event patterns.

use serde::Serialize;

use crate::cfn::Expr;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    pub name: String,
    pub description: String,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<S3ObjectCreatedPattern>,
    pub targets: Vec<Target>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    pub id: String,
    pub arn: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_in_seconds: u32,
}

/// Matches S3 "Object Created" events of one bucket under one key prefix.
#[derive(Clone, Debug, Serialize)]
pub struct S3ObjectCreatedPattern {
    pub source: [&'static str; 1],
    #[serde(rename = "detail-type")]
    pub detail_type: [&'static str; 1],
    pub detail: S3Detail,
}

#[derive(Clone, Debug, Serialize)]
pub struct S3Detail {
    pub bucket: S3BucketMatch,
    pub object: S3ObjectMatch,
}

#[derive(Clone, Debug, Serialize)]
pub struct S3BucketMatch {
    pub name: [Expr; 1],
}

#[derive(Clone, Debug, Serialize)]
pub struct S3ObjectMatch {
    pub key: [KeyPrefix; 1],
}

#[derive(Clone, Debug, Serialize)]
pub struct KeyPrefix {
    pub prefix: String,
}

impl S3ObjectCreatedPattern {
    pub fn new(bucket_name: Expr, key_prefix: &str) -> Self {
        S3ObjectCreatedPattern {
            source: ["aws.s3"],
            detail_type: ["Object Created"],
            detail: S3Detail {
                bucket: S3BucketMatch {
                    name: [bucket_name],
                },
                object: S3ObjectMatch {
                    key: [KeyPrefix {
                        prefix: key_prefix.to_owned(),
                    }],
                },
            },
        }
    }
}
