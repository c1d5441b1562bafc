//! The events API Gateway and S3 would send a function, built in their documented JSON shapes.
//!
//! Events are built as JSON and then deserialized by the same code the Lambda runtime uses
//! (`lambda_http::request::from_str`, serde for typed events), so a handler sees here exactly
//! what it sees in the cloud — including any quirk of that deserialization.
//!
//! One file over 500 lines: each event shape is next to the others so they stay consistent with
//! one another, and half of the file is their tests.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// The account id API Gateway reports; the emulator's default account.
pub const ACCOUNT_ID: &str = "123456789012";
/// The API id placed in request contexts (the local gateway has one of each kind).
pub const HTTP_API_ID: &str = "local-http";
pub const WEBSOCKET_API_ID: &str = "local-ws";

/// An HTTP request as the local gateway received it, after routing and authorization.
#[derive(Debug, Clone)]
pub struct HttpCall<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    /// The query string as sent, without `?`.
    pub raw_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub route_key: &'a str,
    pub path_parameters: &'a HashMap<String, String>,
    /// Verified token claims, as strings (see [`crate::claims`]); `None` on routes without auth.
    pub claims: Option<&'a HashMap<String, String>>,
    /// `host:port` the client addressed.
    pub domain_name: &'a str,
    pub source_ip: &'a str,
    pub request_id: &'a str,
    pub now: DateTime<Utc>,
}

/// The API Gateway HTTP API payload format 2.0 event for `call`.
pub fn http_api_event(call: &HttpCall<'_>) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in call.headers {
        let Ok(value) = value.to_str() else { continue };
        // Format 2.0 moves cookies out of the headers into their own array.
        if name == axum::http::header::COOKIE {
            cookies.extend(
                value
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
        // Repeated headers are joined with commas, as API Gateway does.
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value.to_owned()));
            }
        }
    }
    let (body, is_base64) = encode_body(call.body);
    let mut event = json!({
        "version": "2.0",
        "routeKey": call.route_key,
        "rawPath": call.path,
        "rawQueryString": call.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": HTTP_API_ID,
            "domainName": call.domain_name,
            "domainPrefix": call.domain_name.split(['.', ':']).next().unwrap_or_default(),
            "http": {
                "method": call.method.as_str(),
                "path": call.path,
                "protocol": "HTTP/1.1",
                "sourceIp": call.source_ip,
                "userAgent": call.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default(),
            },
            "requestId": call.request_id,
            "routeKey": call.route_key,
            "stage": "$default",
            "time": call.now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "timeEpoch": call.now.timestamp_millis(),
        },
        "isBase64Encoded": is_base64,
    });
    let fields = event.as_object_mut().expect("the event is an object");
    if !cookies.is_empty() {
        fields.insert("cookies".into(), json!(cookies));
    }
    if let Some(query) = query_parameters(call.raw_query) {
        fields.insert("queryStringParameters".into(), query);
    }
    if !call.path_parameters.is_empty() {
        fields.insert("pathParameters".into(), json!(call.path_parameters));
    }
    if let Some(body) = body {
        fields.insert("body".into(), Value::String(body));
    }
    if let Some(claims) = call.claims {
        fields["requestContext"]
            .as_object_mut()
            .expect("the request context is an object")
            .insert(
                "authorizer".into(),
                json!({ "jwt": { "claims": claims, "scopes": null } }),
            );
    }
    event
}

/// `call` as the `lambda_http::Request` an HTTP function's `handle` receives.
pub fn http_request(call: &HttpCall<'_>) -> Result<lambda_http::Request, serde_json::Error> {
    let event = http_api_event(call);
    let request = lambda_http::request::from_str(&event.to_string())?;
    Ok(lambda_http::RequestExt::with_lambda_context(
        request,
        lambda_context(call.request_id, call.now),
    ))
}

/// The Lambda context the runtime would attach (handlers log its request id).
fn lambda_context(request_id: &str, now: DateTime<Utc>) -> lambda_http::Context {
    let mut context = lambda_http::Context::default();
    context.request_id = request_id.to_owned();
    // The 29-second integration timeout of the HTTP API.
    context.deadline = u64::try_from(now.timestamp_millis()).unwrap_or_default() + 29_000;
    context
}

