//! The HTTP API: route, authorize, call the function in-process, answer as API Gateway would.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use mumble_contract::api::gateway as answers;

use crate::answers::{answer, message, not_found, unauthorized};
use crate::events::{HttpCall, http_request};
use crate::gateway::Gateway;

/// A body the gateway cannot take (over [`crate::gateway::MAX_PAYLOAD_BYTES`], or unreadable),
/// answered in the JSON error shape rather than axum's plain-text rejection.
fn body_rejected(rejection: &BytesRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        answer(answers::PAYLOAD_TOO_LARGE)
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
    let route_key = matched.route.key();
    let answered = |response: Response| checked(&gateway, &route_key, response);
    let Some(function) = gateway.http_functions.get(&matched.route.function).cloned() else {
        tracing::error!(function = %matched.route.function, "no function is loaded for this route");
        return answered(answer(answers::INTERNAL_SERVER_ERROR)).await;
    };
    let claims = if matched.route.auth {
        let Some(token) = bearer_token(&headers) else {
            return answered(unauthorized()).await;
        };
        match gateway.verifier.verify(token).await {
            Ok(claims) => Some(claims),
            Err(reason) => {
                tracing::info!(route = %route_key, %reason, "token rejected");
                return answered(unauthorized()).await;
            }
        }
    } else {
        None
    };
    if let Some(conformance) = &gateway.conformance {
        let query: Vec<(String, String)> = form_urlencoded_pairs(uri.query().unwrap_or_default());
        conformance.record(
            &route_key,
            &conformance
                .check_request(&route_key, &query, &headers, &body)
                .into_iter()
                .map(|problem| format!("request {problem}"))
                .collect::<Vec<_>>(),
        );
    }
    let request_id = uuid::Uuid::new_v4().to_string();
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
    let mut response = answered(into_axum(response)).await;
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", id);
    }
    response
}

/// `response` as it is when the gateway checks nothing or it matches the OpenAPI document; else
/// a 500 naming the violation (which is recorded).
async fn checked(gateway: &Gateway, route_key: &str, response: Response) -> Response {
    let Some(conformance) = &gateway.conformance else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(e) => {
            return message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &e.to_string(),
            );
        }
    };
    let problems: Vec<String> = conformance
        .check_response(route_key, parts.status.as_u16(), &bytes)
        .into_iter()
        .map(|problem| format!("response {problem}"))
        .collect();
    if problems.is_empty() {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    conformance.record(route_key, &problems);
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "openapi_violation",
        &format!(
            "the response does not match the OpenAPI document: {}",
            problems.join("; ")
        ),
    )
}

/// A query string's decoded pairs, as API Gateway hands them to a function.
fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(query).unwrap_or_default()
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
