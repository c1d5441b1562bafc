//! Integration tests of the weather function: the handler with the real OpenWeather client
//! against a local fake OpenWeather on 127.0.0.1.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use mumble_core::http::{Timeouts, client};
use mumble_core::secrets::Secret;
use mumble_core::weather::{CachedWeather, OpenWeather};
use mumble_testing::{anonymous, assert_error, json_response, request, request_with};
use serde_json::{Value, json};
use weather::{Deps, handle};

const GET_WEATHER: &str = include_str!("../fixtures/get-weather.json");
const API_KEY: &str = "ow-test-key-5f2b";

/// How the fake OpenWeather answers.
#[derive(Clone, Copy)]
enum Mode {
    Sunny,
    BadKey,
    RateLimited,
    Broken,
    Garbage,
    Slow,
}

struct Fake {
    mode: Mode,
    calls: Mutex<Vec<HashMap<String, String>>>,
}

async fn current_weather(
    State(fake): State<Arc<Fake>>,
    Query(query): Query<HashMap<String, String>>,
) -> axum::response::Response {
    fake.calls.lock().unwrap().push(query.clone());
    match fake.mode {
        Mode::Sunny => {
            let description = if query.get("lang").map(String::as_str) == Some("en") { "clear sky" } else { "晴" };
            axum::Json(json!({
                "coord": {"lon": 116.4074, "lat": 39.9042},
                "weather": [{"id": 800, "main": "Clear", "description": description, "icon": "01d"}],
                "main": {"temp": 3.5, "feels_like": 0.2, "humidity": 30},
                "name": "Beijing",
                "sys": {"country": "CN"},
                "cod": 200
            }))
            .into_response()
        }
        Mode::BadKey => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"cod": 401, "message": "Invalid API key. Please see https://openweathermap.org/faq#error401 for more info."})),
        )
            .into_response(),
        Mode::RateLimited => (StatusCode::TOO_MANY_REQUESTS, axum::Json(json!({"cod": 429, "message": "rate limit"}))).into_response(),
        Mode::Broken => (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response(),
        Mode::Garbage => (StatusCode::OK, "<html>surprise</html>").into_response(),
        Mode::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            axum::Json(json!({})).into_response()
        }
    }
}

/// Starts a fake OpenWeather and returns the handler's deps wired to it.
async fn deps_with(mode: Mode) -> (Deps, Arc<Fake>) {
    let fake = Arc::new(Fake {
        mode,
        calls: Mutex::new(Vec::new()),
    });
    let app = Router::new()
        .route("/data/2.5/weather", get(current_weather))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let timeouts = Timeouts {
        connect: Duration::from_secs(1),
        total: Duration::from_millis(500),
    };
    let openweather = OpenWeather::new(client(timeouts).unwrap(), &base_url, Secret::new(API_KEY));
    let deps = Deps {
        weather: Arc::new(CachedWeather::new(
            Arc::new(openweather),
            CachedWeather::DEFAULT_TTL,
        )),
    };
    (deps, fake)
}

fn at(lat: &str, lon: &str) -> lambda_http::Request {
    let (lat, lon) = (lat.to_owned(), lon.to_owned());
    request_with(GET_WEATHER, move |e| {
        e["rawQueryString"] = format!("lat={lat}&lon={lon}").into();
        e["queryStringParameters"] = json!({"lat": lat, "lon": lon});
    })
}

fn with_query(query: Value) -> lambda_http::Request {
    request_with(GET_WEATHER, move |e| {
        let raw: Vec<String> = query
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
            .collect();
        e["rawQueryString"] = raw.join("&").into();
        e["queryStringParameters"] = query;
    })
}

#[tokio::test]
async fn weather_is_described_in_chinese_by_default_with_metric_units() {
    let (deps, fake) = deps_with(Mode::Sunny).await;
    let (status, body) = json_response(&handle(&deps, request(GET_WEATHER)).await);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["description"], "晴");
    assert_eq!(body["temperature"], 3.5);
    assert_eq!(body["location"], "Beijing");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));

    let calls = fake.calls.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["units"], "metric");
    assert_eq!(calls[0]["lang"], "zh_cn");
    assert_eq!(calls[0]["appid"], API_KEY);
    assert_eq!(calls[0]["lat"], "39.9042");
    assert_eq!(calls[0]["lon"], "116.4074");
}

