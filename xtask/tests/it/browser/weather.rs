//! A local OpenWeather for the browser test: Shanghai's weather for a position near Shanghai, and
//! OpenWeather's own 503 for anywhere else, so one `cargo xtask dev` shows both a picture with
//! the weather and one whose weather was not available.

use anyhow::{Context, Result};
use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

/// Where the weather service answers, and what it says there.
pub const SHANGHAI: (f64, f64) = (31.2304, 121.4737);
pub const PLACE: &str = "Shanghai";
pub const DESCRIPTION: &str = "light rain";
pub const TEMPERATURE: f64 = 17.6;
/// A position the service fails for (Reykjavík).
pub const FAILING: (f64, f64) = (64.1466, -21.9426);

#[derive(Deserialize)]
struct Position {
    lat: f64,
    lon: f64,
    appid: String,
}

async fn current(Query(position): Query<Position>) -> Response {
    if position.appid.is_empty() {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"cod": 401, "message": "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info."})),
        )
            .into_response();
    }
    let near = |(lat, lon): (f64, f64)| {
        (position.lat - lat).abs() < 0.5 && (position.lon - lon).abs() < 0.5
    };
    if !near(SHANGHAI) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"cod": 503, "message": "Service temporarily unavailable"})),
        )
            .into_response();
    }
    Json(json!({
        "coord": {"lon": position.lon, "lat": position.lat},
        "weather": [{"id": 500, "main": "Rain", "description": DESCRIPTION, "icon": "10d"}],
        "base": "stations",
        "main": {"temp": TEMPERATURE, "feels_like": 17.4, "temp_min": 16.9, "temp_max": 18.1,
                 "pressure": 1016, "humidity": 88},
        "visibility": 8000,
        "wind": {"speed": 4.1, "deg": 110},
        "dt": 1_764_480_000,
        "sys": {"country": "CN", "sunrise": 1_764_453_600, "sunset": 1_764_491_400},
        "timezone": 28800,
        "id": 1_796_236,
        "name": PLACE,
        "cod": 200
    }))
    .into_response()
}

/// Starts the service on a free port of 127.0.0.1; it runs until the test's runtime ends.
/// Returns its base URL (for `OPENWEATHER_BASE_URL`).
pub async fn start() -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot open a port for the fake weather service")?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = axum::Router::new().route("/data/2.5/weather", axum::routing::get(current));
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
