//! The one mapping from errors to HTTP: status, code, message, and nothing internal leaks.

use mumble_core::{ApiError, respond};
use mumble_testing::json_response;

#[test]
fn every_error_has_its_status_and_code() {
    let cases = [
        (
            ApiError::invalid("lat", "must be a number"),
            400,
            "invalid_input",
        ),
        (
            ApiError::Unauthorized("sign in".into()),
            401,
            "unauthorized",
        ),
        (ApiError::Forbidden("no".into()), 403, "forbidden"),
        (ApiError::NotFound("no image".into()), 404, "not_found"),
        (ApiError::Conflict("exists".into()), 409, "conflict"),
        (
            ApiError::PayloadTooLarge("big".into()),
            413,
            "payload_too_large",
        ),
        (
            ApiError::UnsupportedMediaType("text".into()),
            415,
            "unsupported_media_type",
        ),
        (
            ApiError::TooManyRequests("slow down".into()),
            429,
            "rate_limited",
        ),
        (
            ApiError::upstream("the weather service failed", "HTTP 500"),
            502,
            "upstream_failed",
        ),
        (
            ApiError::unavailable("DynamoDB throttled"),
            503,
            "unavailable",
        ),
        (ApiError::internal("bug"), 500, "internal"),
    ];
    for (error, status, code) in cases {
        let (actual, body) = json_response(&respond(Err(error)));
        assert_eq!(actual, status, "{body}");
        assert_eq!(body["error"]["code"], code);
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn invalid_input_names_the_field() {
    let (_, body) = json_response(&respond(Err(ApiError::invalid(
        "contentLength",
        "must be positive",
    ))));
    assert_eq!(body["error"]["field"], "contentLength");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("contentLength")
    );
}

#[test]
fn internal_details_are_not_returned() {
    for error in [
        ApiError::upstream(
            "the weather service failed",
            "secret-upstream-body appid=abc123",
        ),
        ApiError::unavailable(
            "arn:aws:dynamodb:us-east-1:123456789012:table/mumble-prod-images throttled",
        ),
        ApiError::internal("panic-ish detail at src/lib.rs:10"),
    ] {
        let response = respond(Err(error));
        let (_, body) = json_response(&response);
        let text = body.to_string();
        for secret in [
            "secret-upstream-body",
            "abc123",
            "arn:aws",
            "123456789012",
            "src/lib.rs",
        ] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}

#[test]
fn error_responses_are_json_and_not_cached() {
    let response = respond(Err(ApiError::NotFound("no".into())));
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["cache-control"], "no-store");
}
