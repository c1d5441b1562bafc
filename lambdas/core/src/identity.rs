//! Who is calling: the user id and profile claims from the API Gateway JWT authorizer.
//!
//! API Gateway has already verified the Cognito token when a handler runs; the handler only reads
//! the claims it passed along. (The local gateway verifies tokens with [`crate::jwt`] and fills in
//! the same claims.)

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::error::ApiError;

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Cognito `sub`: stable, unique, and the partition of everything the user owns.
    pub user_id: String,
    pub email: Option<String>,
    /// `name`, else `preferred_username`, when the token carries one. Not `cognito:username`:
    /// in a pool that signs in by e-mail that claim is the user's opaque id, not a name.
    pub name: Option<String>,
}

impl Caller {
    /// The caller of an HTTP API request; 401 when the request carries no authorizer claims.
    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let caller = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|a| a.jwt.as_ref())
                .and_then(|jwt| Self::from_claims(&jwt.claims)),
            // WebSocket events never come here: the websocket function verifies the `$connect`
            // token itself (there is no authorizer on that API) and later events by their stored
            // connection.
            _ => None,
        };
        caller.ok_or_else(|| ApiError::Unauthorized("sign in to use this endpoint".to_owned()))
    }

    /// The caller described by verified token claims; `None` without a usable `sub`.
    pub fn from_claims(claims: &HashMap<String, String>) -> Option<Self> {
        let non_empty = |key: &str| {
            claims
                .get(key)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let user_id = non_empty("sub")?;
        if !is_plausible_sub(&user_id) {
            return None;
        }
        Some(Self {
            user_id,
            email: non_empty("email"),
            name: non_empty("name").or_else(|| non_empty("preferred_username")),
        })
    }
}

/// Cognito subs are UUIDs; we accept any short id without separators used in our S3 keys, so a
/// crafted claim can never reach outside the caller's own `audio/{userId}/` prefix.
fn is_plausible_sub(sub: &str) -> bool {
    sub.len() <= 128
        && sub
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
