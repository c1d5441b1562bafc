//! What the pipeline asks of an AI provider (speech to text, text to image), as traits, and the
//! choice of provider for a stage.
//!
//! Two implementations exist: [`crate::pipeline::openai`] (any OpenAI-compatible server) and
//! [`crate::pipeline::offline`] (no network: the transcript comes with the request and the image is drawn
//! locally). A stage uses OpenAI unless `MUMBLE_PROVIDERS=offline` is set explicitly, so a
//! deployed stage never falls back to fake images silently.

use std::time::Duration;

use async_trait::async_trait;

use crate::config::{ConfigError, Env, vars};
use crate::pipeline::retry::RetryableError;

/// An uploaded recording, as the transcriber receives it.
#[derive(Debug, Clone)]
pub struct AudioClip {
    pub bytes: Vec<u8>,
    /// The file name sent along (Whisper guesses the container from its extension).
    pub file_name: String,
    pub content_type: String,
}

/// One transcription request.
#[derive(Debug, Clone, Copy)]
pub struct TranscriptionRequest<'a> {
    pub audio: &'a AudioClip,
    /// ISO-639-1 hint such as `zh`.
    pub language: &'a str,
    /// A transcript sent with the generation request; only the offline provider uses it.
    pub supplied_transcript: Option<&'a str>,
}

/// A generated picture.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedImage {
    pub png: Vec<u8>,
    /// The prompt as the model rewrote it (DALL-E 3 does), when it says.
    pub revised_prompt: Option<String>,
    /// Which provider drew it: `openai` or `offline`; stored with the image record.
    pub provider: ProviderKind,
}

#[async_trait]
pub trait Transcriber: Send + Sync {
    async fn transcribe(&self, request: TranscriptionRequest<'_>) -> Result<String, ProviderError>;
}

#[async_trait]
pub trait ImageGenerator: Send + Sync {
    async fn generate(&self, prompt: &str) -> Result<GeneratedImage, ProviderError>;
}

/// Which provider pair a stage uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Openai,
    Offline,
}

impl ProviderKind {
    /// Reads `MUMBLE_PROVIDERS` (unset or empty means `openai`).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(Env::optional(vars::PROVIDERS).as_deref())
    }

    pub fn parse(value: Option<&str>) -> Result<Self, ConfigError> {
        match value.map(str::trim) {
            None | Some("") | Some("openai") => Ok(Self::Openai),
            Some("offline") => Ok(Self::Offline),
            Some(other) => Err(ConfigError::Invalid {
                name: vars::PROVIDERS.to_owned(),
                reason: format!("`{other}` is not a provider; use `openai` or `offline`"),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Offline => "offline",
        }
    }
}

/// Why a provider call failed. [`ProviderError::user_reason`] is what the user is told; the
/// `Display` text (with upstream details) goes to the logs only.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    #[error("the provider refused the content: {0}")]
    ContentPolicy(String),
    #[error("the provider rejected the input: {0}")]
    InvalidInput(String),
    #[error("rate limited by the provider (retry after {retry_after:?})")]
    RateLimited { retry_after: Option<Duration> },
    #[error("the provider answered {status}: {message}")]
    Upstream { status: u16, message: String },
    #[error("the provider rejected our credentials ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    #[error("no answer from the provider within {0:?}")]
    Timeout(Duration),
    #[error("could not reach the provider: {0}")]
    Transport(String),
    #[error("the provider's answer could not be read: {0}")]
    BadResponse(String),
}

impl ProviderError {
    /// A sentence the user can act on; never upstream internals.
    pub fn user_reason(&self) -> String {
        match self {
            Self::ContentPolicy(_) => "the AI service declined this request under its content \
                policy; try describing the scene differently"
                .to_owned(),
            Self::InvalidInput(message) => format!("the recording could not be used: {message}"),
            Self::RateLimited { .. } => {
                "the AI service is busy right now; please try again in a minute".to_owned()
            }
            Self::Timeout(_) => {
                "the AI service took too long to answer; please try again".to_owned()
            }
            Self::Upstream { .. } | Self::Transport(_) | Self::BadResponse(_) => {
                "the AI service is unavailable right now; please try again later".to_owned()
            }
            Self::Unauthorized { .. } => {
                "the AI service is not available to Mumble right now; please try again later"
                    .to_owned()
            }
        }
    }
}

impl RetryableError for ProviderError {
    fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Timeout(_) | Self::Transport(_) => true,
            Self::Upstream { status, .. } => *status >= 500,
            Self::ContentPolicy(_)
            | Self::InvalidInput(_)
            | Self::Unauthorized { .. }
            | Self::BadResponse(_) => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    fn budget_exhausted(budget: Duration) -> Self {
        Self::Timeout(budget)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_is_the_default_and_offline_must_be_explicit() {
        assert_eq!(ProviderKind::parse(None).unwrap(), ProviderKind::Openai);
        assert_eq!(ProviderKind::parse(Some("")).unwrap(), ProviderKind::Openai);
        assert_eq!(
            ProviderKind::parse(Some("offline")).unwrap(),
            ProviderKind::Offline
        );
        let err = ProviderKind::parse(Some("fake")).unwrap_err().to_string();
        assert!(
            err.contains(vars::PROVIDERS) && err.contains("fake"),
            "{err}"
        );
    }

    #[test]
    fn user_reasons_hide_upstream_details() {
        let err = ProviderError::Upstream {
            status: 500,
            message: "stack trace at line 12".to_owned(),
        };
        assert!(!err.user_reason().contains("stack trace"));
        assert!(
            ProviderError::ContentPolicy("x".into())
                .user_reason()
                .contains("content policy")
        );
    }
}
