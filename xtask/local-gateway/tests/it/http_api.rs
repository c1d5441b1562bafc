//! `/api/v1/*`: routing from the route declaration, the JWT authorizer, API Gateway's answers.

use serde_json::Value;

use crate::fixture::{GOOD_TOKEN, start};

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>Mumble</title>",
    )
    .expect("write");
    dir
}

#[tokio::test]
async fn an_authorized_request_reaches_its_function_with_claims_and_parameters() {
    let dir = site();
    let gateway = start(dir.path()).await;
    let response = reqwest::Client::new()
        .get(gateway.url("/api/v1/images/img-7?limit=3"))
        .bearer_auth(GOOD_TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("apigw-requestid"));
    let seen: Value = response.json().await.expect("json");
    assert_eq!(seen["routeKey"], "GET /api/v1/images/{id}");
    assert_eq!(seen["id"], "img-7");
    assert_eq!(seen["limit"], "3");
    assert_eq!(seen["claims"]["sub"], "user-1");
    assert_eq!(seen["claims"]["email"], "a@example.com");
}

#[tokio::test]
async fn missing_or_bad_tokens_get_api_gateways_401_without_calling_the_function() {
    let dir = site();
    let gateway = start(dir.path()).await;
    let client = reqwest::Client::new();
    for token in [None, Some("forged.token.sig")] {
        let mut request = client.put(gateway.url("/api/v1/me")).body("{}");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 401, "token {token:?}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            body,
            serde_json::json!({ "message": "Unauthorized" }),
            "as API Gateway answers"
        );
    }
}

#[tokio::test]
async fn open_routes_need_no_token_and_unknown_routes_are_404() {
    let dir = site();
    let gateway = start(dir.path()).await;
    let client = reqwest::Client::new();
    let health: Value = client
        .get(gateway.url("/api/v1/health"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(health["routeKey"], "GET /api/v1/health");
    assert_eq!(health["claims"], Value::Null);

    for (method, path) in [
        (reqwest::Method::GET, "/api/v1/nothing"),
        (reqwest::Method::PATCH, "/api/v1/me"),
    ] {
        let response = client
            .request(method, gateway.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 404, "{path}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(
            body,
            serde_json::json!({ "message": "Not Found" }),
            "as API Gateway answers"
        );
    }
}

#[tokio::test]
async fn a_body_over_the_limit_gets_api_gateways_json_413() {
    let dir = site();
    let gateway = start(dir.path()).await;
    let response = reqwest::Client::new()
        .post(gateway.url("/api/v1/generate"))
        .bearer_auth(GOOD_TOKEN)
        .header("content-type", "application/json")
        .body(vec![b' '; 10 * 1024 * 1024 + 1])
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "not axum's text/plain rejection"
    );
    let body: Value = response.json().await.expect("json");
    let (_, text) = mumble_contract::api::gateway::PAYLOAD_TOO_LARGE;
    assert_eq!(
        body,
        serde_json::json!({ "message": text }),
        "as API Gateway answers"
    );
}

#[tokio::test]
async fn preflights_are_answered_for_the_stages_origins_only() {
    let dir = site();
    let gateway = start(dir.path()).await;
    let client = reqwest::Client::new();
    let preflight = |origin: &'static str| {
        client
            .request(reqwest::Method::OPTIONS, gateway.url("/api/v1/generate"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("http://127.0.0.1:3000").await.expect("request");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://127.0.0.1:3000"
    );
    let other = preflight("https://evil.example").await.expect("request");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}
