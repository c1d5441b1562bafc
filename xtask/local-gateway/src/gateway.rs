//! The gateway's state: what every handler (site, HTTP API, WebSocket API, Management API) may
//! need.

use std::sync::Arc;

use crate::conformance::Conformance;
use crate::connections::Connections;
use crate::ports::{EventFunction, HttpFunctions, TokenVerifier};
use crate::routes::{RouteTable, WebSocketRoute};
use crate::site::SiteConfig;

/// API Gateway's payload limit for HTTP APIs.
pub const MAX_PAYLOAD_BYTES: usize = mumble_contract::api::gateway::MAX_PAYLOAD_BYTES;

/// Everything a request may need.
pub struct Gateway {
    pub routes: RouteTable,
    pub http_functions: HttpFunctions,
    pub verifier: Arc<dyn TokenVerifier>,
    pub websocket: WebSocketApi,
    pub connections: Connections,
    pub site_config: SiteConfig,
    /// `127.0.0.1:{port}`, for request contexts when a client sends no `Host`.
    pub domain_name: String,
    /// In tests: the check of every API request and response against the OpenAPI document.
    pub conformance: Option<Arc<Conformance>>,
}

/// The WebSocket API: its routes and the function behind all of them.
#[derive(Clone)]
pub struct WebSocketApi {
    pub routes: Vec<WebSocketRoute>,
    pub function: EventFunction,
}
