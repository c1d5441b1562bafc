//! SQS queues.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Queue {
    pub queue_name: String,
    pub message_retention_period: u32,
    pub sqs_managed_sse_enabled: bool,
}
