//! The HTTP API's bodies and query strings: what each route reads and answers, with its limits.
//!
//! A limit is one constant, used twice: by the type's [`Validate`] impl, which
//! `mumble_core::request` runs on every body and query it parses (so a function cannot skip it),
//! and, with the `schema` feature, by the type's JSON Schema, from which `stacks::openapi` builds
//! the OpenAPI document that the local gateway checks real traffic against. Field names are
//! serde's: the site sends and reads exactly these.
//!
//! One file over 500 lines: it is the whole API surface, and reading it end to end is how a
//! reviewer checks a change to it.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

#[cfg(feature = "schema")]
use schemars::JsonSchema;

/// `displayName`, in characters (Unicode scalar values, as JSON Schema's `maxLength` counts).
pub const DISPLAY_NAME_MAX_CHARS: usize = 50;
/// A language tag (`zh`, `zh-CN`, `zh-Hant-TW`), in characters.
pub const LANGUAGE_TAG_MIN_CHARS: usize = 2;
pub const LANGUAGE_TAG_MAX_CHARS: usize = 16;
/// `style` of a generation, in characters.
pub const STYLE_MAX_CHARS: usize = 200;
/// `transcript` of a generation (stages with the offline provider), in characters.
pub const TRANSCRIPT_MAX_CHARS: usize = 4000;
/// `Idempotency-Key` of a generation, in characters.
pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 128;
/// `limit` of `GET /api/v1/images`.
pub const MIN_PAGE_SIZE: u32 = 1;
pub const MAX_PAGE_SIZE: u32 = 100;
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Latitudes are from -90 to 90, longitudes from -180 to 180.
pub const MAX_LATITUDE: f64 = 90.0;
pub const MAX_LONGITUDE: f64 = 180.0;
/// The smallest recording; the largest is the stage's `MAX_AUDIO_BYTES`.
pub const MIN_CONTENT_LENGTH: u64 = 1;

/// Audio types the upload accepts, with the file extension each is stored under. A declared
/// type's parameters (`;codecs=opus`) and case do not matter.
pub const AUDIO_TYPES: &[(&str, &str)] = &[
    ("audio/webm", "webm"),
    ("audio/ogg", "ogg"),
    ("audio/mp4", "m4a"),
    ("audio/mpeg", "mp3"),
    ("audio/wav", "wav"),
];

/// A request value outside its type's declared limits: a 400 naming `field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

/// The checks a request type makes beyond its shape: exactly the limits its schema declares.
pub trait Validate {
    fn validate(&self) -> Result<(), Invalid>;
}

fn chars(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), Invalid> {
    let count = value.chars().count();
    let message = if count < min && min == 1 {
        "must not be empty".to_owned()
    } else if count < min {
        format!("must be at least {min} characters (it is {count})")
    } else if count > max {
        format!("must be at most {max} characters (it is {count})")
    } else {
        return Ok(());
    };
    Err(Invalid { field, message })
}

fn optional_chars(
    field: &'static str,
    value: Option<&str>,
    min: usize,
    max: usize,
) -> Result<(), Invalid> {
    value.map_or(Ok(()), |v| chars(field, v, min, max))
}

fn between(field: &'static str, value: f64, min: f64, max: f64) -> Result<(), Invalid> {
    // `NaN` and infinities parse from a query string as floats, and fail `contains`.
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Invalid {
            field,
            message: format!("must be a number from {min} to {max}"),
        })
    }
}

/// Accepts `12` and `12.0` alike, as JSON Schema's `integer` does; refuses `12.5` and `-1`.
fn whole_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a whole number of bytes")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom("must not be negative"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u64, E> {
            if v.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&v) {
                Ok(v as u64)
            } else {
                Err(E::custom("must be a whole number of bytes"))
            }
        }
    }
    deserializer.deserialize_any(Whole)
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/health

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Health {
    pub status: HealthStatus,
    pub service: String,
    pub version: String,
    pub stage: String,
    #[cfg_attr(feature = "schema", schemars(extend("format" = "date-time")))]
    pub timestamp: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
}

// ---------------------------------------------------------------------------------------------
// POST /api/v1/audio/upload-url

