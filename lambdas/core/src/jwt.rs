//! Verifies Cognito JWTs (ID and access tokens) against the user pool's JWKS, for the places that
//! see a raw token: the local gateway (standing in for API Gateway's JWT authorizer) and the
//! WebSocket `$connect` authorizer. Deployed HTTP routes get claims already verified by API
//! Gateway and use [`crate::identity::Caller::from_request`] instead.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokio::sync::RwLock;

use crate::error::ApiError;
use crate::identity::Caller;

/// Which tokens to accept.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// `iss` exactly, e.g. `https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc`.
    pub issuer: String,
    /// Where the signing keys are. Usually `{issuer}/.well-known/jwks.json`, but settable apart
    /// from the issuer because a local emulator serves them at its own address.
    pub jwks_url: String,
    /// App client ids whose tokens are accepted (`aud` of ID tokens, `client_id` of access tokens).
    pub client_ids: Vec<String>,
}

impl JwtConfig {
    /// The configuration for a Cognito user pool in AWS.
    pub fn cognito(region: &str, user_pool_id: &str, client_ids: Vec<String>) -> Self {
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}");
        Self {
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            client_ids,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token is not a well-formed JWT: {0}")]
    Malformed(String),
    #[error("the token was not signed by a key of this user pool")]
    UnknownKey,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid here: {0}")]
    Invalid(String),
    #[error("the signing keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::KeysUnavailable(_) => ApiError::unavailable(e),
            AuthError::Expired => {
                ApiError::Unauthorized("the session has expired; sign in again".to_owned())
            }
            _ => ApiError::Unauthorized("the sign-in token is not valid; sign in again".to_owned()),
        }
    }
}

/// A verified token.
#[derive(Debug, Clone)]
pub struct Verified {
    pub caller: Caller,
    /// `id` or `access`.
    pub token_use: String,
    /// The claims flattened to strings the way API Gateway's JWT authorizer passes them, so the
    /// local gateway can put them in the request context unchanged.
    pub claims: HashMap<String, String>,
}

/// Verifies tokens; keeps the JWKS in memory and refetches it when a token names an unknown key
/// (key rotation), at most once per [`JwtVerifier::REFRESH_INTERVAL`].
pub struct JwtVerifier {
    config: JwtConfig,
    http: reqwest::Client,
    keys: RwLock<Option<(Instant, JwkSet)>>,
}

impl JwtVerifier {
    pub const REFRESH_INTERVAL: Duration = Duration::from_secs(30);

    /// `http` should come from [`crate::http::client`] with [`crate::http::Timeouts::QUICK`].
    pub fn new(config: JwtConfig, http: reqwest::Client) -> Self {
        Self {
            config,
            http,
            keys: RwLock::new(None),
        }
    }

    /// Checks signature (RS256), issuer, expiry, `token_use` (id or access) and the app client.
    pub async fn verify(&self, token: &str) -> Result<Verified, AuthError> {
        let token = token
            .trim()
            .strip_prefix("Bearer ")
            .unwrap_or(token.trim())
            .trim();
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?} is not accepted",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Malformed("the header has no kid".to_owned()))?;
        let key = self.decoding_key(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // Access tokens carry no `aud`; the client is checked below for both kinds.
        validation.validate_aud = false;
        let data = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                jsonwebtoken::errors::ErrorKind::InvalidSignature => {
                    AuthError::Invalid("bad signature".to_owned())
                }
                _ => AuthError::Invalid(e.to_string()),
            })?;
        let claims = data.claims;

        let token_use = claims
            .get("token_use")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let client = match token_use.as_str() {
            "id" => audience(&claims),
            "access" => claims
                .get("client_id")
                .and_then(Value::as_str)
                .map(|c| vec![c.to_owned()])
                .unwrap_or_default(),
            other => {
                return Err(AuthError::Invalid(format!(
                    "token_use {other:?} is neither id nor access"
                )));
            }
        };
        if !client.iter().any(|c| self.config.client_ids.contains(c)) {
            return Err(AuthError::Invalid(
                "the token was issued to another app client".to_owned(),
            ));
        }

        let flat: HashMap<String, String> = claims
            .iter()
            .map(|(k, v)| (k.clone(), flatten_claim(v)))
            .collect();
        let caller = Caller::from_claims(&flat)
            .ok_or_else(|| AuthError::Invalid("the token has no usable sub".to_owned()))?;
        Ok(Verified {
            caller,
            token_use,
            claims: flat,
        })
    }

    async fn decoding_key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        if let Some((_, set)) = self.keys.read().await.as_ref()
            && let Some(jwk) = set.find(kid)
        {
            return DecodingKey::from_jwk(jwk).map_err(|e| AuthError::Invalid(e.to_string()));
        }
        let mut keys = self.keys.write().await;
        let recently_fetched = keys
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < Self::REFRESH_INTERVAL);
        if !recently_fetched {
            *keys = Some((Instant::now(), self.fetch_keys().await?));
        }
        let jwk = keys
            .as_ref()
            .and_then(|(_, set)| set.find(kid))
            .ok_or(AuthError::UnknownKey)?;
        DecodingKey::from_jwk(jwk).map_err(|e| AuthError::Invalid(e.to_string()))
    }

    async fn fetch_keys(&self) -> Result<JwkSet, AuthError> {
        let response = self
            .http
            .get(&self.config.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?;
        response
            .json::<JwkSet>()
            .await
            .map_err(|e| AuthError::KeysUnavailable(e.to_string()))
    }
}

fn audience(claims: &serde_json::Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// API Gateway passes every claim as a string; arrays become `[a b]`.
fn flatten_claim(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(flatten_claim).collect();
            format!("[{}]", inner.join(" "))
        }
        other => other.to_string(),
    }
}
