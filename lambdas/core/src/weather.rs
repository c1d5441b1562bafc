//! Current weather for a coordinate: the OpenWeather client behind a trait, a short-lived cache,
//! and the mapping from `Accept-Language` to OpenWeather's language codes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::error::ApiError;
use crate::secrets::Secret;

/// The weather as Mumble shows and stores it: the API's type.
pub use mumble_contract::api::Weather;

#[derive(Debug, thiserror::Error)]
pub enum WeatherError {
    #[error("the weather service did not answer in time")]
    Timeout,
    #[error("could not reach the weather service: {0}")]
    Unreachable(String),
    #[error("the weather service refused our credentials (HTTP {0})")]
    Rejected(u16),
    #[error("the weather service is rate limiting us")]
    RateLimited,
    #[error("the weather service failed (HTTP {status}): {body}")]
    Failed { status: u16, body: String },
    #[error("the weather service sent an unexpected response: {0}")]
    InvalidResponse(String),
}

impl From<WeatherError> for ApiError {
    fn from(e: WeatherError) -> Self {
        let message = match e {
            WeatherError::Timeout => "the weather service did not answer in time; try again",
            WeatherError::RateLimited => "the weather service is busy; try again in a minute",
            WeatherError::Rejected(_) => {
                "the weather service refused Mumble's request; try again later"
            }
            WeatherError::Unreachable(_)
            | WeatherError::Failed { .. }
            | WeatherError::InvalidResponse(_) => "the weather service failed; try again later",
        };
        ApiError::upstream(message, e)
    }
}

/// Where weather comes from; faked in tests.
#[async_trait]
pub trait WeatherProvider: Send + Sync {
    /// Current weather at the coordinate, described in OpenWeather language `lang` (`zh_cn`).
    async fn current(
        &self,
        latitude: f64,
        longitude: f64,
        lang: &str,
    ) -> Result<Weather, WeatherError>;
}

/// OpenWeather's current weather API (`{base}/data/2.5/weather`).
pub struct OpenWeather {
    http: reqwest::Client,
    base_url: String,
    api_key: Secret,
}

impl OpenWeather {
    /// `http` should come from [`crate::http::client`] with [`crate::http::Timeouts::QUICK`];
    /// `base_url` from `OPENWEATHER_BASE_URL` (a local fake in tests).
    pub fn new(http: reqwest::Client, base_url: &str, api_key: Secret) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
        }
    }
}

#[derive(Deserialize)]
struct CurrentResponse {
    #[serde(default)]
    weather: Vec<Condition>,
    main: MainReadings,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Condition {
    description: String,
}

#[derive(Deserialize)]
struct MainReadings {
    temp: f64,
}

#[async_trait]
impl WeatherProvider for OpenWeather {
    async fn current(
        &self,
        latitude: f64,
        longitude: f64,
        lang: &str,
    ) -> Result<Weather, WeatherError> {
        let response = self
            .http
            .get(format!("{}/data/2.5/weather", self.base_url))
            .query(&[
                ("lat", latitude.to_string().as_str()),
                ("lon", longitude.to_string().as_str()),
                ("units", "metric"),
                ("lang", lang),
                ("appid", self.api_key.expose()),
            ])
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        match status.as_u16() {
            200..=299 => {}
            401 | 403 => return Err(WeatherError::Rejected(status.as_u16())),
            429 => return Err(WeatherError::RateLimited),
            code => {
                let body = response.text().await.unwrap_or_default();
                return Err(WeatherError::Failed {
                    status: code,
                    body: body.chars().take(200).collect(),
                });
            }
        }
        let body = response.bytes().await.map_err(transport_error)?;
        let parsed: CurrentResponse = serde_json::from_slice(&body)
            .map_err(|e| WeatherError::InvalidResponse(e.to_string()))?;
        let description = parsed
            .weather
            .into_iter()
            .next()
            .map(|c| c.description)
            .ok_or_else(|| WeatherError::InvalidResponse("no weather condition".to_owned()))?;
        let location = if parsed.name.is_empty() {
            format!("{latitude:.2}, {longitude:.2}")
        } else {
            parsed.name
        };
        Ok(Weather {
            description,
            temperature: parsed.main.temp,
            location,
        })
    }
}

/// reqwest errors carry the URL, whose query holds the API key: drop it before it can be logged.
fn transport_error(e: reqwest::Error) -> WeatherError {
    if e.is_timeout() {
        WeatherError::Timeout
    } else {
        WeatherError::Unreachable(e.without_url().to_string())
    }
}

/// Remembers answers per coordinate rounded to 0.01° (about 1 km) and language for `ttl`, so a
/// warm container does not call OpenWeather for every request from the same place.
pub struct CachedWeather {
    inner: Arc<dyn WeatherProvider>,
    ttl: Duration,
    entries: Mutex<HashMap<CacheKey, (Instant, Weather)>>,
}

type CacheKey = (i64, i64, String);

/// Bounds the cache of a long-lived warm container.
const MAX_CACHE_ENTRIES: usize = 1024;

impl CachedWeather {
    pub const DEFAULT_TTL: Duration = Duration::from_secs(5 * 60);

