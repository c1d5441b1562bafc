//! The check of traffic against the OpenAPI document: drift in a response or a request is caught,
//! and what the contract allows passes.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::HeaderMap;
use lambda_http::{Body, Response};
use local_gateway::conformance::Conformance;
use local_gateway::ports::HttpFunctions;
use serde_json::{Value, json};

use crate::fixture::{GOOD_TOKEN, start_with};

fn checker() -> Conformance {
    Conformance::mumble(None).expect("the document compiles")
}

fn profile(display_name: &str) -> Value {
    json!({
        "userId": "user-1",
        "email": "a@example.com",
        "displayName": display_name,
        "preferredLanguage": "zh-CN",
        "locationConsent": false,
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z"
    })
}

fn response(check: &Conformance, key: &str, status: u16, body: &Value) -> Vec<String> {
    check.check_response(key, status, body.to_string().as_bytes())
}

fn request(check: &Conformance, key: &str, query: &[(&str, &str)], body: &Value) -> Vec<String> {
    let query: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    check.check_request(key, &query, &HeaderMap::new(), body.to_string().as_bytes())
}

#[test]
fn a_drifted_response_is_caught_and_a_conforming_one_passes() {
    let check = checker();
    let key = "GET /api/v1/me";
    assert_eq!(
        response(&check, key, 200, &profile("小明")),
        Vec::<String>::new()
    );

    let mut renamed = profile("小明");
    let language = renamed
        .as_object_mut()
        .unwrap()
        .remove("preferredLanguage")
        .unwrap();
    renamed["language"] = language;
    let problems = response(&check, key, 200, &renamed);
    assert!(
        problems.iter().any(|p| p.contains("preferredLanguage")),
        "a missing field: {problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("language")),
        "an undeclared field: {problems:?}"
    );

    let too_long = response(&check, key, 200, &profile(&"名".repeat(51)));
    assert!(
        too_long.iter().any(|p| p.contains("/displayName")),
        "{too_long:?}"
    );

    let problems = check.check_response("DELETE /api/v1/images/{id}", 204, b"{}");
    assert_eq!(problems.len(), 1, "a body where none is declared");
}

#[test]
fn api_gateways_own_answers_are_declared_as_it_sends_them() {
    let check = checker();
    let key = "PUT /api/v1/me";
    for (status, message) in [
        (401, "Unauthorized"),
        (413, "Request Entity Too Large"),
        (429, "Too Many Requests"),
        (500, "Internal Server Error"),
        (503, "Service Unavailable"),
    ] {
        assert_eq!(
            response(&check, key, status, &json!({ "message": message })),
            Vec::<String>::new(),
            "{status}"
        );
    }
    assert!(!response(&check, key, 401, &json!({"message": "Forbidden"})).is_empty());
    // A function's error body is fine for its own failures, not in place of the authorizer's.
    let error = json!({"error": {"code": "internal", "message": "try again later"}});
    assert!(response(&check, key, 500, &error).is_empty());
    assert!(!response(&check, key, 401, &error).is_empty());
    // `/api/v1/health` has no authorizer, so no 401.
    let unauthorized = json!({"message": "Unauthorized"});
    assert!(!response(&check, "GET /api/v1/health", 401, &unauthorized).is_empty());
}

#[test]
fn requests_outside_the_contract_are_caught() {
    let check = checker();
    let key = "PUT /api/v1/me";
    assert!(
        request(
            &check,
            key,
            &[],
            &json!({"displayName": "小明", "preferredLanguage": "en"})
        )
        .is_empty()
    );
    assert!(
        !request(
            &check,
            key,
            &[],
            &json!({"displayName": "小明", "language": "en"})
        )
        .is_empty()
    );
    assert!(
        !request(&check, key, &[], &json!({})).is_empty(),
        "at least one field"
    );

    let images = "GET /api/v1/images";
    assert!(request(&check, images, &[("limit", "1")], &Value::Null).is_empty());
    assert!(!request(&check, images, &[("limit", "0")], &Value::Null).is_empty());
    assert!(!request(&check, images, &[("limit", "101")], &Value::Null).is_empty());
    assert!(!request(&check, images, &[("limit", "many")], &Value::Null).is_empty());

    let weather = "GET /api/v1/weather";
    assert!(
        request(
            &check,
            weather,
            &[("lat", "31.2"), ("lon", "121.5")],
            &Value::Null
        )
        .is_empty()
    );
    assert!(
        !request(
            &check,
            weather,
            &[("lat", "91"), ("lon", "0")],
            &Value::Null
        )
        .is_empty()
    );
    assert!(!request(&check, weather, &[("lat", "1")], &Value::Null).is_empty());

    let generate = "POST /api/v1/generate";
    let mut body =
        json!({"audioKey": "audio/u/a.webm", "transcript": "雨", "style": "s".repeat(200)});
    assert!(request(&check, generate, &[], &body).is_empty());
    body["style"] = json!("s".repeat(201));
    assert!(!request(&check, generate, &[], &body).is_empty());
    assert!(
        !request(
            &check,
            generate,
            &[],
            &json!({"audioKey": "a", "latitude": 1.0})
        )
        .is_empty()
    );

    let upload = "POST /api/v1/audio/upload-url";
    assert!(
        request(
            &check,
            upload,
            &[],
            &json!({"contentType": "audio/webm", "contentLength": 12})
        )
        .is_empty()
    );
    assert!(
        !request(
            &check,
            upload,
            &[],
            &json!({"contentType": "audio/webm", "contentLength": 0})
        )
        .is_empty()
    );
    assert!(
        !request(
            &check,
            upload,
            &[],
            &json!({"contentType": "audio/webm", "contentLength": 1.5})
        )
        .is_empty()
    );
}

#[tokio::test]
async fn in_check_mode_the_gateway_answers_a_drifted_response_with_a_500_and_records_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("violations.txt");
    let check = Arc::new(Conformance::mumble(Some(record.clone())).expect("document"));
    let mut functions: HttpFunctions = HashMap::new();
    functions.insert(
        "profile".to_owned(),
        Arc::new(|_request| {
            Box::pin(async {
                let mut drifted = profile("小明");
                drifted["language"] = json!("zh-CN");
                let mut response = Response::new(Body::from(drifted.to_string()));
                response
                    .headers_mut()
                    .insert("content-type", "application/json".parse().expect("header"));
                response
            })
        }),
    );
    let gateway = start_with(dir.path(), functions, Some(check.clone())).await;
    let client = reqwest::Client::new();

    let answer = client
        .get(gateway.url("/api/v1/me"))
        .bearer_auth(GOOD_TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), 500);
    let body: Value = answer.json().await.expect("json");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("language"), "{message}");

    // The authorizer's 401 is what the document declares: no violation.
    let refused = client
        .get(gateway.url("/api/v1/me"))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 401);

    let violations = check.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].starts_with("GET /api/v1/me: response 200 body"));
    let written = std::fs::read_to_string(&record).expect("the record file");
    assert_eq!(written.lines().count(), 1, "{written}");
}