/// The query string as format 2.0's `queryStringParameters`: repeated names joined by commas.
fn query_parameters(raw_query: &str) -> Option<Value> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw_query).unwrap_or_default();
    if pairs.is_empty() {
        return None;
    }
    let mut parameters = Map::new();
    for (name, value) in pairs {
        match parameters.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                parameters.insert(name, Value::String(value));
            }
        }
    }
    Some(Value::Object(parameters))
}

/// A body as API Gateway passes it: text as is, anything else base64-encoded.
fn encode_body(body: &[u8]) -> (Option<String>, bool) {
    if body.is_empty() {
        return (None, false);
    }
    match std::str::from_utf8(body) {
        Ok(text) => (Some(text.to_owned()), false),
        Err(_) => (
            Some(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    }
}

/// One WebSocket connection as the events about it describe it.
#[derive(Debug, Clone)]
pub struct WebSocketConnection {
    pub connection_id: String,
    pub connected_at: DateTime<Utc>,
    pub domain_name: String,
    pub source_ip: String,
    pub user_agent: String,
}

/// What happened on a connection.
#[derive(Debug, Clone)]
pub enum WebSocketAction<'a> {
    Connect {
        query: &'a str,
        headers: &'a HeaderMap,
    },
    Message {
        route_key: &'a str,
        body: &'a str,
    },
    Disconnect {
        status_code: u16,
        reason: &'a str,
    },
}

/// The API Gateway WebSocket API event for `action` on `connection`.
pub fn websocket_event(
    connection: &WebSocketConnection,
    action: &WebSocketAction<'_>,
    request_id: &str,
    now: DateTime<Utc>,
) -> Value {
    let (route_key, event_type) = match action {
        WebSocketAction::Connect { .. } => ("$connect", "CONNECT"),
        WebSocketAction::Message { route_key, .. } => (*route_key, "MESSAGE"),
        WebSocketAction::Disconnect { .. } => ("$disconnect", "DISCONNECT"),
    };
    let context = json!({
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
        "messageDirection": "IN",
        "stage": "local",
        "connectedAt": connection.connected_at.timestamp_millis(),
        "requestTimeEpoch": now.timestamp_millis(),
        "identity": { "sourceIp": connection.source_ip, "userAgent": connection.user_agent },
        "requestId": request_id,
        "domainName": connection.domain_name,
        "connectionId": connection.connection_id,
        "apiId": WEBSOCKET_API_ID,
    });
    let mut event = json!({ "requestContext": context, "isBase64Encoded": false });
    let fields = event.as_object_mut().expect("the event is an object");
    match action {
        WebSocketAction::Connect { query, headers } => {
            let mut header_map = Map::new();
            for (name, value) in headers.iter() {
                if let Ok(value) = value.to_str() {
                    header_map.insert(name.as_str().to_owned(), Value::String(value.to_owned()));
                }
            }
            fields.insert("headers".into(), Value::Object(header_map));
            if let Some(query) = query_parameters(query) {
                fields.insert("queryStringParameters".into(), query);
            }
        }
        WebSocketAction::Message { body, .. } => {
            context_fields_insert(
                fields,
                "messageId",
                json!(uuid::Uuid::new_v4().simple().to_string()),
            );
            fields.insert("body".into(), Value::String((*body).to_owned()));
        }
        WebSocketAction::Disconnect {
            status_code,
            reason,
        } => {
            context_fields_insert(fields, "disconnectStatusCode", json!(status_code));
            context_fields_insert(fields, "disconnectReason", json!(reason));
        }
    }
    event
}

fn context_fields_insert(event: &mut Map<String, Value>, name: &str, value: Value) {
    if let Some(Value::Object(context)) = event.get_mut("requestContext") {
        context.insert(name.to_owned(), value);
    }
}

/// API Gateway's route selection (`$request.body.action`): the route key a message goes to,
/// or `None` when no route takes it (API Gateway then answers "Forbidden" on the socket).
pub fn select_route<'a>(body: &str, routes: &'a [String]) -> Option<&'a str> {
    let action = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|message| {
            message
                .get("action")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
    let wanted = action.as_deref().unwrap_or("$default");
    routes
        .iter()
        .find(|route| route.as_str() == wanted)
        .or_else(|| routes.iter().find(|route| route.as_str() == "$default"))
        .map(String::as_str)
}

