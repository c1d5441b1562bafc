//! The Cognito JWT verifier against a local JWKS server, with keys from fixture PEMs.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mumble_core::ApiError;
use mumble_core::http::{Timeouts, client};
use mumble_core::jwt::{AuthError, JwtConfig, JwtVerifier};
use serde_json::{Value, json};

const SIGNING_KEY: &str = include_str!("../fixtures/signing-key.pem");
const FOREIGN_KEY: &str = include_str!("../fixtures/foreign-key.pem");
const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test";
const CLIENT: &str = "client-a";
const SUB: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";

struct Jwks {
    set: JwkSet,
    fetches: AtomicUsize,
}

async fn jwks(State(jwks): State<Arc<Jwks>>) -> axum::Json<JwkSet> {
    jwks.fetches.fetch_add(1, Ordering::SeqCst);
    axum::Json(jwks.set.clone())
}

fn key(pem: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()
}

/// A JWKS server publishing the signing key as `k1`; the verifier points at it.
async fn verifier() -> (JwtVerifier, Arc<Jwks>) {
    let mut jwk = Jwk::from_encoding_key(&key(SIGNING_KEY), Algorithm::RS256).unwrap();
    jwk.common.key_id = Some("k1".into());
    let state = Arc::new(Jwks {
        set: JwkSet { keys: vec![jwk] },
        fetches: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/pool/.well-known/jwks.json", get(jwks))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let jwks_url = format!(
        "http://{}/pool/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = JwtConfig {
        issuer: ISSUER.into(),
        jwks_url,
        client_ids: vec![CLIENT.into()],
    };
    (
        JwtVerifier::new(config, client(Timeouts::QUICK).unwrap()),
        state,
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn id_claims() -> Value {
    json!({
        "sub": SUB, "email": "alice@example.com", "cognito:username": "alice", "token_use": "id",
        "aud": CLIENT, "iss": ISSUER, "iat": now(), "exp": now() + 3600, "cognito:groups": ["a", "b"]
    })
}

fn sign(claims: &Value, pem: &str, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &key(pem)).unwrap()
}

fn edited(edit: impl FnOnce(&mut Value)) -> Value {
    let mut claims = id_claims();
    edit(&mut claims);
    claims
}

#[tokio::test]
async fn a_valid_id_token_yields_the_caller_and_flat_claims() {
    let (verifier, _) = verifier().await;
    let claims = id_claims();
    let verified = verifier
        .verify(&sign(&claims, SIGNING_KEY, "k1"))
        .await
        .unwrap();
    assert_eq!(verified.caller.user_id, SUB);
    assert_eq!(verified.caller.email.as_deref(), Some("alice@example.com"));
    assert_eq!(verified.token_use, "id");
    assert_eq!(verified.claims["cognito:groups"], "[a b]");
    // The value signed into the token, not a second reading of the clock.
    assert_eq!(verified.claims["exp"], claims["exp"].to_string());
}

#[tokio::test]
async fn a_valid_access_token_and_a_bearer_prefix_are_accepted() {
    let (verifier, _) = verifier().await;
    let access = edited(|c| {
        c.as_object_mut().unwrap().remove("aud");
        c["token_use"] = "access".into();
        c["client_id"] = CLIENT.into();
    });
    let token = format!("Bearer {}", sign(&access, SIGNING_KEY, "k1"));
    assert_eq!(verifier.verify(&token).await.unwrap().token_use, "access");
}

#[tokio::test]
async fn wrong_issuer_client_use_or_expiry_are_refused() {
    let (verifier, _) = verifier().await;
    let cases = [
        (
            "issuer",
            edited(|c| c["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/other".into()),
        ),
        ("audience", edited(|c| c["aud"] = "client-b".into())),
        (
            "access client",
            edited(|c| {
                c["token_use"] = "access".into();
                c["client_id"] = "client-b".into();
            }),
        ),
        ("token_use", edited(|c| c["token_use"] = "refresh".into())),
        (
            "no token_use",
            edited(|c| {
                c.as_object_mut().unwrap().remove("token_use");
            }),
        ),
        (
            "no sub",
            edited(|c| {
                c.as_object_mut().unwrap().remove("sub");
            }),
        ),
    ];
    for (what, claims) in cases {
        let err = verifier
            .verify(&sign(&claims, SIGNING_KEY, "k1"))
            .await
            .unwrap_err();
        assert!(matches!(err, AuthError::Invalid(_)), "{what}: {err:?}");
        assert_eq!(ApiError::from(err).status(), 401, "{what}");
    }
    let expired = edited(|c| c["exp"] = (now() - 3600).into());
    let err = verifier
        .verify(&sign(&expired, SIGNING_KEY, "k1"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Expired), "{err:?}");
}

#[tokio::test]
async fn forged_signatures_are_refused() {
    let (verifier, _) = verifier().await;
    // Another key claiming to be k1.
    let err = verifier
        .verify(&sign(&id_claims(), FOREIGN_KEY, "k1"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::Invalid(_)), "{err:?}");
    // Another key with its own kid.
    let err = verifier
        .verify(&sign(&id_claims(), FOREIGN_KEY, "k9"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::UnknownKey), "{err:?}");
    // An edited payload with the original signature.
    let token = sign(&id_claims(), SIGNING_KEY, "k1");
    let parts: Vec<&str> = token.split('.').collect();
    let other = sign(
        &edited(|c| c["sub"] = "someone-else".into()),
        SIGNING_KEY,
        "k1",
    );
    let spliced = format!(
        "{}.{}.{}",
        parts[0],
        other.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert!(verifier.verify(&spliced).await.is_err());
    // A symmetric token, as in the classic algorithm-confusion attack.
    let hs = jsonwebtoken::encode(
        &Header {
            kid: Some("k1".into()),
            ..Header::new(Algorithm::HS256)
        },
        &id_claims(),
        &EncodingKey::from_secret(b"guess"),
    )
    .unwrap();
    assert!(matches!(
        verifier.verify(&hs).await.unwrap_err(),
        AuthError::Invalid(_)
    ));
    for garbage in ["", "abc", "a.b.c", "Bearer "] {
        assert!(
            matches!(
                verifier.verify(garbage).await.unwrap_err(),
                AuthError::Malformed(_)
            ),
            "{garbage:?}"
        );
    }
}

#[tokio::test]
async fn keys_are_fetched_once_and_unknown_kids_do_not_hammer_the_jwks() {
    let (verifier, jwks) = verifier().await;
    for _ in 0..3 {
        verifier
            .verify(&sign(&id_claims(), SIGNING_KEY, "k1"))
            .await
            .unwrap();
    }
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 1);
    for _ in 0..3 {
        verifier
            .verify(&sign(&id_claims(), FOREIGN_KEY, "rotated"))
            .await
            .unwrap_err();
    }
    assert_eq!(
        jwks.fetches.load(Ordering::SeqCst),
        1,
        "refetched within the refresh interval"
    );
}

#[tokio::test]
async fn an_unreachable_jwks_is_503_not_401() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let jwks_url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    drop(listener);
    let config = JwtConfig {
        issuer: ISSUER.into(),
        jwks_url,
        client_ids: vec![CLIENT.into()],
    };
    let verifier = JwtVerifier::new(config, client(Timeouts::QUICK).unwrap());
    let err = verifier
        .verify(&sign(&id_claims(), SIGNING_KEY, "k1"))
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::KeysUnavailable(_)), "{err:?}");
    assert_eq!(ApiError::from(err).status(), 503);
}

#[test]
fn cognito_config_points_at_the_pools_jwks() {
    let config = JwtConfig::cognito("eu-west-1", "eu-west-1_abc", vec![CLIENT.into()]);
    assert_eq!(
        config.issuer,
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    );
    assert_eq!(
        config.jwks_url,
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json"
    );
}
