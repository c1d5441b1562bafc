//! OpenAI (or any OpenAI-compatible server at `OPENAI_BASE_URL`): Whisper transcription and
//! DALL-E 3 images.
//!
//! Images are requested as `b64_json` so nothing depends on OpenAI's expiring image URLs. Every
//! call runs inside [`crate::pipeline::retry::with_retries`]: 429 and 5xx answers and timeouts are retried
//! with backoff (honouring `Retry-After`) within the step's time budget; a content-policy refusal
//! or a rejected recording is final at once.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde::Deserialize;

use crate::pipeline::providers::{
    GeneratedImage, ImageGenerator, ProviderError, ProviderKind, Transcriber, TranscriptionRequest,
};
use crate::pipeline::retry::{RetryPolicy, parse_retry_after, with_retries};
use crate::secrets::Secret;

pub const TRANSCRIPTION_MODEL: &str = "whisper-1";
pub const IMAGE_MODEL: &str = "dall-e-3";
pub const IMAGE_SIZE: &str = "1024x1024";
pub const IMAGE_QUALITY: &str = "standard";

/// Time limits of one pipeline step: each attempt, and the step as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepLimits {
    pub attempt_timeout: Duration,
    pub retry: RetryPolicy,
}

impl StepLimits {
    /// Whisper on a 10 MB clip answers in well under a minute.
    pub const TRANSCRIPTION: Self = Self {
        attempt_timeout: Duration::from_secs(60),
        retry: RetryPolicy::new(4, Duration::from_secs(100)),
    };
    /// DALL-E 3 usually takes 10–20 s and sometimes much longer. Transcription plus generation
    /// budgets (250 s) leave room for weather and storing inside the worker's 300 s timeout.
    pub const IMAGE: Self = Self {
        attempt_timeout: Duration::from_secs(90),
        retry: RetryPolicy::new(3, Duration::from_secs(150)),
    };
}

/// A client of the OpenAI API.
#[derive(Debug, Clone)]
pub struct OpenAi {
    http: reqwest::Client,
    base_url: String,
    api_key: Secret,
    pub transcription_limits: StepLimits,
    pub image_limits: StepLimits,
}

impl OpenAi {
    /// `base_url` is the API root including the version, e.g. `https://api.openai.com/v1`.
    /// `http` should come from [`crate::http::client`]; each call sets its own attempt timeout.
    pub fn new(http: reqwest::Client, base_url: &str, api_key: Secret) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            transcription_limits: StepLimits::TRANSCRIPTION,
            image_limits: StepLimits::IMAGE,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base_url)
    }

    async fn transcribe_once(
        &self,
        request: &TranscriptionRequest<'_>,
    ) -> Result<String, ProviderError> {
        let file = Part::bytes(request.audio.bytes.clone())
            .file_name(request.audio.file_name.clone())
            .mime_str(&request.audio.content_type)
            .map_err(|_| {
                ProviderError::InvalidInput(format!(
                    "`{}` is not a media type",
                    request.audio.content_type
                ))
            })?;
        let form = Form::new()
            .part("file", file)
            .text("model", TRANSCRIPTION_MODEL)
            .text("language", request.language.to_owned())
            .text("response_format", "json");
        let response = self
            .http
            .post(self.url("audio/transcriptions"))
            .bearer_auth(self.api_key.expose())
            .timeout(self.transcription_limits.attempt_timeout)
            .multipart(form)
            .send()
            .await
            .map_err(|e| transport_error(e, self.transcription_limits.attempt_timeout))?;
        let body: TranscriptionBody =
            read_json(response, self.transcription_limits.attempt_timeout).await?;
        Ok(body.text)
    }

    async fn generate_once(&self, prompt: &str) -> Result<GeneratedImage, ProviderError> {
        let response = self
            .http
            .post(self.url("images/generations"))
            .bearer_auth(self.api_key.expose())
            .timeout(self.image_limits.attempt_timeout)
            .json(&serde_json::json!({
                "model": IMAGE_MODEL,
                "prompt": prompt,
                "size": IMAGE_SIZE,
                "quality": IMAGE_QUALITY,
                "n": 1,
                "response_format": "b64_json",
            }))
            .send()
            .await
            .map_err(|e| transport_error(e, self.image_limits.attempt_timeout))?;
        let body: ImagesBody = read_json(response, self.image_limits.attempt_timeout).await?;
        let first = body
            .data
            .into_iter()
            .next()
            .ok_or_else(|| ProviderError::BadResponse("no image in the answer".to_owned()))?;
        let encoded = first
            .b64_json
            .ok_or_else(|| ProviderError::BadResponse("the image has no b64_json".to_owned()))?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| ProviderError::BadResponse(format!("b64_json is not base64: {e}")))?;
        if !png.starts_with(PNG_SIGNATURE) {
            return Err(ProviderError::BadResponse(
                "the image is not a PNG".to_owned(),
            ));
        }
        Ok(GeneratedImage {
            png,
            revised_prompt: first.revised_prompt,
            provider: ProviderKind::Openai,
        })
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[async_trait]
impl Transcriber for OpenAi {
    async fn transcribe(&self, request: TranscriptionRequest<'_>) -> Result<String, ProviderError> {
        with_retries(self.transcription_limits.retry, || {
            self.transcribe_once(&request)
        })
        .await
    }
}