/// `POST /api/v1/audio/upload-url`: the recording about to be uploaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
// The function ignores other fields; the document asks for none, so a client's typo is seen.
#[cfg_attr(feature = "schema", schemars(extend("additionalProperties" = false)))]
#[serde(rename_all = "camelCase")]
pub struct UploadUrlRequest {
    /// One of audio/webm, audio/ogg, audio/mp4, audio/mpeg, audio/wav (parameters such as
    /// `;codecs=opus` are ignored).
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub content_type: String,
    /// Bytes; at most the stage's limit (10 MB by default), else 413.
    #[serde(deserialize_with = "whole_number")]
    #[cfg_attr(feature = "schema", schemars(with = "u64", range(min = MIN_CONTENT_LENGTH)))]
    pub content_length: u64,
}

impl Validate for UploadUrlRequest {
    fn validate(&self) -> Result<(), Invalid> {
        chars("contentType", &self.content_type, 1, usize::MAX)?;
        if self.content_length < MIN_CONTENT_LENGTH {
            return Err(Invalid {
                field: "contentLength",
                message: "the recording is empty".to_owned(),
            });
        }
        Ok(())
    }
}

/// The presigned upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UploadUrl {
    /// Presigned URL; send the same Content-Type and Content-Length.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "uri")))]
    pub upload_url: String,
    /// The HTTP method of the upload (`PUT`).
    pub method: String,
    /// Send exactly these headers with the upload; they are part of the signature.
    pub headers: BTreeMap<String, String>,
    /// `audio/{userId}/{uuid}.{ext}`; pass it to `POST /api/v1/generate` once uploaded.
    pub audio_key: String,
    /// Seconds the URL works.
    pub expires_in: u64,
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/weather

/// `GET /api/v1/weather?lat=&lon=`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct WeatherQuery {
    /// Latitude, -90 to 90.
    #[cfg_attr(feature = "schema", schemars(range(min = -MAX_LATITUDE, max = MAX_LATITUDE)))]
    pub lat: f64,
    /// Longitude, -180 to 180.
    #[cfg_attr(feature = "schema", schemars(range(min = -MAX_LONGITUDE, max = MAX_LONGITUDE)))]
    pub lon: f64,
}

impl Validate for WeatherQuery {
    fn validate(&self) -> Result<(), Invalid> {
        between("lat", self.lat, -MAX_LATITUDE, MAX_LATITUDE)?;
        between("lon", self.lon, -MAX_LONGITUDE, MAX_LONGITUDE)
    }
}

/// The weather as Mumble shows and stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Weather {
    /// In the requested language, e.g. "晴" or "light rain".
    pub description: String,
    /// Degrees Celsius.
    pub temperature: f64,
    /// The place name OpenWeather gives for the coordinate.
    pub location: String,
}

/// The current weather, as `GET /api/v1/weather` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct CurrentWeather {
    pub description: String,
    /// Degrees Celsius.
    pub temperature: f64,
    pub location: String,
    #[cfg_attr(feature = "schema", schemars(extend("format" = "date-time")))]
    pub timestamp: String,
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/images, GET and DELETE /api/v1/images/{id}

/// `GET /api/v1/images?limit=&cursor=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct ImageListQuery {
    /// Page size, 1 to 100 (default 20).
    #[cfg_attr(feature = "schema", schemars(range(min = MIN_PAGE_SIZE, max = MAX_PAGE_SIZE)))]
    pub limit: Option<u32>,
    /// The previous page's `nextCursor`.
    pub cursor: Option<String>,
}

impl Validate for ImageListQuery {
    fn validate(&self) -> Result<(), Invalid> {
        match self.limit {
            Some(limit) if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&limit) => Err(Invalid {
                field: "limit",
                message: format!("must be from {MIN_PAGE_SIZE} to {MAX_PAGE_SIZE}"),
            }),
            _ => Ok(()),
        }
    }
}

/// Where a recording was made.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Coordinates {
    pub latitude: f64,
    pub longitude: f64,
}

