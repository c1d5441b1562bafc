//! Outbound HTTP clients (reqwest with rustls) with timeouts, so a slow third party costs us a
//! bounded part of the Lambda's time instead of all of it.

use std::sync::{Arc, OnceLock};
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
    let init_error = |reason: String| ConfigError::Init {
        what: "HTTP client".to_owned(),
        reason,
    };
    reqwest::Client::builder()
        .use_preconfigured_tls(tls_config().map_err(init_error)?)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .user_agent(concat!("mumble/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| init_error(e.to_string()))
}

/// Starts loading the root certificates on another thread. A cold start that reads SSM before
/// building its clients calls this first, so that the CPU work overlaps the network round trip;
/// [`client`] then finds the roots loaded, or waits for them.
pub fn preload_roots() {
    std::thread::spawn(|| {
        let _ = tls_config();
    });
}

/// What reqwest would set up by itself (rustls, the platform's roots through
/// rustls-platform-verifier), built once per process: loading and parsing the system's root
/// certificates is most of the cost of a client, and the worker builds two. The crypto provider is
/// ring, the one the SDK's client uses, so one TLS library ends up in the zip.
fn tls_config() -> Result<rustls::ClientConfig, String> {
    static CONFIG: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| format!("cannot load the root certificates: {e}"))?;
            Ok(rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth())
        })
        .clone()
}
