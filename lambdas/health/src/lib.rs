//! `GET /api/v1/health`: whether the API is up, which version and stage answer.
//!
//! Kept cheap on purpose: no AWS calls, so probes and uptime checks cost nothing and never fail
//! because a dependency is slow.

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use mumble_core::{ApiError, ConfigError, Env, respond, response};
use serde::Serialize;

pub struct Deps {
    pub stage: String,
}

impl Deps {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            stage: Env::stage()?,
        })
    }
}

#[derive(Debug, Serialize)]
struct Health<'a> {
    status: &'static str,
    service: &'static str,
    version: &'static str,
    stage: &'a str,
    timestamp: String,
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    respond(health(deps, &req))
}

fn health(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::no_route(req));
    }
    Ok(response::ok(&Health {
        status: "ok",
        service: "mumble",
        version: env!("CARGO_PKG_VERSION"),
        stage: &deps.stage,
        timestamp: mumble_core::time::now(),
    }))
}