#[tokio::test]
async fn accept_language_chooses_the_description_language() {
    let (deps, fake) = deps_with(Mode::Sunny).await;
    let req = request_with(GET_WEATHER, |e| {
        e["headers"]["accept-language"] = "en-GB,en;q=0.9,zh;q=0.5".into()
    });
    let (status, body) = json_response(&handle(&deps, req).await);
    assert_eq!(status, 200);
    assert_eq!(body["description"], "clear sky");
    assert_eq!(fake.calls.lock().unwrap()[0]["lang"], "en");
}

#[tokio::test]
async fn nearby_requests_are_answered_from_the_cache() {
    let (deps, fake) = deps_with(Mode::Sunny).await;
    for (lat, lon) in [
        ("39.9042", "116.4074"),
        ("39.9001", "116.4071"),
        ("39.9042", "116.4074"),
    ] {
        assert_eq!(handle(&deps, at(lat, lon)).await.status(), 200);
    }
    assert_eq!(
        fake.calls.lock().unwrap().len(),
        1,
        "one upstream call for the same rounded coordinate"
    );
    assert_eq!(handle(&deps, at("31.2304", "121.4737")).await.status(), 200);
    assert_eq!(
        fake.calls.lock().unwrap().len(),
        2,
        "another place is fetched"
    );
}

#[tokio::test]
async fn upstream_failures_are_502_with_a_clear_message_and_no_secrets() {
    for (mode, hint) in [
        (Mode::BadKey, "refused"),
        (Mode::RateLimited, "busy"),
        (Mode::Broken, "failed"),
        (Mode::Garbage, "failed"),
        (Mode::Slow, "in time"),
    ] {
        let (deps, _) = deps_with(mode).await;
        let response = handle(&deps, request(GET_WEATHER)).await;
        let message = assert_error(&response, 502, "upstream_failed");
        assert!(
            message.contains("weather service") && message.contains(hint),
            "{message}"
        );
        let (_, body) = json_response(&response);
        assert!(
            !body.to_string().contains(API_KEY),
            "the key leaked: {body}"
        );
    }
}

#[tokio::test]
async fn failures_are_not_cached() {
    let (deps, fake) = deps_with(Mode::Broken).await;
    handle(&deps, request(GET_WEATHER)).await;
    handle(&deps, request(GET_WEATHER)).await;
    assert_eq!(fake.calls.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_coordinates_are_400_naming_the_parameter_without_calling_upstream() {
    let (deps, fake) = deps_with(Mode::Sunny).await;
    let cases = [
        (json!({"lon": "116.4"}), "lat"),
        (json!({"lat": "39.9"}), "lon"),
        (json!({}), "lat"),
        (json!({"lat": "abc", "lon": "116.4"}), "lat"),
        (json!({"lat": "39.9", "lon": ""}), "lon"),
        (json!({"lat": "90.01", "lon": "116.4"}), "lat"),
        (json!({"lat": "-91", "lon": "116.4"}), "lat"),
        (json!({"lat": "39.9", "lon": "180.5"}), "lon"),
        (json!({"lat": "39.9", "lon": "-1e9"}), "lon"),
        (json!({"lat": "NaN", "lon": "116.4"}), "lat"),
        (json!({"lat": "inf", "lon": "116.4"}), "lat"),
    ];
    for (query, field) in cases {
        let (status, body) = json_response(&handle(&deps, with_query(query.clone())).await);
        assert_eq!(status, 400, "{query} -> {body}");
        assert_eq!(body["error"]["code"], "invalid_input", "{query} -> {body}");
        assert_eq!(body["error"]["field"], field, "{query} -> {body}");
    }
    assert!(fake.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_edges_of_the_globe_are_valid() {
    let (deps, _) = deps_with(Mode::Sunny).await;
    for (lat, lon) in [("90", "180"), ("-90", "-180"), ("0", "0")] {
        assert_eq!(
            handle(&deps, at(lat, lon)).await.status(),
            200,
            "{lat},{lon}"
        );
    }
}

#[tokio::test]
async fn without_sign_in_it_is_401() {
    let (deps, fake) = deps_with(Mode::Sunny).await;
    assert_error(
        &handle(&deps, request_with(GET_WEATHER, anonymous)).await,
        401,
        "unauthorized",
    );
    assert!(fake.calls.lock().unwrap().is_empty());
}