/// One page of the caller's images, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImagePage {
    pub items: Vec<Image>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// An image as the site shows it; the URLs are presigned and work for an hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Image {
    pub image_id: String,
    /// Absent when the image is unavailable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("format" = "uri")))]
    pub image_url: Option<String>,
    /// Absent until the thumbnail has been made (a few seconds after the image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(extend("format" = "uri")))]
    pub thumbnail_url: Option<String>,
    pub transcript: String,
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weather: Option<Weather>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Coordinates>,
    #[cfg_attr(feature = "schema", schemars(extend("format" = "date-time")))]
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// `#rrggbb`, for a placeholder while the image loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dominant_color: Option<String>,
    /// Drawn by the offline provider rather than OpenAI.
    pub offline: bool,
    /// The picture was lost in the move from the old Mumble: there is nothing to show or
    /// download, only what was said and when.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unavailable: bool,
}

// ---------------------------------------------------------------------------------------------
// GET and PUT /api/v1/me

/// The caller's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = DISPLAY_NAME_MAX_CHARS)))]
    pub display_name: String,
    /// A language tag such as `zh-CN`: the page's, transcription's and weather's language.
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = LANGUAGE_TAG_MIN_CHARS, max = LANGUAGE_TAG_MAX_CHARS))
    )]
    pub preferred_language: String,
    /// Whether recordings send the location by default.
    pub location_consent: bool,
    #[cfg_attr(feature = "schema", schemars(extend("format" = "date-time")))]
    pub created_at: String,
    #[cfg_attr(feature = "schema", schemars(extend("format" = "date-time")))]
    pub updated_at: String,
}

/// `PUT /api/v1/me`: the fields to change, at least one; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[cfg_attr(feature = "schema", schemars(extend("minProperties" = 1)))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileUpdate {
    /// Trimmed; must not be blank or contain control characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = DISPLAY_NAME_MAX_CHARS)))]
    pub display_name: Option<String>,
    /// A BCP 47 tag of a language and optional script and region (`zh`, `zh-CN`, `zh-Hant-TW`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = LANGUAGE_TAG_MIN_CHARS, max = LANGUAGE_TAG_MAX_CHARS))
    )]
    pub preferred_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_consent: Option<bool>,
}

impl Validate for ProfileUpdate {
    fn validate(&self) -> Result<(), Invalid> {
        if self.display_name.is_none()
            && self.preferred_language.is_none()
            && self.location_consent.is_none()
        {
            return Err(Invalid {
                field: "body",
                message: "send at least one of displayName, preferredLanguage, locationConsent"
                    .to_owned(),
            });
        }
        optional_chars(
            "displayName",
            self.display_name.as_deref(),
            1,
            DISPLAY_NAME_MAX_CHARS,
        )?;
        optional_chars(
            "preferredLanguage",
            self.preferred_language.as_deref(),
            LANGUAGE_TAG_MIN_CHARS,
            LANGUAGE_TAG_MAX_CHARS,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// POST /api/v1/generate (and the WebSocket route `generateImage`), GET /api/v1/jobs/{id}

/// A generation request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
// Not `deny_unknown_fields`: the WebSocket message flattens this body beside `idempotencyKey`.
// The document still asks for no other fields, so a client's typo is seen in tests.
#[cfg_attr(feature = "schema", schemars(extend("additionalProperties" = false)))]
#[cfg_attr(
    feature = "schema",
    schemars(extend("dependentRequired" = {"latitude": ["longitude"], "longitude": ["latitude"]}))
)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest {
    /// From the upload URL's answer.
    #[cfg_attr(feature = "schema", schemars(length(min = 1)))]
    pub audio_key: String,
    /// With `longitude`, or neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = -MAX_LATITUDE, max = MAX_LATITUDE)))]
    pub latitude: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = -MAX_LONGITUDE, max = MAX_LONGITUDE)))]
    pub longitude: Option<f64>,
    /// The spoken language (`zh`, `en`, or a tag such as `zh-CN`); default `zh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(length(min = LANGUAGE_TAG_MIN_CHARS, max = LANGUAGE_TAG_MAX_CHARS))
    )]
    pub language: Option<String>,
    /// Words added to the picture's prompt, such as "watercolour".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = STYLE_MAX_CHARS)))]
    pub style: Option<String>,
    /// The words of the recording, for stages running the offline provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = TRANSCRIPT_MAX_CHARS)))]
    pub transcript: Option<String>,
}

