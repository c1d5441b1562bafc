//! Who is calling: the user id and profile claims from the API Gateway JWT authorizer.
//!
//! API Gateway has already verified the Cognito token when a handler runs; the handler only reads
//! the claims it passed along. (The local gateway verifies tokens with [`crate::jwt`] and fills in
//! the same claims.)

use std::collections::HashMap;

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use sha2::{Digest, Sha256};

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

/// Who a log line is about, without saying who: 16 hex digits of SHA-256 over the stage and the
/// user's `sub`. Lines of one user correlate within a stage, the `sub` cannot be read back, and
/// the same user has unrelated references in different stages. Never log e-mails or tokens.
pub fn user_ref(user_id: &str) -> String {
    static STAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stage = STAGE.get_or_init(|| {
        std::env::var(crate::config::vars::STAGE).unwrap_or_else(|_| "local".to_owned())
    });
    user_ref_in(stage, user_id)
}

/// [`user_ref`] for an explicit stage.
pub fn user_ref_in(stage: &str, user_id: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"mumble user reference\0")
        .chain_update(stage.as_bytes())
        .chain_update(b"\0")
        .chain_update(user_id.as_bytes())
        .finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_reference_is_short_stable_per_stage_and_hides_the_sub() {
        let sub = "3f1c2d4e-5b6a-4789-90ab-cdef01234567";
        let prod = user_ref_in("prod", sub);
        assert_eq!(prod.len(), 16);
        assert!(prod.chars().all(|c| c.is_ascii_hexdigit()), "{prod}");
        assert_eq!(prod, user_ref_in("prod", sub), "the same user correlates");
        assert_ne!(prod, user_ref_in("dev", sub), "stages do not correlate");
        assert_ne!(prod, user_ref_in("prod", "another-sub"));
        assert!(!prod.contains(sub) && !sub.contains(&prod), "{prod}");
    }
}
