//! The one API error type, and the one place it becomes an HTTP response.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use mumble_contract::api;

/// Everything a handler can fail with. The `message`s are shown to the caller; `detail`s are
/// logged and never returned, so SDK errors, upstream bodies and ids of other users stay private.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed; `field` names the offending input when there is one.
    #[error("invalid input{}: {message}", field.as_deref().map(|f| format!(" in `{f}`")).unwrap_or_default())]
    InvalidInput {
        field: Option<String>,
        message: String,
    },
    /// 401: no or an invalid identity.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: the identity is known but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: the thing does not exist *for this caller* (also used for other users' things).
    #[error("not found: {0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 409: the recording was already made into a picture (its own code, so clients can say so).
    #[error("recording used: {0}")]
    RecordingUsed(String),
    /// 413: the body, or the upload it describes, is too large.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// 415: the content type is not one we accept.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 429: the caller should slow down.
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// 429: the caller used a quota; it starts again after `retry_after` (the `Retry-After` header).
    #[error("quota exceeded: {message}")]
    QuotaExceeded {
        message: String,
        retry_after: std::time::Duration,
    },
    /// 502: a third-party service (OpenWeather, OpenAI) failed; `message` says which and what to do.
    #[error("upstream failed: {message} ({detail})")]
    Upstream { message: String, detail: String },
    /// 503: one of our own dependencies (DynamoDB, S3, SSM) failed; worth retrying.
    #[error("unavailable: {detail}")]
    Unavailable { detail: String },
    /// 500: a bug on our side. Never used for anything the caller sent.
    #[error("internal: {detail}")]
    Internal { detail: String },
}

/// The most characters of a caller's own input an error message repeats back.
pub const MAX_ECHO_CHARS: usize = 64;

/// A caller's input as an error message quotes it: at most [`MAX_ECHO_CHARS`] characters, then
/// an ellipsis, so a 5,000-character id is not sent back whole.
pub fn echo(input: &str) -> String {
    match input.char_indices().nth(MAX_ECHO_CHARS) {
        Some((cut, _)) => format!("{}…", &input[..cut]),
        None => input.to_owned(),
    }
}

impl ApiError {
    /// The 404 for a method or path the function does not serve (API Gateway routes only declared
    /// ones here, but the local gateway and tests can reach a function with anything).
    pub fn no_route(req: &lambda_http::Request) -> Self {
        Self::NotFound(format!(
            "no route {} {}",
            req.method(),
            echo(req.uri().path())
        ))
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: None,
            message: message.into(),
        }
    }

    pub fn upstream(message: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::Upstream {
            message: message.into(),
            detail: detail.to_string(),
        }
    }

    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        Self::Unavailable {
            detail: detail.to_string(),
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal {
            detail: detail.to_string(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidInput { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::RecordingUsed(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests(_) | Self::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code in the error body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "invalid_input",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::RecordingUsed(_) => "recording_used",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::TooManyRequests(_) => "rate_limited",
            Self::QuotaExceeded { .. } => "quota_exceeded",
            Self::Upstream { .. } => "upstream_failed",
            Self::Unavailable { .. } => "unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    /// What the caller is told. Server-side failures get a fixed sentence.
    pub fn public_message(&self) -> String {
        match self {
            Self::InvalidInput {
                field: Some(field),
                message,
            } => format!("{field}: {message}"),
            Self::InvalidInput {
                field: None,
                message,
            } => message.clone(),
            Self::Unauthorized(m)
            | Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::Conflict(m)
            | Self::RecordingUsed(m)
            | Self::PayloadTooLarge(m)
            | Self::UnsupportedMediaType(m)
            | Self::TooManyRequests(m) => m.clone(),
            Self::QuotaExceeded { message, .. } => message.clone(),
            Self::Upstream { message, .. } => message.clone(),
            Self::Unavailable { .. } => {
                "a service Mumble depends on is unavailable; try again shortly".to_owned()
            }
            Self::Internal { .. } => "something went wrong on our side; try again later".to_owned(),
        }
    }

    /// The field named in a 400, for clients that highlight it.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidInput { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The HTTP response; logs server-side failures with their details.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, "request failed");
        } else {
            tracing::info!(code = self.code(), error = %self, "request rejected");
        }
        let body = api::Error {
            error: api::ErrorDetail {
                code: self.code().to_owned(),
                message: self.public_message(),
                field: self.field().map(str::to_owned),
            },
        };
        let mut response = crate::response::json(status, &body);
        if let Self::QuotaExceeded { retry_after, .. } = &self {
            response.headers_mut().insert(
                lambda_http::http::header::RETRY_AFTER,
                lambda_http::http::HeaderValue::from(retry_after.as_secs()),
            );
        }
        response
    }
}

/// Turns a handler's result into the response; the single mapping point for errors.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(ApiError::into_response)
}

#[cfg(test)]
mod echo_tests {
    use super::*;

    #[test]
    fn long_input_is_cut_when_echoed_and_short_input_is_kept() {
        let long = "x".repeat(5000);
        let echoed = echo(&long);
        assert_eq!(echoed.chars().count(), MAX_ECHO_CHARS + 1);
        assert!(echoed.ends_with('…'));
        assert_eq!(echo("job-7"), "job-7");
        assert_eq!(echo(&"雨".repeat(70)).chars().count(), MAX_ECHO_CHARS + 1);
    }
}
