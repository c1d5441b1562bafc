//! Live job updates: every state change is posted to all of the user's open WebSocket
//! connections through the API Gateway Management API; connections that answer 410 Gone are
//! removed from the connections table.
//!
//! Pushing is best effort: a failed push is logged and never fails the job, because the job's
//! state is always readable through `GET /api/v1/jobs/{id}`.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use serde::Serialize;

use crate::store::connections::ConnectionStore;
use crate::store::jobs::{Job, JobStatus};
use crate::weather::Weather;

/// The message a browser receives: `{"type":"job","jobId",...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobMessage {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub job_id: String,
    pub status: JobStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weather: Option<Weather>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<&Job> for JobMessage {
    fn from(job: &Job) -> Self {
        Self {
            kind: "job",
            job_id: job.job_id.clone(),
            status: job.status,
            image_id: job.image_id.clone(),
            transcript: job.transcript.clone(),
            weather: job.weather.clone(),
            error: job.error.clone(),
        }
    }
}

/// What one push achieved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushReport {
    pub delivered: usize,
    /// Connections that were gone and have been removed.
    pub removed: usize,
    pub failed: usize,
}

/// Sends a message to all of a user's connections.
#[async_trait]
pub trait Pusher: Send + Sync {
    async fn push(&self, user_id: &str, message: &JobMessage) -> PushReport;
}

/// Why a post to one connection failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PostError {
    /// 410: the client went away without a `$disconnect` reaching us.
    #[error("the connection is gone")]
    Gone,
    #[error("posting to the connection failed: {0}")]
    Failed(String),
}

/// Posts data to one connection (the Management API's `POST /@connections/{id}`).
#[async_trait]
pub trait ConnectionPoster: Send + Sync {
    async fn post(&self, connection_id: &str, data: &[u8]) -> Result<(), PostError>;
}

/// [`ConnectionPoster`] through the API Gateway Management API.
pub struct ManagementApi {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ManagementApi {
    /// `endpoint` is the WebSocket API's management URL (`WEBSOCKET_ENDPOINT`,
    /// `https://{api}.execute-api.{region}.amazonaws.com/{stage}`).
    pub fn new(sdk: &aws_config::SdkConfig, endpoint: &str) -> Self {
        let config = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint.trim_end_matches('/'))
            .build();
        Self {
            client: aws_sdk_apigatewaymanagement::Client::from_conf(config),
        }
    }
}

#[async_trait]
impl ConnectionPoster for ManagementApi {
    async fn post(&self, connection_id: &str, data: &[u8]) -> Result<(), PostError> {
        match self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(data))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error().is_some_and(|s| s.is_gone_exception())
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 410) =>
            {
                Err(PostError::Gone)
            }
            Err(e) => Err(PostError::Failed(
                aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e).to_string(),
            )),
        }
    }
}

/// [`Pusher`] over the connections table and a [`ConnectionPoster`].
pub struct ConnectionPusher {
    pub connections: Arc<dyn ConnectionStore>,
    pub poster: Arc<dyn ConnectionPoster>,
}

#[async_trait]
impl Pusher for ConnectionPusher {
    async fn push(&self, user_id: &str, message: &JobMessage) -> PushReport {
        let mut report = PushReport::default();
        let connections = match self.connections.list_by_user(user_id).await {
            Ok(connections) => connections,
            Err(e) => {
                tracing::warn!(error = %e, job_id = %message.job_id, "could not list connections for a push");
                return report;
            }
        };
        let data = match serde_json::to_vec(message) {
            Ok(data) => data,
            Err(e) => {
                tracing::error!(error = %e, "could not encode a push message");
                return report;
            }
        };
        let posts = connections.iter().map(|c| async {
            (
                c.connection_id.as_str(),
                self.poster.post(&c.connection_id, &data).await,
            )
        });
        for (connection_id, outcome) in futures::future::join_all(posts).await {
            match outcome {
                Ok(()) => report.delivered += 1,
                Err(PostError::Gone) => match self.connections.delete(connection_id).await {
                    Ok(()) => report.removed += 1,
                    Err(e) => {
                        report.failed += 1;
                        tracing::warn!(error = %e, connection_id, "could not remove a gone connection");
                    }
                },
                Err(PostError::Failed(detail)) => {
                    report.failed += 1;
                    tracing::warn!(detail, connection_id, "push to a connection failed");
                }
            }
        }
        report
    }
}

/// A [`Pusher`] for functions and stages without a WebSocket API: pushes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPush;

#[async_trait]
impl Pusher for NoPush {
    async fn push(&self, _user_id: &str, _message: &JobMessage) -> PushReport {
        PushReport::default()
    }
}