    pub fn new(inner: Arc<dyn WeatherProvider>, ttl: Duration) -> Self {
        Self {
            inner,
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl WeatherProvider for CachedWeather {
    async fn current(
        &self,
        latitude: f64,
        longitude: f64,
        lang: &str,
    ) -> Result<Weather, WeatherError> {
        let key: CacheKey = (
            (latitude * 100.0).round() as i64,
            (longitude * 100.0).round() as i64,
            lang.to_owned(),
        );
        if let Some((at, weather)) = self.entries.lock().await.get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(weather.clone());
        }
        let weather = self.inner.current(latitude, longitude, lang).await?;
        let mut entries = self.entries.lock().await;
        if entries.len() >= MAX_CACHE_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= MAX_CACHE_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), weather.clone()));
        Ok(weather)
    }
}

/// OpenWeather's language when the caller says nothing we support (the seed's default).
pub const DEFAULT_LANGUAGE: &str = "zh_cn";

/// The OpenWeather language code for an `Accept-Language` header: the supported language with
/// the highest quality, else [`DEFAULT_LANGUAGE`].
pub fn language_from_accept_language(header: Option<&str>) -> String {
    let Some(header) = header else {
        return DEFAULT_LANGUAGE.to_owned();
    };
    let mut candidates: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(position, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let quality = pieces
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let code = openweather_code(tag)?;
            (quality > 0.0).then_some((quality, position, code))
        })
        .collect();
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    candidates
        .into_iter()
        .next()
        .map(|(_, _, code)| code)
        .unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned())
}

/// OpenWeather's code for a BCP 47 tag, `None` when it has no such language.
pub fn openweather_code(tag: &str) -> Option<String> {
    let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
    let mut parts = tag.split('-');
    let primary = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let code = match primary {
        "zh" => {
            let traditional = rest
                .iter()
                .any(|p| matches!(*p, "tw" | "hk" | "mo" | "hant"));
            if traditional { "zh_tw" } else { "zh_cn" }
        }
        "pt" if rest.contains(&"br") => "pt_br",
        "cs" => "cz",
        "ko" => "kr",
        "sq" => "al",
        "uk" => "ua",
        "nb" | "nn" => "no",
        "af" | "ar" | "az" | "bg" | "ca" | "da" | "de" | "el" | "en" | "eu" | "fa" | "fi"
        | "fr" | "gl" | "he" | "hi" | "hr" | "hu" | "id" | "it" | "ja" | "la" | "lt" | "mk"
        | "no" | "nl" | "pl" | "pt" | "ro" | "ru" | "sv" | "sk" | "sl" | "es" | "sr" | "th"
        | "tr" | "vi" | "zu" => primary,
        _ => return None,
    };
    Some(code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        assert_eq!(language_from_accept_language(None), "zh_cn");
        assert_eq!(language_from_accept_language(Some("")), "zh_cn");
        assert_eq!(
            language_from_accept_language(Some("zh-CN,zh;q=0.9,en;q=0.8")),
            "zh_cn"
        );
        assert_eq!(language_from_accept_language(Some("zh-TW")), "zh_tw");
        assert_eq!(language_from_accept_language(Some("en-US,en;q=0.9")), "en");
        assert_eq!(
            language_from_accept_language(Some("fr;q=0.5, de;q=0.9")),
            "de"
        );
        assert_eq!(language_from_accept_language(Some("pt-BR")), "pt_br");
        assert_eq!(language_from_accept_language(Some("cs-CZ")), "cz");
        assert_eq!(
            language_from_accept_language(Some("xx-YY, *;q=0.1")),
            "zh_cn"
        );
        assert_eq!(language_from_accept_language(Some("en;q=0, ja")), "ja");
    }
}
