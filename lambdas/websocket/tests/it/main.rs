//! Integration tests of the websocket function: API Gateway WebSocket fixture events against
//! DynamoDB and S3 in the local emulator, with a token verifier that knows one token.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use mumble_core::Caller;
use mumble_core::jwt::AuthError;
use mumble_core::store::S3Media;
use mumble_core::store::connections::{ConnectionStore, DynamoConnections};
use mumble_core::store::jobs::{DynamoJobs, JobStore};
use mumble_testing::pipeline_fakes::RecordingInvoker;
use serde_json::{Value, json};
use websocket::{AllowedOrigins, Deps, Signed, TokenVerifier, handle};

const CONNECT: &str = include_str!("../fixtures/connect.json");
const DISCONNECT: &str = include_str!("../fixtures/disconnect.json");
const GENERATE_IMAGE: &str = include_str!("../fixtures/generate-image.json");
const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";
const ALICE_TOKEN: &str = "eyJraWQiOiJrMSJ9.e30.c2ln";
const ALICE_AUDIO: &str =
    "audio/8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11/0b5e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b.webm";
const CONNECTION: &str = "Hk8AbcDeIAMCJgQ=";

/// A token of Alice's that expires a second after it is checked.
const ALICE_EXPIRING_TOKEN: &str = "eyJraWQiOiJrMSJ9.eyJleHAiOjF9.c2ln";

/// Knows Alice's tokens only: one valid for an hour (as Cognito's are), one for a second.
struct AliceOnly;

#[async_trait]
impl TokenVerifier for AliceOnly {
    async fn verify(&self, token: &str) -> Result<Signed, AuthError> {
        let valid_for = match token {
            ALICE_TOKEN => chrono::Duration::hours(1),
            ALICE_EXPIRING_TOKEN => chrono::Duration::seconds(1),
            _ => return Err(AuthError::Invalid("unknown token".to_owned())),
        };
        Ok(Signed {
            caller: Caller {
                user_id: ALICE.to_owned(),
                email: None,
                name: None,
            },
            expires_at: chrono::Utc::now() + valid_for,
        })
    }
}

struct World {
    deps: Deps,
    connections: Arc<DynamoConnections>,
    jobs: Arc<DynamoJobs>,
    invoker: Arc<RecordingInvoker>,
}

async fn world() -> World {
    let sdk = mumble_testing::sdk_config();
    let dynamodb = mumble_core::aws::dynamodb_client(&sdk);
    let s3 = mumble_core::aws::s3_client(&sdk);
    let bucket = mumble_testing::bucket(&s3).await;
    s3.put_object()
        .bucket(&bucket)
        .key(ALICE_AUDIO)
        .body(b"audio".to_vec().into())
        .send()
        .await
        .unwrap();
    let connections = Arc::new(DynamoConnections::new(
        dynamodb.clone(),
        mumble_testing::connections_table(&dynamodb).await,
    ));
    let jobs = Arc::new(DynamoJobs::new(
        dynamodb.clone(),
        mumble_testing::jobs_table(&dynamodb).await,
    ));
    let invoker = Arc::new(RecordingInvoker::default());
    let deps = Deps {
        connections: connections.clone(),
        verifier: Arc::new(AliceOnly),
        jobs: jobs.clone(),
        media: Arc::new(S3Media::new(s3, bucket)),
        invoker: invoker.clone(),
        max_audio_bytes: 1024,
        max_per_user_per_day: None,
        allowed_origins: AllowedOrigins::new(["https://mumble.example.com"]),
    };
    World {
        deps,
        connections,
        jobs,
        invoker,
    }
}

fn event(fixture: &str, edit: impl FnOnce(&mut Value)) -> ApiGatewayWebsocketProxyRequest {
    let mut value: Value = serde_json::from_str(fixture).unwrap();
    edit(&mut value);
    serde_json::from_value(value).expect("an API Gateway WebSocket event")
}

fn body(response: &ApiGatewayProxyResponse) -> Value {
    match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).unwrap(),
        other => panic!("expected a JSON text body, got {other:?}"),
    }
}

async fn connect(w: &World) {
    let response = handle(&w.deps, event(CONNECT, |_| {})).await;
    assert_eq!(response.status_code, 200, "{:?}", body(&response));
}

#[tokio::test]
async fn connecting_with_a_valid_token_stores_the_connection_until_the_token_expires() {
    let w = world().await;
    connect(&w).await;

    let stored = w
        .connections
        .get(CONNECTION)
        .await
        .unwrap()
        .expect("the connection is stored");
    assert_eq!(stored.user_id, ALICE);
    // The token is valid for an hour, less than API Gateway's two-hour limit.
    let ttl = stored.expires_at - chrono::Utc::now().timestamp();
    assert!((3500..=3600).contains(&ttl), "ttl {ttl}");
    assert_eq!(w.connections.list_by_user(ALICE).await.unwrap().len(), 1);
}

#[tokio::test]
async fn connecting_without_or_with_a_bad_token_is_refused() {
    let w = world().await;
    let without = event(CONNECT, |e| {
        e.as_object_mut().unwrap().remove("queryStringParameters");
        e.as_object_mut()
            .unwrap()
            .remove("multiValueQueryStringParameters");
    });
    let refused = handle(&w.deps, without).await;
    assert_eq!(refused.status_code, 401);
    assert_eq!(body(&refused)["error"]["code"], "unauthorized");

    let forged = event(CONNECT, |e| {
        e["queryStringParameters"]["token"] = json!("forged");
        e["multiValueQueryStringParameters"]["token"] = json!(["forged"]);
    });
    assert_eq!(handle(&w.deps, forged).await.status_code, 401);
    assert!(w.connections.get(CONNECTION).await.unwrap().is_none());
}

