//! The caller from the JWT authorizer's claims.

use mumble_core::Caller;
use mumble_testing::{anonymous, request, request_with};

const EVENT: &str = include_str!("../fixtures/authorized-event.json");

#[test]
fn the_caller_comes_from_the_authorizer_claims() {
    let caller = Caller::from_request(&request(EVENT)).unwrap();
    assert_eq!(caller.user_id, "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11");
    assert_eq!(caller.email.as_deref(), Some("alice@example.com"));
    assert_eq!(caller.name.as_deref(), Some("Alice Liu"));
}

#[test]
fn no_authorizer_is_401() {
    let err = Caller::from_request(&request_with(EVENT, anonymous)).unwrap_err();
    assert_eq!(err.status(), 401);
}

#[test]
fn a_sub_that_could_escape_a_key_prefix_is_refused() {
    for sub in ["", "   ", "../bob", "a/b", "x".repeat(200).as_str()] {
        let sub = sub.to_owned();
        let req = request_with(EVENT, |e| {
            e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub.clone().into()
        });
        assert_eq!(
            Caller::from_request(&req).unwrap_err().status(),
            401,
            "{sub:?}"
        );
    }
}
