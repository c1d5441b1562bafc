//! Successful JSON responses.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

/// `status` with `value` as a JSON body. Serialization of our own types cannot fail in practice;
/// if it ever does, the caller gets a 500 rather than a panic.
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => build(status, Body::Text(text)),
        Err(e) => {
            tracing::error!(error = %e, "could not serialize response body");
            build(
                StatusCode::INTERNAL_SERVER_ERROR,
                Body::Text(r#"{"error":{"code":"internal","message":"something went wrong on our side; try again later"}}"#.to_owned()),
            )
        }
    }
}

/// 200 with a JSON body.
pub fn ok<T: Serialize + ?Sized>(value: &T) -> Response<Body> {
    json(StatusCode::OK, value)
}

/// 201 with a JSON body.
pub fn created<T: Serialize + ?Sized>(value: &T) -> Response<Body> {
    json(StatusCode::CREATED, value)
}

/// 202 with a JSON body.
pub fn accepted<T: Serialize + ?Sized>(value: &T) -> Response<Body> {
    json(StatusCode::ACCEPTED, value)
}

/// 204 without a body.
pub fn no_content() -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

fn build(status: StatusCode, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    // Per-user data must never be served from a shared cache.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}
