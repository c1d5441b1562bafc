//! Integration tests of the health function: the handler called with fixture events.

use health::{Deps, handle};
use mumble_testing::{json_response, request, request_with};

const GET_HEALTH: &str = include_str!("../fixtures/get-health.json");

fn deps() -> Deps {
    Deps {
        stage: "staging".to_owned(),
    }
}

#[tokio::test]
async fn health_reports_ok_with_version_and_stage() {
    let (status, body) = json_response(&handle(&deps(), request(GET_HEALTH)).await);
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "mumble");
    assert_eq!(body["stage"], "staging");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    let timestamp = body["timestamp"].as_str().expect("a timestamp");
    assert!(
        timestamp.ends_with('Z') && timestamp.len() == 24,
        "RFC 3339 UTC with millis: {timestamp}"
    );
}

#[tokio::test]
async fn health_needs_no_sign_in() {
    let response = handle(&deps(), request(GET_HEALTH)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn other_methods_get_a_json_404() {
    let req = request_with(GET_HEALTH, |e| {
        e["requestContext"]["http"]["method"] = "POST".into()
    });
    let (status, body) = json_response(&handle(&deps(), req).await);
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}
