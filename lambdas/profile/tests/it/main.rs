//! Integration tests of the profile function: fixture events against DynamoDB in the local
//! emulator.

use std::sync::Arc;

use lambda_http::Request;
use mumble_core::store::{DynamoUsers, UserStore};
use mumble_testing::{
    self, anonymous, as_user, assert_error, json_response, request, request_with,
};
use profile::{Deps, handle};
use serde_json::{Value, json};

const GET_ME: &str = include_str!("../fixtures/get-me.json");
const PUT_ME: &str = include_str!("../fixtures/put-me.json");
const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";
const BOB: &str = "2b7d9e10-5c3a-4f68-8e21-9a0b1c2d3e4f";

async fn deps() -> (Deps, Arc<DynamoUsers>) {
    let sdk = mumble_testing::sdk_config();
    let dynamodb = mumble_core::aws::dynamodb_client(&sdk);
    let users = Arc::new(DynamoUsers::new(
        dynamodb.clone(),
        mumble_testing::users_table(&dynamodb).await,
    ));
    (
        Deps {
            users: users.clone(),
        },
        users,
    )
}

fn put(body: &str) -> Request {
    let body = body.to_owned();
    request_with(PUT_ME, move |e| e["body"] = Value::String(body))
}

fn get_as(user: &str) -> Request {
    let user = user.to_owned();
    request_with(GET_ME, move |e| as_user(e, &user))
}

#[tokio::test]
async fn the_first_get_creates_the_profile_from_the_token() {
    let (deps, users) = deps().await;
    assert!(users.get(ALICE).await.unwrap().is_none());

    let (status, body) = json_response(&handle(&deps, request(GET_ME)).await);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userId"], ALICE);
    assert_eq!(body["email"], "alice@example.com");
    assert_eq!(body["displayName"], "alice");
    assert_eq!(body["preferredLanguage"], "zh-CN");
    assert_eq!(body["locationConsent"], false);
    assert_eq!(body["createdAt"], body["updatedAt"]);
    assert!(users.get(ALICE).await.unwrap().is_some(), "stored");

    let (_, again) = json_response(&handle(&deps, request(GET_ME)).await);
    assert_eq!(again, body, "the second GET returns the same profile");
}

