//! The HTTP API: route, authorize, call the function in-process, answer as API Gateway would.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::events::{HttpCall, http_request};
use crate::gateway::Gateway;

/// The answer when no route matches.
pub fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "not_found", "Not Found")
}

/// The answer when the JWT authorizer rejects a request.
pub fn unauthorized() -> Response {
    let mut response = message(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized");
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

/// A body the gateway cannot take (over [`crate::gateway::MAX_PAYLOAD_BYTES`], or unreadable),
/// answered in the JSON error shape rather than axum's plain-text rejection.
fn body_rejected(rejection: &BytesRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let text = format!(
            "the request body is larger than {} MB",
            crate::gateway::MAX_PAYLOAD_BYTES / (1024 * 1024)
        );
        message(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", &text)
    } else {
        message(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "the request body could not be read",
        )
    }
}

/// The bearer token of an `Authorization` header; API Gateway accepts it with or without the
/// `Bearer ` prefix.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let token = match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => value[7..].trim(),
        _ if value.eq_ignore_ascii_case("bearer") => "",
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

/// Every `/api/...` request.
pub async fn handle(
    State(gateway): State<Arc<Gateway>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => return body_rejected(&rejection),
    };
    let path = uri.path();
    let Some(matched) = gateway.routes.find(&method, path) else {
        return not_found();
    };
    let Some(function) = gateway.http_functions.get(&matched.route.function).cloned() else {
        tracing::error!(function = %matched.route.function, "no function is loaded for this route");
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal Server Error",
        );
    };
    let claims = if matched.route.auth {
        let Some(token) = bearer_token(&headers) else {
            return unauthorized();
        };
        match gateway.verifier.verify(token).await {
            Ok(claims) => Some(claims),
            Err(reason) => {
                tracing::info!(route = %matched.route.key(), %reason, "token rejected");
                return unauthorized();
            }
        }
    } else {
        None
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let route_key = matched.route.key();
    let domain_name = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or(&gateway.domain_name)
        .to_owned();
    let call = HttpCall {
        method: &method,
        path,
        raw_query: uri.query().unwrap_or_default(),
        headers: &headers,
        body: &body,
        route_key: &route_key,
        path_parameters: &matched.path_parameters,
        claims: claims.as_ref(),
        domain_name: &domain_name,
        source_ip: "127.0.0.1",
        request_id: &request_id,
        now: chrono::Utc::now(),
    };
    let request = match http_request(&call) {
        Ok(request) => request,
        Err(err) => {
            tracing::warn!(%err, "request could not be turned into an API Gateway event");
            return message(StatusCode::BAD_REQUEST, "invalid_input", "Bad Request");
        }
    };
    let response = function(request).await;
    let mut response = into_axum(response);
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", id);
    }
    response
}

/// A function's response as the HTTP response API Gateway sends.
pub fn into_axum(response: lambda_http::Response<lambda_http::Body>) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(text) => text.into_bytes(),
        lambda_http::Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_prefix_is_optional() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer abc.def.ghi"),
        );
        assert_eq!(bearer_token(&headers), Some("abc.def.ghi"));
        headers.insert("authorization", HeaderValue::from_static("abc.def.ghi"));
        assert_eq!(bearer_token(&headers), Some("abc.def.ghi"));
        headers.insert("authorization", HeaderValue::from_static("Bearer "));
        assert_eq!(bearer_token(&headers), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
