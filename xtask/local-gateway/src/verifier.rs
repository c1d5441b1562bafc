//! The JWT authorizer's check, done by mumble-core's Cognito verifier against the emulator's keys.

use std::collections::HashMap;
use std::sync::Arc;

use mumble_core::jwt::{JwtConfig, JwtVerifier};

use crate::ports::{BoxFuture, TokenVerifier};

/// The user pool's tokens: issuer as Cognito names it, keys from the emulator's JWKS route,
/// audience the app client — what the stage's API Gateway authorizer is configured with.
pub fn cognito_config(
    region: &str,
    user_pool_id: &str,
    client_id: &str,
    emulator_url: &str,
) -> JwtConfig {
    let mut config = JwtConfig::cognito(region, user_pool_id, vec![client_id.to_owned()]);
    config.jwks_url = format!(
        "{}/{user_pool_id}/.well-known/jwks.json",
        emulator_url.trim_end_matches('/')
    );
    config
}

/// [`TokenVerifier`] over mumble-core's [`JwtVerifier`].
pub struct CognitoVerifier(pub Arc<JwtVerifier>);

impl TokenVerifier for CognitoVerifier {
    fn verify(&self, token: &str) -> BoxFuture<Result<HashMap<String, String>, String>> {
        let verifier = self.0.clone();
        let token = token.to_owned();
        Box::pin(async move {
            verifier
                .verify(&token)
                .await
                .map(|verified| verified.claims)
                .map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_the_emulator_and_the_issuer_stays_cognitos() {
        let config = cognito_config(
            "us-east-1",
            "us-east-1_abc",
            "client1",
            "http://127.0.0.1:4566/",
        );
        assert_eq!(
            config.issuer,
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
        );
        assert_eq!(
            config.jwks_url,
            "http://127.0.0.1:4566/us-east-1_abc/.well-known/jwks.json"
        );
        assert_eq!(config.client_ids, vec!["client1".to_owned()]);
    }
}
