//! The gateway's one router: the site, the HTTP API (with API Gateway's CORS and payload limit),
//! the WebSocket API and the Management API.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method};
use axum::routing::{any, get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::gateway::{Gateway, MAX_PAYLOAD_BYTES};
use crate::{http_api, management, site, websocket};

/// The CORS rules of the HTTP API (API Gateway answers preflights itself, before any function).
#[derive(Debug, Clone, Default)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_headers: Vec<String>,
    pub max_age_seconds: Option<u64>,
}

impl Cors {
    fn layer(&self, methods: Vec<Method>) -> Option<CorsLayer> {
        let origins: Vec<HeaderValue> = self
            .allow_origins
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        if origins.is_empty() {
            return None;
        }
        let headers: Vec<HeaderName> = self
            .allow_headers
            .iter()
            .filter_map(|name| HeaderName::try_from(name.as_str()).ok())
            .collect();
        // API Gateway accepts `*` among the origins; tower-http wants it spelled as `any`.
        let allow_origin = if self.allow_origins.iter().any(|origin| origin == "*") {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(origins)
        };
        let mut layer = CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(methods)
            .allow_headers(headers);
        if let Some(seconds) = self.max_age_seconds {
            layer = layer.max_age(std::time::Duration::from_secs(seconds));
        }
        Some(layer)
    }
}

/// The whole gateway as one axum router.
pub fn router(gateway: Arc<Gateway>, site_dir: &Path, cors: &Cors) -> Router {
    let mut api = Router::new()
        .route("/api", any(http_api::handle))
        .route("/api/{*rest}", any(http_api::handle))
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES));
    if let Some(layer) = cors.layer(gateway.routes.methods()) {
        api = api.layer(layer);
    }
    let config = gateway.site_config.clone();
    Router::new()
        .merge(api)
        .route("/ws", get(websocket::upgrade))
        .route(
            "/@connections/{id}",
            post(management::post)
                .get(management::get)
                .delete(management::delete),
        )
        .route(
            "/config.json",
            get(move || async move { axum::Json(config) }),
        )
        .with_state(gateway)
        .fallback_service(site::files(site_dir))
}
