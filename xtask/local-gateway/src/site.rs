//! The static site from `site/` on disk (edits show on the next reload) and its `config.json`.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, header};
use serde::Serialize;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// The site's runtime configuration, in the shape the deploy writes for cloud stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteConfig {
    pub stage: String,
    pub region: String,
    /// The gateway itself; the site appends `/api/v1/...`.
    pub api_url: String,
    pub web_socket_url: String,
    pub user_pool_id: String,
    pub user_pool_client_id: String,
    /// The emulator's Cognito API, which the browser calls directly.
    pub cognito_endpoint: String,
    /// `offline` tells the site to ask for the words, since no one transcribes the audio.
    pub providers: String,
}

impl SiteConfig {
    /// The configuration of the local stage served on `127.0.0.1:{port}`.
    pub fn local(
        port: u16,
        region: &str,
        user_pool_id: &str,
        client_id: &str,
        emulator_url: &str,
        providers: &str,
    ) -> Self {
        Self {
            stage: "local".to_owned(),
            region: region.to_owned(),
            api_url: format!("http://127.0.0.1:{port}"),
            web_socket_url: format!("ws://127.0.0.1:{port}/ws"),
            user_pool_id: user_pool_id.to_owned(),
            user_pool_client_id: client_id.to_owned(),
            cognito_endpoint: format!("{}/", emulator_url.trim_end_matches('/')),
            providers: providers.to_owned(),
        }
    }
}

/// Files under `dir`, with `index.html` for any other path (the site routes in the browser).
/// Every response says `no-cache`, so the browser revalidates and an edited file shows at once.
pub fn files(dir: &Path) -> Router {
    let service = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    Router::new()
        .fallback_service(service)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_config_points_the_site_at_the_gateway_and_the_emulator() {
        let config = SiteConfig::local(
            3000,
            "us-east-1",
            "us-east-1_abc",
            "client1",
            "http://127.0.0.1:4566",
            "offline",
        );
        let json = serde_json::to_value(&config).expect("serializes");
        assert_eq!(json["apiUrl"], "http://127.0.0.1:3000");
        assert_eq!(json["webSocketUrl"], "ws://127.0.0.1:3000/ws");
        assert_eq!(json["cognitoEndpoint"], "http://127.0.0.1:4566/");
        assert_eq!(json["userPoolClientId"], "client1");
        assert_eq!(json["stage"], "local");
        assert_eq!(json["providers"], "offline");
    }
}
