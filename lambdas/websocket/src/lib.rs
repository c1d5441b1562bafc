//! The WebSocket API's function.
//!
//! - `$connect?token=…`: browsers cannot set headers on a WebSocket, so the Cognito token comes
//!   in the query string. It is verified here (RS256 against the user pool's JWKS) and the
//!   connection is stored with its user until the token expires (Cognito's tokens last an hour;
//!   API Gateway's two-hour limit is the most); anything else answers 401, which makes API Gateway
//!   refuse the connection. After the token's expiry the connection gets no more pushes and its
//!   `generateImage` answers 401, so the page reconnects with a fresh token. A browser's `Origin` must be one of
//!   `ALLOWED_ORIGINS` (`*` allows any), else 403.
//! - `$disconnect`: removes the connection.
//! - `generateImage`: the same body as `POST /api/v1/generate` (plus an optional
//!   `idempotencyKey`); answers `{"type":"accepted","jobId",…}`, returned to the client as the
//!   route's response. Progress then arrives as pushed `{"type":"job",…}` messages.
//!
//! Errors answer `{"type":"error","error":{"code","message"}}` with the matching status.

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderMap;
use aws_lambda_events::http::header::{CONTENT_TYPE, HeaderValue};
use chrono::{DateTime, Utc};
use mumble_contract::api::{Invalid, Validate};
use mumble_core::config::{defaults, vars};
use mumble_core::generation::{GenerateRequest, JobStarter, LambdaInvoker, WorkerInvoker};
use mumble_core::http::{Timeouts, client};
use mumble_core::jwt::{AuthError, JwtConfig, JwtVerifier};
use mumble_core::store::connections::{Connection, ConnectionStore, DynamoConnections};
use mumble_core::store::jobs::{DynamoJobs, JobStore};
use mumble_core::store::{MediaStore, S3Media};
use mumble_core::{ApiError, Caller, ConfigError, Env, aws, request};
use serde::Deserialize;

/// Optional overrides of the issuer and key URL derived from `USER_POOL_ID` (a local emulator
/// serves its keys at its own address).
pub const COGNITO_ISSUER: &str = "COGNITO_ISSUER";
pub const COGNITO_JWKS_URL: &str = "COGNITO_JWKS_URL";
pub const USER_POOL_ID: &str = "USER_POOL_ID";
pub const USER_POOL_CLIENT_ID: &str = "USER_POOL_CLIENT_ID";

/// A verified `$connect` token: who, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub caller: Caller,
    /// The token's `exp`.
    pub expires_at: DateTime<Utc>,
}

/// Checks the token of a `$connect`.
#[async_trait]
pub trait TokenVerifier: Send + Sync {
    async fn verify(&self, token: &str) -> Result<Signed, AuthError>;
}

#[async_trait]
impl TokenVerifier for JwtVerifier {
    async fn verify(&self, token: &str) -> Result<Signed, AuthError> {
        let verified = JwtVerifier::verify(self, token).await?;
        // The verifier required `exp`; it is a number of seconds, flattened to a string.
        let expires_at = verified
            .claims
            .get("exp")
            .and_then(|exp| exp.parse::<i64>().ok())
            .and_then(|exp| DateTime::from_timestamp(exp, 0))
            .ok_or_else(|| AuthError::Invalid("the token has no usable exp".to_owned()))?;
        Ok(Signed {
            caller: verified.caller,
            expires_at,
        })
    }
}

pub struct Deps {
    pub connections: Arc<dyn ConnectionStore>,
    pub verifier: Arc<dyn TokenVerifier>,
    pub jobs: Arc<dyn JobStore>,
    pub media: Arc<dyn MediaStore>,
    /// Starts the worker; the local gateway runs it in process instead.
    pub invoker: Arc<dyn WorkerInvoker>,
    /// `MAX_AUDIO_BYTES`.
    pub max_audio_bytes: u64,
    /// `MAX_GENERATIONS_PER_USER_PER_DAY`; unset counts nothing.
    pub max_per_user_per_day: Option<u32>,
    /// `ALLOWED_ORIGINS`: the sites whose pages may connect.
    pub allowed_origins: AllowedOrigins,
}

