//! Outbound HTTP clients (reqwest with rustls) with timeouts, so a slow third party costs us a
//! bounded part of the Lambda's time instead of all of it.

use std::time::Duration;

use crate::config::ConfigError;

/// Timeouts for one client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// The whole request: connect, send, wait and read the body.
    pub total: Duration,
}

impl Timeouts {
    /// For quick JSON APIs (OpenWeather, JWKS).
    pub const QUICK: Self = Self {
        connect: Duration::from_secs(2),
        total: Duration::from_secs(5),
    };
    /// For slow generation APIs (Whisper, DALL-E).
    pub const SLOW: Self = Self {
        connect: Duration::from_secs(3),
        total: Duration::from_secs(60),
    };
}

/// A client with `timeouts`. Build one per cold start and share it: it pools connections.
pub fn client(timeouts: Timeouts) -> Result<reqwest::Client, ConfigError> {
    // reqwest is built without a bundled crypto provider; ring is the one the SDK client uses,
    // so only one TLS library ends up in the zip. Installing fails harmlessly if already done.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .user_agent(concat!("mumble/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ConfigError::Init {
            what: "HTTP client".to_owned(),
            reason: e.to_string(),
        })
}