#[async_trait]
impl ImageGenerator for OpenAi {
    async fn generate(&self, prompt: &str) -> Result<GeneratedImage, ProviderError> {
        with_retries(self.image_limits.retry, || self.generate_once(prompt)).await
    }
}

#[derive(Deserialize)]
struct TranscriptionBody {
    text: String,
}

#[derive(Deserialize)]
struct ImagesBody {
    data: Vec<ImageData>,
}

#[derive(Deserialize)]
struct ImageData {
    b64_json: Option<String>,
    revised_prompt: Option<String>,
}

/// OpenAI's error body: `{"error": {"message", "type", "code"}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

fn transport_error(error: reqwest::Error, attempt_timeout: Duration) -> ProviderError {
    if error.is_timeout() {
        ProviderError::Timeout(attempt_timeout)
    } else {
        // Without the URL: it carries nothing secret, but the error chain is what helps.
        ProviderError::Transport(error.without_url().to_string())
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(
    response: Response,
    attempt_timeout: Duration,
) -> Result<T, ProviderError> {
    let status = response.status();
    let retry_after = retry_after(&response);
    let body = response
        .bytes()
        .await
        .map_err(|e| transport_error(e, attempt_timeout))?;
    if !status.is_success() {
        return Err(classify_error(status, retry_after, &body));
    }
    serde_json::from_slice(&body).map_err(|e| ProviderError::BadResponse(e.to_string()))
}

/// `retry-after-ms` (OpenAI's finer hint) or the standard `Retry-After`.
fn retry_after(response: &Response) -> Option<Duration> {
    let headers = response.headers();
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_millis(ms));
    }
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()))
}

fn classify_error(status: StatusCode, retry_after: Option<Duration>, body: &[u8]) -> ProviderError {
    let detail = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error);
    let message = detail
        .as_ref()
        .map(|d| d.message.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
    let code = detail
        .as_ref()
        .and_then(|d| d.code.as_deref())
        .unwrap_or("");
    let kind = detail
        .as_ref()
        .and_then(|d| d.kind.as_deref())
        .unwrap_or("");

    match status.as_u16() {
        // An exhausted quota is a 429 too, but waiting does not fix it.
        429 if code == "insufficient_quota" || kind == "insufficient_quota" => {
            ProviderError::Unauthorized {
                status: 429,
                message,
            }
        }
        429 => ProviderError::RateLimited { retry_after },
        400 if code == "content_policy_violation" || kind == "content_policy_violation" => {
            ProviderError::ContentPolicy(message)
        }
        400 | 413 | 415 | 422 => ProviderError::InvalidInput(message),
        401 | 403 => ProviderError::Unauthorized {
            status: status.as_u16(),
            message,
        },
        408 => ProviderError::Timeout(Duration::ZERO),
        other => ProviderError::Upstream {
            status: other,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_policy_refusals_are_recognised() {
        let body = br#"{"error":{"code":"content_policy_violation","message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error"}}"#;
        assert!(matches!(
            classify_error(StatusCode::BAD_REQUEST, None, body),
            ProviderError::ContentPolicy(_)
        ));
    }

    #[test]
    fn other_bad_requests_are_invalid_input() {
        let body = br#"{"error":{"message":"Invalid file format.","type":"invalid_request_error","code":null}}"#;
        assert_eq!(
            classify_error(StatusCode::BAD_REQUEST, None, body),
            ProviderError::InvalidInput("Invalid file format.".to_owned())
        );
    }

    #[test]
    fn quota_exhaustion_is_not_retried_like_a_rate_limit() {
        let body = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        let err = classify_error(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(1)),
            body,
        );
        assert!(matches!(
            err,
            ProviderError::Unauthorized { status: 429, .. }
        ));
    }

    #[test]
    fn garbage_error_bodies_still_give_a_message() {
        let err = classify_error(StatusCode::BAD_GATEWAY, None, b"<html>bad gateway</html>");
        assert_eq!(
            err,
            ProviderError::Upstream {
                status: 502,
                message: "<html>bad gateway</html>".to_owned()
            }
        );
    }
}