#[tokio::test]
async fn put_changes_the_given_fields_and_keeps_the_rest() {
    let (deps, _) = deps().await;
    let (_, created) = json_response(&handle(&deps, request(GET_ME)).await);

    let (status, body) = json_response(&handle(&deps, request(PUT_ME)).await);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["displayName"], "小明");
    assert_eq!(body["preferredLanguage"], "zh-CN");
    assert_eq!(body["locationConsent"], true);
    assert_eq!(body["createdAt"], created["createdAt"]);
    assert!(body["updatedAt"].as_str() >= created["updatedAt"].as_str());

    let (_, body) = json_response(&handle(&deps, put(r#"{"preferredLanguage":"en_us"}"#)).await);
    assert_eq!(body["preferredLanguage"], "en-US");
    assert_eq!(body["displayName"], "小明", "untouched");

    let (_, read_back) = json_response(&handle(&deps, request(GET_ME)).await);
    assert_eq!(read_back, body);
}

#[tokio::test]
async fn put_before_any_get_creates_the_profile() {
    let (deps, users) = deps().await;
    let (status, body) = json_response(&handle(&deps, put(r#"{"locationConsent":true}"#)).await);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["displayName"], "alice");
    assert!(users.get(ALICE).await.unwrap().unwrap().location_consent);
}

#[tokio::test]
async fn each_user_sees_only_their_own_profile() {
    let (deps, _) = deps().await;
    handle(&deps, request(PUT_ME)).await;
    let (status, bob) = json_response(&handle(&deps, get_as(BOB)).await);
    assert_eq!(status, 200);
    assert_eq!(bob["userId"], BOB);
    assert_eq!(bob["email"], format!("{BOB}@example.com"));
    assert_ne!(bob["displayName"], "小明");
}

#[tokio::test]
async fn bad_updates_are_400_naming_the_field_and_change_nothing() {
    let (deps, users) = deps().await;
    handle(&deps, request(GET_ME)).await;
    let before = users.get(ALICE).await.unwrap();
    let long_name = json!({"displayName": "x".repeat(51)}).to_string();
    let cases = [
        (long_name.as_str(), "displayName"),
        (r#"{"displayName":""}"#, "displayName"),
        (r#"{"displayName":"   "}"#, "displayName"),
        (r#"{"displayName":"a\u0000b"}"#, "displayName"),
        (r#"{"displayName":42}"#, "displayName"),
        (
            r#"{"preferredLanguage":"klingon-language"}"#,
            "preferredLanguage",
        ),
        (r#"{"preferredLanguage":""}"#, "preferredLanguage"),
        (r#"{"locationConsent":"yes"}"#, "locationConsent"),
        (r#"{"locationConsent":1}"#, "locationConsent"),
        (r#"{}"#, "body"),
        (r#"{"userId":"someone-else"}"#, "userId"),
        (r#"{"displayName":"ok","isAdmin":true}"#, "isAdmin"),
        ("[]", "body"),
        ("null", "body"),
        ("{", "body"),
        ("", "body"),
    ];
    for (body, field) in cases {
        let (status, json) = json_response(&handle(&deps, put(body)).await);
        assert_eq!(status, 400, "{body} -> {json}");
        assert_eq!(json["error"]["code"], "invalid_input", "{body} -> {json}");
        assert_eq!(json["error"]["field"], field, "{body} -> {json}");
    }
    assert_eq!(users.get(ALICE).await.unwrap(), before);
}

#[tokio::test]
async fn a_field_by_another_name_is_refused_in_words_that_name_the_right_one() {
    let (deps, _) = deps().await;
    let body = r#"{"displayName":"小明","language":"en"}"#;
    let (status, json) = json_response(&handle(&deps, put(body)).await);
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["error"]["field"], "language", "{json}");
    assert_eq!(
        json["error"]["message"],
        "language: is not a field of this request; send only displayName, preferredLanguage, locationConsent"
    );
}

#[tokio::test]
async fn a_display_name_of_the_published_length_is_saved_and_one_more_is_refused() {
    let (deps, users) = deps().await;
    let limit = profile::MAX_DISPLAY_NAME_CHARS;
    let longest = "明".repeat(limit);
    let body = json!({"displayName": longest, "preferredLanguage": "en"}).to_string();
    let (status, json) = json_response(&handle(&deps, put(&body)).await);
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["displayName"], longest.as_str());
    assert_eq!(json["preferredLanguage"], "en");
    assert_eq!(
        users.get(ALICE).await.unwrap().unwrap().display_name,
        longest
    );

    let body = json!({"displayName": "明".repeat(limit + 1)}).to_string();
    let (status, json) = json_response(&handle(&deps, put(&body)).await);
    assert_eq!(status, 400, "{json}");
    assert_eq!(
        json["error"]["message"],
        format!(
            "displayName: must be at most {limit} characters (it is {})",
            limit + 1
        )
    );
}

#[tokio::test]
async fn a_missing_or_huge_body_is_rejected() {
    let (deps, _) = deps().await;
    let no_body = request_with(PUT_ME, |e| {
        e.as_object_mut().unwrap().remove("body");
    });
    assert_error(&handle(&deps, no_body).await, 400, "invalid_input");
    let huge = json!({"displayName": "x".repeat(100_000)}).to_string();
    assert_error(&handle(&deps, put(&huge)).await, 413, "payload_too_large");
}

#[tokio::test]
async fn without_sign_in_it_is_401() {
    let (deps, _) = deps().await;
    for fixture in [GET_ME, PUT_ME] {
        assert_error(
            &handle(&deps, request_with(fixture, anonymous)).await,
            401,
            "unauthorized",
        );
    }
}
