//! A gateway on a free 127.0.0.1 port whose functions record what they were called with.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, Response};
use local_gateway::conformance::Conformance;
use local_gateway::connections::Connections;
use local_gateway::gateway::{Gateway, WebSocketApi};
use local_gateway::ports::{BoxFuture, EventFunction, HttpFunction, HttpFunctions, TokenVerifier};
use local_gateway::router::{Cors, router};
use local_gateway::routes::{RouteTable, declared_websocket_routes};
use local_gateway::site::SiteConfig;
use serde_json::{Value, json};

/// The only token the stand-in verifier accepts, for user `user-1`.
pub const GOOD_TOKEN: &str = "good.token.sig";

struct FakeVerifier;

impl TokenVerifier for FakeVerifier {
    fn verify(&self, token: &str) -> BoxFuture<Result<HashMap<String, String>, String>> {
        let result = if token == GOOD_TOKEN {
            Ok(HashMap::from([
                ("sub".to_owned(), "user-1".to_owned()),
                ("email".to_owned(), "a@example.com".to_owned()),
            ]))
        } else {
            Err("bad signature".to_owned())
        };
        Box::pin(async move { result })
    }
}

/// Answers with what it saw: route key, path parameters, query and authorizer claims.
fn echo() -> HttpFunction {
    Arc::new(|request| {
        Box::pin(async move {
            let context = match request.request_context_ref() {
                Some(RequestContext::ApiGatewayV2(context)) => Some(context.clone()),
                _ => None,
            };
            let claims = context
                .as_ref()
                .and_then(|c| c.authorizer.as_ref())
                .and_then(|a| a.jwt.as_ref())
                .map(|jwt| jwt.claims.clone());
            let seen = json!({
                "routeKey": context.as_ref().and_then(|c| c.route_key.clone()),
                "id": request.path_parameters().first("id"),
                "limit": request.query_string_parameters().first("limit"),
                "claims": claims,
                "body": String::from_utf8_lossy(request.body().as_ref()),
            });
            let mut response = Response::new(Body::from(seen.to_string()));
            response
                .headers_mut()
                .insert("content-type", "application/json".parse().expect("header"));
            response
        })
    })
}

/// Every WebSocket event the stand-in function received.
pub type Events = Arc<Mutex<Vec<Value>>>;

/// `$connect` accepts `?token=GOOD_TOKEN` only (the real function verifies it the same way);
/// `generateImage` answers 202 with the body it got.
fn websocket_function(events: Events) -> EventFunction {
    Arc::new(move |event: Value| {
        events.lock().expect("lock").push(event.clone());
        Box::pin(async move {
            let route = event["requestContext"]["routeKey"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let reply = match route.as_str() {
                "$connect" if event["queryStringParameters"]["token"] == GOOD_TOKEN => {
                    json!({"statusCode": 200})
                }
                "$connect" => json!({"statusCode": 401, "body": "{\"type\":\"error\"}"}),
                "generateImage" => json!({
                    "statusCode": 202,
                    "body": json!({"type": "accepted", "got": event["body"]}).to_string(),
                }),
                _ => json!({"statusCode": 200}),
            };
            Ok(reply)
        })
    })
}

pub struct Running {
    pub base: String,
    pub events: Events,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn ws_url(&self, query: &str) -> String {
        format!("{}/ws{query}", self.base.replace("http://", "ws://"))
    }

    /// Connection ids, in the order `$connect` saw them.
    pub fn connection_ids(&self) -> Vec<String> {
        self.events
            .lock()
            .expect("lock")
            .iter()
            .filter(|e| e["requestContext"]["routeKey"] == "$connect")
            .filter_map(|e| {
                e["requestContext"]["connectionId"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect()
    }

    pub fn routes_seen(&self) -> Vec<String> {
        self.events
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|e| e["requestContext"]["routeKey"].as_str().map(str::to_owned))
            .collect()
    }
}

/// Starts a gateway serving `site_dir`.
pub async fn start(site_dir: &Path) -> Running {
    start_with(site_dir, HttpFunctions::new(), None).await
}

/// Starts a gateway serving `site_dir` whose functions are `functions` (the echo for the others),
/// checking traffic with `conformance` if given.
pub async fn start_with(
    site_dir: &Path,
    mut functions: HttpFunctions,
    conformance: Option<Arc<Conformance>>,
) -> Running {
    let events = Events::default();
    for name in RouteTable::declared().functions() {
        functions.entry(name.to_owned()).or_insert_with(echo);
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a free port");
    let port = listener.local_addr().expect("address").port();
    let gateway = Arc::new(Gateway {
        routes: RouteTable::declared(),
        http_functions: functions,
        verifier: Arc::new(FakeVerifier),
        websocket: WebSocketApi {
            routes: declared_websocket_routes(),
            function: websocket_function(events.clone()),
        },
        connections: Connections::default(),
        site_config: SiteConfig::local(
            port,
            "us-east-1",
            "us-east-1_pool",
            "client-1",
            "http://127.0.0.1:4566",
            "offline",
        ),
        domain_name: format!("127.0.0.1:{port}"),
        conformance,
    });
    let cors = Cors {
        allow_origins: vec!["http://127.0.0.1:3000".into()],
        allow_headers: vec!["authorization".into(), "content-type".into()],
        max_age_seconds: Some(600),
    };
    let app = router(gateway, site_dir, &cors);
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    Running {
        base: format!("http://127.0.0.1:{port}"),
        events,
    }
}
