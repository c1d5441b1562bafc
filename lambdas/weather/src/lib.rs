//! `GET /api/v1/weather?lat=&lon=`: the current weather at a coordinate, in the caller's language
//! (from `Accept-Language`, default Simplified Chinese), from OpenWeather.
//!
//! Answers are cached per coordinate rounded to about a kilometre for five minutes in the warm
//! container; OpenWeather failures are a 502 with a message saying what to do.

use std::sync::Arc;

use aws_config::SdkConfig;
use lambda_http::http::{Method, header};
use lambda_http::{Body, Request, Response};
use mumble_contract::api::{CurrentWeather, WeatherQuery};
use mumble_core::config::{defaults, vars};
use mumble_core::http::{Timeouts, client};
use mumble_core::secrets::{self, SsmSecrets};
use mumble_core::weather::{
    CachedWeather, OpenWeather, WeatherProvider, language_from_accept_language,
};
use mumble_core::{ApiError, Caller, ConfigError, Env, aws, request, respond, response};

pub struct Deps {
    pub weather: Arc<dyn WeatherProvider>,
}

impl Deps {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        mumble_core::http::preload_roots();
        let api_key = secrets::load(
            &SsmSecrets::new(aws::ssm_client(sdk)),
            vars::OPENWEATHER_API_KEY_PARAM,
        )
        .await?;
        let base_url = Env::or(vars::OPENWEATHER_BASE_URL, defaults::OPENWEATHER_BASE_URL);
        let openweather = OpenWeather::new(client(Timeouts::QUICK)?, &base_url, api_key);
        Ok(Self {
            weather: Arc::new(CachedWeather::new(
                Arc::new(openweather),
                CachedWeather::DEFAULT_TTL,
            )),
        })
    }
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    respond(weather(deps, &req).await)
}

async fn weather(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    if req.method() != Method::GET {
        return Err(ApiError::no_route(req));
    }
    Caller::from_request(req)?;
    // The ranges are checked with the query (`api::WeatherQuery`).
    let query: WeatherQuery = request::query(req)?;
    let lang =
        language_from_accept_language(request::header(req, header::ACCEPT_LANGUAGE.as_str()));

    let current = deps.weather.current(query.lat, query.lon, &lang).await?;
    Ok(response::ok(&CurrentWeather {
        description: current.description,
        temperature: current.temperature,
        location: current.location,
        timestamp: mumble_core::time::now(),
    }))
}