#[tokio::test]
async fn disconnecting_removes_the_connection() {
    let w = world().await;
    connect(&w).await;

    let response = handle(&w.deps, event(DISCONNECT, |_| {})).await;

    assert_eq!(response.status_code, 200);
    assert!(w.connections.get(CONNECTION).await.unwrap().is_none());
}

#[tokio::test]
async fn generate_image_answers_the_job_id_and_starts_the_worker() {
    let w = world().await;
    connect(&w).await;

    let response = handle(&w.deps, event(GENERATE_IMAGE, |_| {})).await;

    assert_eq!(response.status_code, 202, "{:?}", body(&response));
    let answer = body(&response);
    assert_eq!(answer["type"], "accepted");
    let job_id = answer["jobId"].as_str().unwrap();
    let job = w
        .jobs
        .get_owned(ALICE, job_id)
        .await
        .unwrap()
        .expect("Alice's job");
    assert_eq!(job.audio_key, ALICE_AUDIO);
    assert_eq!(w.invoker.events().len(), 1);

    // The same idempotencyKey again: the same job, no second worker.
    let again = body(&handle(&w.deps, event(GENERATE_IMAGE, |_| {})).await);
    assert_eq!(again["jobId"], job_id);
    assert_eq!(w.invoker.events().len(), 1);
}

#[tokio::test]
async fn a_connection_is_refused_once_its_token_has_expired() {
    let w = world().await;
    let opened = handle(
        &w.deps,
        event(CONNECT, |e| {
            e["queryStringParameters"]["token"] = json!(ALICE_EXPIRING_TOKEN);
            e["multiValueQueryStringParameters"]["token"] = json!([ALICE_EXPIRING_TOKEN]);
        }),
    )
    .await;
    assert_eq!(opened.status_code, 200, "{:?}", body(&opened));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    let refused = handle(&w.deps, event(GENERATE_IMAGE, |_| {})).await;

    assert_eq!(refused.status_code, 401, "{:?}", body(&refused));
    assert!(
        body(&refused)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reconnect")
    );
    assert!(w.invoker.events().is_empty());
    // The worker's pushes no longer reach it either.
    assert!(w.connections.list_by_user(ALICE).await.unwrap().is_empty());
}

#[tokio::test]
async fn generate_image_needs_a_signed_in_connection() {
    let w = world().await;
    let response = handle(&w.deps, event(GENERATE_IMAGE, |_| {})).await;
    assert_eq!(response.status_code, 401);
    assert!(w.invoker.events().is_empty());
}

#[tokio::test]
async fn bad_generate_image_messages_get_an_error_message() {
    let w = world().await;
    connect(&w).await;
    let cases = [
        (json!("{not json"), 400, "invalid_input"),
        (
            json!(json!({"action": "generateImage"}).to_string()),
            400,
            "invalid_input",
        ),
        (
            json!(json!({"audioKey": ALICE_AUDIO, "latitude": 100, "longitude": 0}).to_string()),
            400,
            "invalid_input",
        ),
        (
            json!(json!({"audioKey": "audio/someone-else/a.webm"}).to_string()),
            404,
            "not_found",
        ),
        (Value::Null, 400, "invalid_input"),
    ];
    for (message, status, code) in cases {
        let response = handle(
            &w.deps,
            event(GENERATE_IMAGE, |e| e["body"] = message.clone()),
        )
        .await;
        assert_eq!(response.status_code, status, "{message}");
        let answer = body(&response);
        assert_eq!(answer["type"], "error");
        assert_eq!(answer["error"]["code"], code, "{message}");
    }
    assert!(w.invoker.events().is_empty());
}

#[tokio::test]
async fn unknown_routes_are_answered_not_crashed() {
    let w = world().await;
    let response = handle(
        &w.deps,
        event(GENERATE_IMAGE, |e| {
            e["requestContext"]["routeKey"] = json!("$default")
        }),
    )
    .await;
    assert_eq!(response.status_code, 404);
    assert_eq!(body(&response)["type"], "error");
}

fn from_origin(origin: &str) -> ApiGatewayWebsocketProxyRequest {
    event(CONNECT, |e| e["headers"]["Origin"] = json!(origin))
}

#[tokio::test]
async fn a_page_from_another_site_may_not_connect() {
    let w = world().await;

    let refused = handle(&w.deps, from_origin("https://evil.example.net")).await;

    assert_eq!(refused.status_code, 403);
    assert_eq!(body(&refused)["error"]["code"], "forbidden");
    assert!(w.connections.get(CONNECTION).await.unwrap().is_none());
}

#[tokio::test]
async fn a_star_in_allowed_origins_lets_any_site_connect() {
    // The local and dev stages set `ALLOWED_ORIGINS=*`.
    let mut w = world().await;
    w.deps.allowed_origins = AllowedOrigins::new(["*"]);

    for origin in ["http://127.0.0.1:8787", "https://elsewhere.example.org"] {
        let response = handle(&w.deps, from_origin(origin)).await;
        assert_eq!(response.status_code, 200, "{origin}: {:?}", body(&response));
    }
    assert!(w.connections.get(CONNECTION).await.unwrap().is_some());
}
