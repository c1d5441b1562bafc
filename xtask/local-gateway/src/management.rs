//! The API Gateway Management API (`/@connections/{id}`), which the worker's pusher calls to
//! reach a browser; its base URL is the gateway's own (`WEBSOCKET_ENDPOINT`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::connections::Outgoing;
use crate::gateway::Gateway;

/// `POST /@connections/{id}`: the body goes to the socket as one message.
pub async fn post(
    State(gateway): State<Arc<Gateway>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let message = match String::from_utf8(body.to_vec()) {
        Ok(text) => Outgoing::Text(text),
        Err(bytes) => Outgoing::Binary(bytes.into_bytes()),
    };
    if gateway.connections.send(&id, message) {
        StatusCode::OK.into_response()
    } else {
        gone(&id)
    }
}

/// `GET /@connections/{id}`: when it connected and who it is.
pub async fn get(State(gateway): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    match gateway.connections.get(&id) {
        Some(connection) => axum::Json(json!({
            "connectedAt": connection.info.connected_at.to_rfc3339(),
            "lastActiveAt": connection.last_active_at.to_rfc3339(),
            "identity": { "sourceIp": connection.info.source_ip, "userAgent": connection.info.user_agent },
        }))
        .into_response(),
        None => gone(&id),
    }
}

/// `DELETE /@connections/{id}`: closes the socket.
pub async fn delete(State(gateway): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    if gateway.connections.send(&id, Outgoing::Close) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        gone(&id)
    }
}

/// The `GoneException` the AWS SDK recognises (by the `x-amzn-ErrorType` header).
fn gone(id: &str) -> Response {
    let mut response = (
        StatusCode::GONE,
        axum::Json(json!({ "message": format!("connection {id} is gone") })),
    )
        .into_response();
    response.headers_mut().insert(
        "x-amzn-errortype",
        HeaderValue::from_static("GoneException"),
    );
    response
}