impl Validate for GenerateRequest {
    fn validate(&self) -> Result<(), Invalid> {
        chars("audioKey", &self.audio_key, 1, usize::MAX)?;
        match (self.latitude, self.longitude) {
            (Some(latitude), Some(longitude)) => {
                between("latitude", latitude, -MAX_LATITUDE, MAX_LATITUDE)?;
                between("longitude", longitude, -MAX_LONGITUDE, MAX_LONGITUDE)?;
            }
            (Some(_), None) => {
                return Err(Invalid {
                    field: "longitude",
                    message: "give both latitude and longitude, or neither".to_owned(),
                });
            }
            (None, Some(_)) => {
                return Err(Invalid {
                    field: "latitude",
                    message: "give both latitude and longitude, or neither".to_owned(),
                });
            }
            (None, None) => {}
        }
        optional_chars(
            "language",
            self.language.as_deref(),
            LANGUAGE_TAG_MIN_CHARS,
            LANGUAGE_TAG_MAX_CHARS,
        )?;
        optional_chars("style", self.style.as_deref(), 0, STYLE_MAX_CHARS)?;
        optional_chars(
            "transcript",
            self.transcript.as_deref(),
            0,
            TRANSCRIPT_MAX_CHARS,
        )
    }
}

/// A job's state, in the order a job passes through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Transcribing,
    Weather,
    Prompting,
    Generating,
    Storing,
    Done,
    Failed,
}

impl JobStatus {
    pub const RUNNING: [JobStatus; 6] = [
        Self::Queued,
        Self::Transcribing,
        Self::Weather,
        Self::Prompting,
        Self::Generating,
        Self::Storing,
    ];

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Transcribing => "transcribing",
            Self::Weather => "weather",
            Self::Prompting => "prompting",
            Self::Generating => "generating",
            Self::Storing => "storing",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }
}

/// `202`: the job was recorded and the worker started (or the same `Idempotency-Key` was seen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct JobAccepted {
    pub job_id: String,
    pub status: JobStatus,
}

/// What the owner sees of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub job_id: String,
    pub status: JobStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weather: Option<Weather>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Why the job failed, in words for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[cfg_attr(feature = "schema", schemars(extend("format" = "date-time")))]
    pub created_at: String,
    #[cfg_attr(feature = "schema", schemars(extend("format" = "date-time")))]
    pub updated_at: String,
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Every error a function answers: `{"error": {"code", "message", "field"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct Error {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct ErrorDetail {
    /// Stable and machine-readable: `invalid_input`, `unauthorized`, `not_found`,
    /// `payload_too_large`, `unsupported_media_type`, `rate_limited`, `upstream_failed`,
    /// `unavailable`, `internal`, ...
    pub code: String,
    /// What went wrong and what to do, fit to show the user.
    pub message: String,
    /// The request field at fault, for a 400.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// API Gateway's own answers, before or instead of a function: `{"message": "Unauthorized"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(JsonSchema))]
pub struct GatewayMessage {
    pub message: String,
}

/// The statuses API Gateway answers by itself on an HTTP API, with the exact message of each.
pub mod gateway {
    /// The JWT authorizer refused the token (missing, expired, wrong audience or signature).
    pub const UNAUTHORIZED: (u16, &str) = (401, "Unauthorized");
    /// No route matches the method and path.
    pub const NOT_FOUND: (u16, &str) = (404, "Not Found");
    /// The body is over the HTTP API's 10 MB payload limit.
    pub const PAYLOAD_TOO_LARGE: (u16, &str) = (413, "Request Entity Too Large");
    /// The stage's throttling limits were hit.
    pub const TOO_MANY_REQUESTS: (u16, &str) = (429, "Too Many Requests");
    /// The function failed without answering (a crash, or a response API Gateway cannot read).
    pub const INTERNAL_SERVER_ERROR: (u16, &str) = (500, "Internal Server Error");
    /// The function did not answer within the integration's 30 s timeout.
    pub const SERVICE_UNAVAILABLE: (u16, &str) = (503, "Service Unavailable");
    /// The HTTP API's payload limit.
    pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;
}