/// The media bucket's EventBridge "Object Created" event for one new object, as S3 sends it to
/// EventBridge and the stage's rule passes it on to the image processor.
pub fn object_created_event(bucket: &str, key: &str, size: u64, now: DateTime<Utc>) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "000000000000",
        "time": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "region": "us-east-1",
        "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {
            "version": "0",
            "bucket": { "name": bucket },
            // Unlike S3 notification records, EventBridge carries the key as stored (not URL-encoded).
            "object": {
                "key": key,
                "size": size,
                "sequencer": format!("{:016X}", now.timestamp_micros()),
            },
            "request-id": "local",
            "requester": "000000000000",
            "source-ip-address": "127.0.0.1",
            "reason": "PutObject",
        },
    })
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
    use axum::http::HeaderValue;
    use lambda_http::request::RequestContext;
    use lambda_http::{Body, RequestExt};

    use super::*;

    fn claims() -> HashMap<String, String> {
        HashMap::from([
            (
                "sub".to_owned(),
                "0f6d2b1c-1111-2222-3333-444455556666".to_owned(),
            ),
            ("email".to_owned(), "a@example.com".to_owned()),
        ])
    }

    fn call<'a>(
        method: &'a Method,
        headers: &'a HeaderMap,
        params: &'a HashMap<String, String>,
        claims: Option<&'a HashMap<String, String>>,
        body: &'a [u8],
    ) -> HttpCall<'a> {
        HttpCall {
            method,
            path: "/api/v1/images/img-1",
            raw_query: "limit=5&tag=a&tag=b",
            headers,
            body,
            route_key: "DELETE /api/v1/images/{id}",
            path_parameters: params,
            claims,
            domain_name: "127.0.0.1:3000",
            source_ip: "127.0.0.1",
            request_id: "req-1",
            now: Utc::now(),
        }
    }

    #[test]
    fn an_http_request_reaches_the_handler_with_route_params_query_and_claims() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("cookie", HeaderValue::from_static("a=1; b=2"));
        let params = HashMap::from([("id".to_owned(), "img-1".to_owned())]);
        let claims = claims();
        let method = Method::DELETE;
        let request = http_request(&call(
            &method,
            &headers,
            &params,
            Some(&claims),
            br#"{"x":1}"#,
        ))
        .expect("a valid event");

        assert_eq!(request.method(), Method::DELETE);
        assert_eq!(request.uri().path(), "/api/v1/images/img-1");
        assert_eq!(request.path_parameters().first("id"), Some("img-1"));
        assert_eq!(request.query_string_parameters().first("limit"), Some("5"));
        assert_eq!(
            request.query_string_parameters().all("tag"),
            Some(vec!["a", "b"])
        );
        assert_eq!(request.headers()["content-type"], "application/json");
        assert_eq!(request.body(), &Body::Text(r#"{"x":1}"#.to_owned()));
        assert_eq!(
            request.lambda_context_ref().map(|c| c.request_id.as_str()),
            Some("req-1")
        );
        let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
            panic!("expected an HTTP API (payload 2.0) request context");
        };
        assert_eq!(
            context.route_key.as_deref(),
            Some("DELETE /api/v1/images/{id}")
        );
        let jwt = context
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .expect("JWT authorizer claims");
        assert_eq!(
            jwt.claims.get("sub").map(String::as_str),
            Some("0f6d2b1c-1111-2222-3333-444455556666")
        );
        assert_eq!(
            jwt.claims.get("email").map(String::as_str),
            Some("a@example.com")
        );
    }

    #[test]
    fn a_route_without_auth_has_no_authorizer_and_binary_bodies_survive() {
        let headers = HeaderMap::new();
        let params = HashMap::new();
        let method = Method::POST;
        let body = [0xff_u8, 0x00, 0x10];
        let request =
            http_request(&call(&method, &headers, &params, None, &body)).expect("a valid event");
        let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
            panic!("expected an HTTP API request context");
        };
        assert!(
            context
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .is_none()
        );
        assert_eq!(request.body().as_ref(), &body);
    }

    fn connection() -> WebSocketConnection {
        WebSocketConnection {
            connection_id: "Abc-DefGhiJk12=".to_owned(),
            connected_at: Utc::now(),
            domain_name: "127.0.0.1:3000".to_owned(),
            source_ip: "127.0.0.1".to_owned(),
            user_agent: "test".to_owned(),
        }
    }

    #[test]
    fn connect_carries_the_token_query_for_the_function_to_check() {
        let headers = HeaderMap::new();
        let action = WebSocketAction::Connect {
            query: "token=abc.def",
            headers: &headers,
        };
        let event = websocket_event(&connection(), &action, "req-2", Utc::now());
        let typed: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(event).expect("the function's event type");
        assert_eq!(typed.request_context.route_key.as_deref(), Some("$connect"));
        assert_eq!(typed.request_context.event_type.as_deref(), Some("CONNECT"));
        assert_eq!(
            typed.request_context.connection_id.as_deref(),
            Some("Abc-DefGhiJk12=")
        );
        assert_eq!(
            typed.query_string_parameters.first("token"),
            Some("abc.def")
        );
    }

    #[test]
    fn a_message_is_routed_on_its_action_and_keeps_its_body() {
        let routes = vec!["generateImage".to_owned()];
        let body = r#"{"action":"generateImage","audioKey":"audio/u/1.webm"}"#;
        let route = select_route(body, &routes).expect("a route");
        assert_eq!(route, "generateImage");
        let event = websocket_event(
            &connection(),
            &WebSocketAction::Message {
                route_key: route,
                body,
            },
            "r",
            Utc::now(),
        );
        let typed: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(event).expect("the function's event type");
        assert_eq!(
            typed.request_context.route_key.as_deref(),
            Some("generateImage")
        );
        assert_eq!(typed.request_context.event_type.as_deref(), Some("MESSAGE"));
        assert_eq!(typed.body.as_deref(), Some(body));
    }

    #[test]
    fn messages_without_a_matching_route_go_to_default_or_nowhere() {
        let routes = vec!["generateImage".to_owned()];
        assert_eq!(select_route(r#"{"action":"other"}"#, &routes), None);
        assert_eq!(select_route("not json", &routes), None);
        let with_default = vec!["generateImage".to_owned(), "$default".to_owned()];
        assert_eq!(
            select_route(r#"{"action":"other"}"#, &with_default),
            Some("$default")
        );
    }

    #[test]
    fn disconnect_reports_the_close_code() {
        let action = WebSocketAction::Disconnect {
            status_code: 1001,
            reason: "Going away",
        };
        let event = websocket_event(&connection(), &action, "r", Utc::now());
        let typed: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(event).expect("the function's event type");
        assert_eq!(
            typed.request_context.route_key.as_deref(),
            Some("$disconnect")
        );
        assert_eq!(typed.request_context.disconnect_status_code, Some(1001));
    }

    #[test]
    fn the_object_created_event_names_the_new_object_as_eventbridge_does() {
        let event = object_created_event("media", "images/user 1/a+b.png", 42, Utc::now());
        let typed: image_processor::ObjectCreatedEvent =
            serde_json::from_value(event).expect("the processor's event type");
        assert_eq!(typed.source, "aws.s3");
        assert_eq!(typed.detail_type, "Object Created");
        assert_eq!(typed.detail.bucket.name, "media");
        assert_eq!(
            typed.detail.object.key, "images/user 1/a+b.png",
            "EventBridge keys are not URL-encoded"
        );
        assert_eq!(typed.detail.object.size, Some(42));
    }
}
