//! Start-up: keys, functions, verifier, router; then serve until Ctrl-C, SIGTERM or the parent
//! process going away.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use mumble_core::jwt::JwtVerifier;

use crate::conformance::Conformance;
use crate::connections::Connections;
use crate::gateway::{Gateway, WebSocketApi};
use crate::router::{Cors, router};
use crate::routes::{RouteTable, declared_websocket_routes};
use crate::settings::Settings;
use crate::site::SiteConfig;
use crate::verifier::{CognitoVerifier, cognito_config};
use crate::{functions, secrets};

pub async fn run(settings: Settings) -> Result<()> {
    let sdk = mumble_core::aws::sdk_config()?;
    let stored = secrets::store_keys(&sdk).await?;
    if settings.providers == "offline" {
        eprintln!(
            "providers: offline — the transcript comes with the request and images are drawn locally \
             (set OPENAI_API_KEY and OPENWEATHER_API_KEY before `cargo xtask dev` to use OpenAI and OpenWeather)"
        );
    } else {
        eprintln!(
            "providers: OpenAI and OpenWeather (keys from {} in this environment)",
            stored.join(" and ")
        );
    }
    if std::env::var(mumble_core::config::vars::OPENWEATHER_API_KEY_PARAM).is_err() {
        eprintln!(
            "weather: off — no OPENWEATHER_API_KEY in the environment; pictures are made without weather"
        );
    }

    let http = mumble_core::http::client(mumble_core::http::Timeouts::QUICK)
        .context("cannot build an HTTP client")?;
    let jwt = cognito_config(
        &settings.region,
        &settings.user_pool_id,
        &settings.user_pool_client_id,
        &settings.emulator_url,
    );
    let jwt = Arc::new(JwtVerifier::new(jwt, http));
    let verifier = Arc::new(CognitoVerifier(jwt.clone()));

    let connections = Connections::default();
    let loaded = functions::load(&sdk, jwt).await;
    for (name, reason) in &loaded.failed {
        // SDK errors carry the whole HTTP exchange; the first clause says what is wrong.
        let reason = reason.split(": service error").next().unwrap_or(reason);
        tracing::warn!("function {name} did not start, its routes answer 503: {reason}");
    }
    let routes = RouteTable::declared();
    if let Some(missing) = routes
        .functions()
        .find(|name| !loaded.http.contains_key(*name))
    {
        anyhow::bail!(
            "function `{missing}` is routed in stacks::routes but the gateway does not load it"
        );
    }
    let conformance = match &settings.check_openapi {
        Some(record) => {
            eprintln!(
                "checking every API request and response against the OpenAPI document; violations go to {}",
                record.display()
            );
            Some(Arc::new(Conformance::mumble(Some(record.clone()))?))
        }
        None => None,
    };
    let gateway = Arc::new(Gateway {
        routes,
        http_functions: loaded.http,
        verifier,
        websocket: WebSocketApi {
            routes: declared_websocket_routes(),
            function: loaded.websocket,
        },
        connections,
        site_config: SiteConfig::local(
            settings.port,
            &settings.region,
            &settings.user_pool_id,
            &settings.user_pool_client_id,
            &settings.emulator_url,
            &settings.providers,
        ),
        domain_name: format!("127.0.0.1:{}", settings.port),
        conformance,
    });
    let cors = Cors {
        allow_origins: settings
            .allowed_origins
            .iter()
            .filter(|o| !o.is_empty())
            .cloned()
            .collect(),
        // As the stage's HTTP API is configured (stacks' app stack).
        allow_headers: vec![
            "authorization".into(),
            "content-type".into(),
            "idempotency-key".into(),
        ],
        max_age_seconds: Some(600),
    };
    let app = router(gateway, &settings.site_dir, &cors);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", settings.port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on 127.0.0.1:{}; is another `cargo xtask dev` running?",
                settings.port
            )
        })?;
    eprintln!(
        "local gateway on http://127.0.0.1:{} (site from {})",
        settings.port,
        settings.site_dir.display()
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(stopped(settings.parent))
        .await
        .context("the gateway failed")
}

/// Resolves on Ctrl-C, SIGTERM, or when `parent` is no longer our parent process.
async fn stopped(parent: Option<u32>) {
    let parent_gone = async {
        match parent {
            Some(pid) => loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if std::os::unix::process::parent_id() != pid {
                    break;
                }
            },
            None => std::future::pending().await,
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
        () = parent_gone => {}
    }
}
