//! API Gateway's own answers (no route, no token, too large) and the gateway's errors in Mumble's
//! JSON error shape.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mumble_contract::api::gateway as answers;
use serde_json::json;

/// API Gateway's own answer `(status, text)` of `mumble_contract::api::gateway`.
pub fn answer((status, text): (u16, &str)) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json!({ "message": text }))).into_response()
}

/// API Gateway's answer when no route matches.
pub fn not_found() -> Response {
    answer(answers::NOT_FOUND)
}

/// The answer when the JWT authorizer rejects a request.
pub fn unauthorized() -> Response {
    let mut response = answer(answers::UNAUTHORIZED);
    // What API Gateway's JWT authorizer sends along with its 401.
    response.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer"),
    );
    response
}

/// The gateway's own errors: Mumble's error shape `{"error": {"code", "message"}}`, which the
/// site reads for every error, with API Gateway's `message` beside it for clients that read that.
pub fn message(status: StatusCode, code: &str, text: &str) -> Response {
    let body = json!({ "message": text, "error": { "code": code, "message": text } });
    (status, axum::Json(body)).into_response()
}