/// The `Origin`s a `$connect` may come from: the stage's site origins, or `*` for any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn new<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(
            origins
                .into_iter()
                .map(|o| o.into().trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
        )
    }

    /// Whether a connection with this `Origin` header is accepted. Clients other than browsers
    /// send none; they still need a valid token, which a foreign page cannot read.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return true;
        };
        let origin = origin.trim().trim_end_matches('/');
        self.0
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
    }
}

impl Deps {
    pub async fn from_env(sdk: &SdkConfig) -> Result<Self, ConfigError> {
        let dynamodb = aws::dynamodb_client(sdk);
        Ok(Self {
            connections: Arc::new(DynamoConnections::new(
                dynamodb.clone(),
                Env::require(vars::CONNECTIONS_TABLE)?,
            )),
            verifier: Arc::new(JwtVerifier::new(jwt_config(sdk)?, client(Timeouts::QUICK)?)),
            jobs: Arc::new(DynamoJobs::new(dynamodb, Env::require(vars::JOBS_TABLE)?)),
            media: Arc::new(S3Media::new(
                aws::s3_client(sdk),
                Env::require(vars::MEDIA_BUCKET)?,
            )),
            invoker: Arc::new(LambdaInvoker::from_env(sdk)?),
            max_audio_bytes: Env::parse_or(vars::MAX_AUDIO_BYTES, defaults::MAX_AUDIO_BYTES)?,
            max_per_user_per_day: mumble_core::generation::daily_quota_from_env()?,
            allowed_origins: AllowedOrigins::new(Env::list(vars::ALLOWED_ORIGINS)),
        })
    }

    fn starter(&self) -> JobStarter {
        JobStarter {
            jobs: self.jobs.clone(),
            media: self.media.clone(),
            invoker: self.invoker.clone(),
            max_audio_bytes: self.max_audio_bytes,
            max_per_user_per_day: self.max_per_user_per_day,
        }
    }
}

/// Tokens of `USER_POOL_CLIENT_ID` from the pool `USER_POOL_ID` in the function's region;
/// `COGNITO_ISSUER` and `COGNITO_JWKS_URL` replace the derived URLs when set.
fn jwt_config(sdk: &SdkConfig) -> Result<JwtConfig, ConfigError> {
    let client_ids = vec![Env::require(USER_POOL_CLIENT_ID)?];
    let issuer = match Env::optional(COGNITO_ISSUER) {
        Some(issuer) => issuer.trim_end_matches('/').to_owned(),
        None => {
            let region =
                sdk.region()
                    .map(ToString::to_string)
                    .ok_or_else(|| ConfigError::Missing {
                        name: "AWS_REGION".to_owned(),
                    })?;
            JwtConfig::cognito(&region, &Env::require(USER_POOL_ID)?, client_ids.clone()).issuer
        }
    };
    let jwks_url = Env::optional(COGNITO_JWKS_URL)
        .unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
    Ok(JwtConfig {
        issuer,
        jwks_url,
        client_ids,
    })
}

pub async fn handle(
    deps: &Deps,
    event: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let route = event.request_context.route_key.clone().unwrap_or_default();
    let connection_id = event
        .request_context
        .connection_id
        .clone()
        .unwrap_or_default();
    let result = match route.as_str() {
        _ if connection_id.is_empty() => {
            Err(ApiError::invalid_request("the event has no connection id"))
        }
        "$connect" => connect(deps, &connection_id, &event).await,
        "$disconnect" => disconnect(deps, &connection_id).await,
        "generateImage" => generate_image(deps, &connection_id, &event).await,
        other => Err(ApiError::NotFound(format!(
            "no action {:?}; send {{\"action\":\"generateImage\",…}}",
            mumble_core::error::echo(other)
        ))),
    };
    let response = match result {
        Ok(response) => response,
        Err(e) => error_response(route.as_str(), e),
    };
    tracing::info!(
        route,
        status = response.status_code,
        request_id = event.request_context.request_id.as_deref().unwrap_or(""),
        "websocket event"
    );
    response
}

