//! `POST /api/v1/audio/upload-url`: a presigned S3 PUT for one recording.
//!
//! The browser uploads the audio straight to S3, so recordings never pass through Lambda or API
//! Gateway (whose payload limits are smaller than a long recording). The URL binds the content
//! type and exact length the client declared, lives five minutes, and writes only under the
//! caller's own `audio/{userId}/` prefix.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use mumble_contract::api::{self, UploadUrl, UploadUrlRequest};
use mumble_core::config::{defaults, vars};
use mumble_core::store::media::keys;
use mumble_core::store::{MediaStore, S3Media};
use mumble_core::{ApiError, Caller, ConfigError, Env, aws, request, respond, response};

/// How long the upload URL works.
pub const UPLOAD_URL_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Recording formats browsers produce, and the file extension each is stored under.
pub const ALLOWED_TYPES: &[(&str, &str)] = api::AUDIO_TYPES;

pub struct Deps {
    pub media: Arc<dyn MediaStore>,
    /// `MAX_AUDIO_BYTES`: the largest recording accepted.
    pub max_audio_bytes: u64,
}

impl Deps {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            media: Arc::new(S3Media::new(
                aws::s3_client(sdk),
                Env::require(vars::MEDIA_BUCKET)?,
            )),
            max_audio_bytes: Env::parse_or(vars::MAX_AUDIO_BYTES, defaults::MAX_AUDIO_BYTES)?,
        })
    }
}

pub async fn handle(deps: &Deps, req: Request) -> Response<Body> {
    respond(upload_url(deps, &req).await)
}

async fn upload_url(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    if req.method() != Method::POST {
        return Err(ApiError::no_route(req));
    }
    let caller = Caller::from_request(req)?;
    // An empty recording is refused with the body (`api::UploadUrlRequest`).
    let body: UploadUrlRequest = request::json_body(req)?;

    let (content_type, ext) = allowed_type(&body.content_type)?;
    if body.content_length > deps.max_audio_bytes {
        return Err(ApiError::PayloadTooLarge(format!(
            "the recording is {} bytes; the limit is {} bytes",
            body.content_length, deps.max_audio_bytes
        )));
    }

    let audio_key = keys::audio(&caller.user_id, &uuid::Uuid::new_v4().to_string(), ext);
    let presigned = deps
        .media
        .presign_put(
            &audio_key,
            content_type,
            body.content_length,
            UPLOAD_URL_LIFETIME,
        )
        .await?;
    Ok(response::ok(&UploadUrl {
        upload_url: presigned.url,
        method: presigned.method,
        headers: presigned.headers.into_iter().collect(),
        audio_key,
        expires_in: UPLOAD_URL_LIFETIME.as_secs(),
    }))
}

/// The canonical type and extension for a declared type; parameters such as `;codecs=opus` are
/// dropped because the signed upload binds the bare type.
fn allowed_type(declared: &str) -> Result<(&'static str, &'static str), ApiError> {
    let essence = declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence.is_empty() {
        return Err(ApiError::invalid(
            "contentType",
            "the content type is empty",
        ));
    }
    ALLOWED_TYPES
        .iter()
        .find(|(t, _)| *t == essence)
        .copied()
        .ok_or_else(|| {
            let allowed: Vec<&str> = ALLOWED_TYPES.iter().map(|(t, _)| *t).collect();
            ApiError::UnsupportedMediaType(format!(
                "contentType {essence:?} is not accepted; record as one of {}",
                allowed.join(", ")
            ))
        })
}
