//! The WebSocket API at `/ws`: `$connect` (the function checks `?token=` itself, as in the
//! cloud, where the API has no authorizer), messages routed on `action`, `$disconnect` — each
//! turned into the event the websocket function gets from API Gateway.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{Value, json};

use crate::answers;
use crate::connections::{Outgoing, new_connection_id};
use crate::events::{WebSocketAction, WebSocketConnection, websocket_event};
use crate::gateway::Gateway;
use crate::ports::EventFunction;

/// `GET /ws`: run `$connect`, and only then accept the upgrade — a `$connect` answering other
/// than 2xx fails the handshake with its status, as API Gateway does.
pub async fn upgrade(
    State(gateway): State<Arc<Gateway>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let query = query.unwrap_or_default();
    let connection = WebSocketConnection {
        connection_id: new_connection_id(),
        connected_at: Utc::now(),
        domain_name: headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or(&gateway.domain_name)
            .to_owned(),
        source_ip: "127.0.0.1".to_owned(),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
    };
    let connect = WebSocketAction::Connect {
        query: &query,
        headers: &headers,
    };
    match invoke(&gateway.websocket.function, &connection, &connect).await {
        Ok((status, _)) if status.is_success() => {}
        Ok((status, body)) => return (status, body).into_response(),
        Err(err) => {
            tracing::error!(%err, "$connect failed");
            return answers::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            );
        }
    }
    upgrade.on_upgrade(move |socket| run(gateway, connection, socket))
}

/// Calls the websocket function with the event for `action`; its status code and body.
async fn invoke(
    function: &EventFunction,
    connection: &WebSocketConnection,
    action: &WebSocketAction<'_>,
) -> Result<(StatusCode, String), String> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let event = websocket_event(connection, action, &request_id, Utc::now());
    let result = function(event).await?;
    Ok(response_parts(&result))
}

/// Status and body of a proxy-integration result (`{"statusCode": 200, "body": "..."}`); a
/// function returning nothing counts as 200, as API Gateway treats it.
pub fn response_parts(result: &Value) -> (StatusCode, String) {
    let status = result
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|code| u16::try_from(code).ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(StatusCode::OK);
    let body = result
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

async fn run(gateway: Arc<Gateway>, connection: WebSocketConnection, mut socket: WebSocket) {
    let id = connection.connection_id.clone();
    let mut outbox = gateway.connections.open(connection.clone());
    tracing::info!(connection = %id, "websocket connected");
    let (status_code, reason) = loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    gateway.connections.touch(&id);
                    tokio::spawn(route_message(gateway.clone(), connection.clone(), text.to_string()));
                }
                Some(Ok(Message::Binary(bytes))) => {
                    gateway.connections.touch(&id);
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    tokio::spawn(route_message(gateway.clone(), connection.clone(), text));
                }
                Some(Ok(Message::Close(frame))) => {
                    break match frame {
                        Some(frame) => (frame.code, frame.reason.to_string()),
                        None => (1005, String::new()),
                    };
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Err(_)) | None => break (1006, "Connection closed abnormally".to_owned()),
            },
            outgoing = outbox.recv() => match outgoing {
                Some(Outgoing::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break (1006, "Connection closed abnormally".to_owned());
                    }
                }
                Some(Outgoing::Binary(bytes)) => {
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        break (1006, "Connection closed abnormally".to_owned());
                    }
                }
                Some(Outgoing::Close) | None => {
                    let frame = CloseFrame { code: 1000, reason: "Goodbye".into() };
                    let _closed = socket.send(Message::Close(Some(frame))).await;
                    break (1000, "Connection closed by the Management API".to_owned());
                }
            },
        }
    };
    gateway.connections.close(&id);
    tracing::info!(connection = %id, status_code, "websocket disconnected");
    let disconnect = WebSocketAction::Disconnect {
        status_code,
        reason: &reason,
    };
    if let Err(err) = invoke(&gateway.websocket.function, &connection, &disconnect).await {
        tracing::error!(connection = %id, %err, "$disconnect failed");
    }
}

/// One message: API Gateway's route selection on `action`, the function call, and the
/// function's answer (its body, when it has one) back on the socket.
async fn route_message(gateway: Arc<Gateway>, connection: WebSocketConnection, body: String) {
    let id = &connection.connection_id;
    let message_routes: Vec<String> = gateway
        .websocket
        .routes
        .iter()
        .map(|route| route.key.clone())
        .filter(|key| !matches!(key.as_str(), "$connect" | "$disconnect"))
        .collect();
    let Some(route_key) = crate::events::select_route(&body, &message_routes) else {
        let forbidden = json!({
            "message": "Forbidden",
            "connectionId": id,
            "requestId": uuid::Uuid::new_v4().to_string(),
        });
        gateway
            .connections
            .send(id, Outgoing::Text(forbidden.to_string()));
        return;
    };
    let replies = gateway
        .websocket
        .routes
        .iter()
        .any(|route| route.key == route_key && route.replies);
    let action = WebSocketAction::Message {
        route_key,
        body: &body,
    };
    match invoke(&gateway.websocket.function, &connection, &action).await {
        Ok((_, reply)) if replies && !reply.is_empty() => {
            gateway.connections.send(id, Outgoing::Text(reply));
        }
        Ok(_) => {}
        Err(err) => {
            tracing::error!(connection = %id, %route_key, %err, "websocket route failed");
            let failure = json!({
                "message": "Internal server error",
                "connectionId": id,
                "requestId": uuid::Uuid::new_v4().to_string(),
            });
            gateway
                .connections
                .send(id, Outgoing::Text(failure.to_string()));
        }
    }
}
