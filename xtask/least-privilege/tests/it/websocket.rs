//! The WebSocket function under its own role: connect, a generation request (with a recording
//! that is missing, then present), disconnect.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use mumble_core::Caller;
use mumble_core::jwt::AuthError;
use mumble_core::store::S3Media;
use mumble_core::store::connections::DynamoConnections;
use mumble_core::store::jobs::DynamoJobs;
use serde_json::Value;
use websocket::{AllowedOrigins, Signed, TokenVerifier};

use crate::world::{ALICE, ALICE_AUDIO, World};

const CONNECT: &str = include_str!("../../../../lambdas/websocket/tests/fixtures/connect.json");
const DISCONNECT: &str =
    include_str!("../../../../lambdas/websocket/tests/fixtures/disconnect.json");
const GENERATE_IMAGE: &str =
    include_str!("../../../../lambdas/websocket/tests/fixtures/generate-image.json");

/// Every token is Alice's: token checks are not what this test is about (Cognito's keys are
/// fetched over HTTPS, with no IAM in the way).
struct Alice;

#[async_trait]
impl TokenVerifier for Alice {
    async fn verify(&self, _: &str) -> Result<Signed, AuthError> {
        Ok(Signed {
            caller: Caller {
                user_id: ALICE.to_owned(),
                email: None,
                name: None,
            },
            expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
        })
    }
}

fn event(fixture: &str) -> ApiGatewayWebsocketProxyRequest {
    let value: Value = serde_json::from_str(fixture).unwrap();
    serde_json::from_value(value).expect("an API Gateway WebSocket event")
}

fn status(response: &ApiGatewayProxyResponse) -> i64 {
    response.status_code
}

#[tokio::test]
async fn websocket_connects_starts_jobs_and_disconnects_under_its_role() {
    let w = World::new().await;
    let role = w.role("websocket").await;
    Box::pin(w.worker_function(&role.env("WORKER_FUNCTION"))).await;
    let dynamodb = mumble_core::aws::dynamodb_client(&role.sdk);
    let deps = websocket::Deps {
        connections: Arc::new(DynamoConnections::new(
            dynamodb.clone(),
            role.env("CONNECTIONS_TABLE"),
        )),
        verifier: Arc::new(Alice),
        jobs: Arc::new(DynamoJobs::new(dynamodb, role.env("JOBS_TABLE"))),
        media: Arc::new(S3Media::new(
            mumble_core::aws::s3_client(&role.sdk),
            role.env("MEDIA_BUCKET"),
        )),
        invoker: Arc::new(mumble_core::generation::LambdaInvoker::new(
            aws_sdk_lambda::Client::new(&role.sdk),
            role.env("WORKER_FUNCTION"),
        )),
        max_audio_bytes: 1024,
        max_per_user_per_day: None,
        allowed_origins: AllowedOrigins::new(["https://mumble.example.com"]),
    };

    let connected = role
        .run("$connect", websocket::handle(&deps, event(CONNECT)))
        .await;
    assert_eq!(status(&connected), 200, "{:?}", connected.body);
    let missing = role
        .run(
            "generateImage for a recording that was never uploaded",
            websocket::handle(&deps, event(GENERATE_IMAGE)),
        )
        .await;
    assert_eq!(status(&missing), 404, "{:?}", missing.body);
    w.put_object(ALICE_AUDIO, b"audio".to_vec(), "audio/webm")
        .await;
    let accepted = role
        .run(
            "generateImage",
            websocket::handle(&deps, event(GENERATE_IMAGE)),
        )
        .await;
    assert_eq!(status(&accepted), 202, "{:?}", accepted.body);
    let gone = role
        .run("$disconnect", websocket::handle(&deps, event(DISCONNECT)))
        .await;
    assert_eq!(status(&gone), 200);
}
