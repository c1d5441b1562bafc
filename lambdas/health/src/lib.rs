//! `GET /api/v1/health`: whether the API is up, which version and stage answer.
//!
//! Kept cheap on purpose: no AWS calls, so probes and uptime checks cost nothing and never fail
//! because a dependency is slow.

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use mumble_contract::api::{Health, HealthStatus};
use mumble_core::{ApiError, ConfigError, Env, respond, response};

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

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    respond(health(deps, &req))
}

fn health(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Err(ApiError::no_route(req));
    }
    Ok(response::ok(&Health {
        status: HealthStatus::Ok,
        service: "mumble".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        stage: deps.stage.clone(),
        timestamp: mumble_core::time::now(),
    }))
}
