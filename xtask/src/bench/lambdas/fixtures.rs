//! The event each function is started with in `cargo xtask bench lambdas`: the cheapest valid
//! one, which runs the real cold start and handler without needing data.

use serde_json::{Value, json};

/// A function's cheapest valid event: one that exercises its real cold start and handler without
/// needing data (HTTP routes answer 4xx before any AWS call where the success path needs data).
#[derive(Debug, Clone)]
pub(super) struct Fixture {
    /// What the event is, for the row name.
    pub(super) label: String,
    pub(super) event: Value,
    /// The handler calls AWS for this event (beyond what the cold start reads).
    pub(super) calls_aws: bool,
}

pub(super) fn fixture(function: &str) -> Fixture {
    let signed_in = true;
    let http = |method: &str,
                route: &str,
                path: &str,
                query: &str,
                body: Option<&str>,
                signed_in: bool| {
        let target = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        Fixture {
            label: format!("{method} {target}"),
            event: http_event(method, route, path, query, body, signed_in),
            calls_aws: false,
        }
    };
    let described = |mut fixture: Fixture, why: &str| {
        fixture.label = format!("{} ({why})", fixture.label);
        fixture
    };
    let unknown_job = "j".repeat(65);
    match function {
        "health" => http("GET", "/api/v1/health", "/api/v1/health", "", None, false),
        "audio-upload" => described(
            http(
                "POST",
                "/api/v1/audio/upload-url",
                "/api/v1/audio/upload-url",
                "",
                Some(r#"{"contentType":"audio/webm","contentLength":48213}"#),
                signed_in,
            ),
            "presigns locally",
        ),
        "weather" => described(
            http(
                "GET",
                "/api/v1/weather",
                "/api/v1/weather",
                "lat=91&lon=0",
                None,
                signed_in,
            ),
            "latitude out of range",
        ),
        "gallery" => described(
            http(
                "GET",
                "/api/v1/images",
                "/api/v1/images",
                "limit=0",
                None,
                signed_in,
            ),
            "limit out of range",
        ),
        "profile" => described(
            http(
                "PUT",
                "/api/v1/me",
                "/api/v1/me",
                "",
                Some(r#"{"displayName":42}"#),
                signed_in,
            ),
            "wrong type",
        ),
        "generate" => described(
            http(
                "POST",
                "/api/v1/generate",
                "/api/v1/generate",
                "",
                Some("{}"),
                signed_in,
            ),
            "no audioKey",
        ),
        "jobs" => Fixture {
            label: "GET /api/v1/jobs/{65-char id} (id too long)".to_owned(),
            event: http_event(
                "GET",
                "/api/v1/jobs/{id}",
                &format!("/api/v1/jobs/{unknown_job}"),
                "",
                None,
                signed_in,
            ),
            calls_aws: false,
        },
        "worker" => Fixture {
            label: "async invoke {jobId, userId} of an unknown job".to_owned(),
            event: json!({ "jobId": "bench-unknown-job", "userId": BENCH_USER }),
            calls_aws: true,
        },
        "image-processor" => Fixture {
            label: "S3 Object Created via EventBridge (as the stacks deliver it), non-image key"
                .to_owned(),
            event: object_created_event("images/bench-user/not-an-image.txt"),
            calls_aws: false,
        },
        "websocket" => Fixture {
            label: "$connect without a token".to_owned(),
            event: websocket_connect_event(),
            calls_aws: false,
        },
        "cleanup" => Fixture {
            label: "hourly schedule on empty tables".to_owned(),
            event: schedule_event(),
            calls_aws: true,
        },
        other => Fixture {
            label: format!("{other}: empty event"),
            event: json!({}),
            calls_aws: false,
        },
    }
}

/// The Cognito `sub` of the signed-in caller in the fixtures.
pub(super) const BENCH_USER: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";

/// An API Gateway HTTP API (payload 2.0) request, with the JWT authorizer's claims when signed in.
fn http_event(
    method: &str,
    route: &str,
    path: &str,
    query: &str,
    body: Option<&str>,
    signed_in: bool,
) -> Value {
    let route_key = format!("{method} {route}");
    let query_parameters: serde_json::Map<String, Value> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (key.to_owned(), Value::from(value))
        })
        .collect();
    let path_parameters = route
        .ends_with("/{id}")
        .then(|| json!({ "id": path.rsplit('/').next() }));
    let mut headers = json!({
        "accept": "application/json",
        "host": "bench.execute-api.us-east-1.amazonaws.com",
        "x-forwarded-proto": "https",
    });
    if body.is_some() {
        headers["content-type"] = json!("application/json");
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "xtask-bench"
            },
            "requestId": "bench-request",
            "routeKey": route_key,
            "stage": "$default",
            "time": "26/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1_795_687_200_000_u64
        },
        "isBase64Encoded": false,
    });
    if !query_parameters.is_empty() {
        event["queryStringParameters"] = Value::Object(query_parameters);
    }
    if let Some(parameters) = path_parameters {
        event["pathParameters"] = parameters;
    }
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    if signed_in {
        event["requestContext"]["authorizer"] = json!({
            "jwt": {
                "claims": {
                    "sub": BENCH_USER,
                    "email": "bench@example.com",
                    "cognito:username": "bench",
                    "token_use": "id"
                },
                "scopes": null
            }
        });
    }
    event
}

/// An API Gateway WebSocket `$connect` request without the `token` query parameter.
fn websocket_connect_event() -> Value {
    json!({
        "headers": { "Host": "bench.execute-api.us-east-1.amazonaws.com" },
        "multiValueHeaders": { "Host": ["bench.execute-api.us-east-1.amazonaws.com"] },
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "bench-extended",
            "requestTime": "26/Nov/2026:10:00:00 +0000",
            "messageDirection": "IN",
            "stage": "bench",
            "connectedAt": 1_795_687_200_000_u64,
            "requestTimeEpoch": 1_795_687_200_000_u64,
            "identity": { "sourceIp": "127.0.0.1" },
            "requestId": "bench-request",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "connectionId": "bench-connection=",
            "apiId": "bench"
        },
        "isBase64Encoded": false
    })
}

/// S3 `Object Created`, as EventBridge delivers it.
fn object_created_event(key: &str) -> Value {
    json!({
        "version": "0",
        "id": "bench-event",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-26T10:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:s3:::mumble-bench-media"],
        "detail": {
            "version": "0",
            "bucket": { "name": "mumble-bench-media" },
            "object": { "key": key, "size": 12, "etag": "bench", "sequencer": "0" },
            "request-id": "bench",
            "requester": "123456789012",
            "source-ip-address": "127.0.0.1",
            "reason": "PutObject"
        }
    })
}

/// The EventBridge schedule's event.
fn schedule_event() -> Value {
    json!({
        "version": "0",
        "id": "bench-event",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-26T10:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/mumble-bench-cleanup"],
        "detail": {}
    })
}