async fn connect(
    deps: &Deps,
    connection_id: &str,
    event: &ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, ApiError> {
    let origin = event
        .headers
        .get("origin")
        .map(|value| value.to_str().unwrap_or_default());
    if !deps.allowed_origins.allows(origin) {
        tracing::info!(origin, "websocket origin refused");
        return Err(ApiError::Forbidden(
            "this site may not connect; open the app from its own address".to_owned(),
        ));
    }
    let token = event
        .query_string_parameters
        .first("token")
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("connect with ?token=<Cognito ID token>".to_owned())
        })?;
    let signed = deps.verifier.verify(token).await.map_err(|e| {
        tracing::info!(error = %e, "websocket token refused");
        ApiError::Unauthorized("the token is not valid; sign in again".to_owned())
    })?;
    let connection =
        Connection::new(connection_id, &signed.caller.user_id, Utc::now()).until(signed.expires_at);
    deps.connections.put(&connection).await?;
    Ok(json_response(200, serde_json::json!({"type": "connected"})))
}

async fn disconnect(deps: &Deps, connection_id: &str) -> Result<ApiGatewayProxyResponse, ApiError> {
    deps.connections.delete(connection_id).await?;
    Ok(json_response(
        200,
        serde_json::json!({"type": "disconnected"}),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateMessage {
    #[serde(flatten)]
    request: GenerateRequest,
    idempotency_key: Option<String>,
}

impl Validate for GenerateMessage {
    fn validate(&self) -> Result<(), Invalid> {
        // The key's own rules are the HTTP header's, checked when the job starts.
        self.request.validate()
    }
}

async fn generate_image(
    deps: &Deps,
    connection_id: &str,
    event: &ApiGatewayWebsocketProxyRequest,
) -> Result<ApiGatewayProxyResponse, ApiError> {
    let connection = deps
        .connections
        .get(connection_id)
        .await?
        .filter(|c| !c.is_expired(Utc::now()))
        .ok_or_else(|| {
            ApiError::Unauthorized(
                "this connection is not signed in or its sign-in expired; reconnect".to_owned(),
            )
        })?;
    let body = event.body.as_deref().unwrap_or_default();
    if body.trim().is_empty() {
        return Err(ApiError::invalid_request(
            "send a JSON message with audioKey",
        ));
    }
    let message: GenerateMessage = request::parse_json(body.as_bytes())?;
    let accepted = deps
        .starter()
        .start(
            &connection.user_id,
            message.request,
            message.idempotency_key.as_deref(),
        )
        .await?;
    Ok(json_response(
        202,
        serde_json::json!({"type": "accepted", "jobId": accepted.job_id, "status": accepted.status}),
    ))
}

fn error_response(route: &str, error: ApiError) -> ApiGatewayProxyResponse {
    let status = error.status();
    if status.is_server_error() {
        tracing::error!(route, code = error.code(), error = %error, "websocket event failed");
    }
    json_response(
        i64::from(status.as_u16()),
        serde_json::json!({"type": "error", "error": {"code": error.code(), "message": error.public_message()}}),
    )
}

fn json_response(status: i64, body: serde_json::Value) -> ApiGatewayProxyResponse {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.headers = headers;
    response.body = Some(Body::Text(body.to_string()));
    response
}

#[cfg(test)]
mod tests {
    use super::AllowedOrigins;

    #[test]
    fn a_star_allows_any_origin() {
        let any = AllowedOrigins::new(["*"]);
        assert!(any.allows(Some("https://anything.example")));
        assert!(any.allows(Some("http://127.0.0.1:5173")));
        assert!(any.allows(None));
    }

    #[test]
    fn listed_origins_match_exactly_ignoring_case_and_a_trailing_slash() {
        let site = AllowedOrigins::new(["https://mumble.app", " https://staging.mumble.app/ "]);
        assert!(site.allows(Some("https://mumble.app")));
        assert!(site.allows(Some("HTTPS://Staging.Mumble.app/")));
        assert!(!site.allows(Some("https://mumble.app.evil.example")));
        assert!(!site.allows(Some("http://mumble.app")));
        assert!(!site.allows(Some("null")));
        assert!(!AllowedOrigins::new(Vec::<String>::new()).allows(Some("https://mumble.app")));
    }
}
