//! Integration tests of the audio-upload function: fixture events against S3 in the local
//! emulator, and every kind of bad input.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use audio_upload::{Deps, handle};
use mumble_core::store::{MediaStore, ObjectInfo, PresignedRequest, S3Media, StoreError};
use mumble_testing::{self, anonymous, assert_error, json_response, request, request_with};
use serde_json::{Value, json};

const POST_UPLOAD_URL: &str = include_str!("../fixtures/post-upload-url.json");
const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";

async fn s3_deps() -> (Deps, aws_sdk_s3::Client, String) {
    let sdk = mumble_testing::sdk_config();
    let s3 = mumble_core::aws::s3_client(&sdk);
    let bucket = mumble_testing::bucket(&s3).await;
    let deps = Deps {
        media: Arc::new(S3Media::new(s3.clone(), &bucket)),
        max_audio_bytes: 10 * 1024 * 1024,
    };
    (deps, s3, bucket)
}

/// Bad input must be rejected before anything is presigned.
struct MustNotPresign;

#[async_trait]
impl MediaStore for MustNotPresign {
    async fn presign_put(
        &self,
        key: &str,
        _: &str,
        _: u64,
        _: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        panic!("presigned {key} for a request that should have been rejected")
    }
    async fn presign_get(&self, key: &str, _: Duration) -> Result<String, StoreError> {
        panic!("presigned a download of {key}")
    }
    async fn head(&self, _: &str) -> Result<Option<ObjectInfo>, StoreError> {
        unreachable!()
    }
    async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
        unreachable!()
    }
    async fn put(&self, _: &str, _: Vec<u8>, _: &str) -> Result<(), StoreError> {
        unreachable!()
    }
    async fn delete(&self, _: &[String]) -> Result<(), StoreError> {
        unreachable!()
    }
}

fn offline_deps() -> Deps {
    Deps {
        media: Arc::new(MustNotPresign),
        max_audio_bytes: 1000,
    }
}

fn with_body(body: &str) -> lambda_http::Request {
    let body = body.to_owned();
    request_with(POST_UPLOAD_URL, move |e| e["body"] = Value::String(body))
}

fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    url.split_once('?')?
        .1
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

#[tokio::test]
async fn upload_url_binds_type_and_length_and_accepts_the_declared_upload() {
    let (deps, s3, bucket) = s3_deps().await;
    let (status, body) = json_response(&handle(&deps, request(POST_UPLOAD_URL)).await);
    assert_eq!(status, 200, "{body}");

    let key = body["audioKey"].as_str().unwrap();
    assert!(
        key.starts_with(&format!("audio/{ALICE}/")) && key.ends_with(".webm"),
        "{key}"
    );
    assert_eq!(body["expiresIn"], 300);
    assert_eq!(body["method"], "PUT");

    let url = body["uploadUrl"].as_str().unwrap();
    let signed = query_param(url, "X-Amz-SignedHeaders").expect("a SigV4 presigned URL");
    let signed: Vec<&str> = signed.split("%3B").flat_map(|s| s.split(';')).collect();
    assert!(
        signed.contains(&"content-type"),
        "signed headers: {signed:?}"
    );
    assert!(
        signed.contains(&"content-length"),
        "signed headers: {signed:?}"
    );
    assert_eq!(query_param(url, "X-Amz-Expires"), Some("300"));

    // The client sends exactly the returned headers and the declared number of bytes.
    let headers = body["headers"].as_object().unwrap();
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .unwrap()
        .1;
    assert_eq!(content_type, "audio/webm");
    let mut put = reqwest::Client::new().put(url).body(vec![7u8; 48213]);
    for (name, value) in headers {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    let uploaded = put.send().await.unwrap();
    assert!(
        uploaded.status().is_success(),
        "upload failed: {}",
        uploaded.text().await.unwrap()
    );
    let object = s3
        .head_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(object.content_length(), Some(48213));
    assert_eq!(object.content_type(), Some("audio/webm"));
}

#[tokio::test]
async fn every_allowed_type_gets_its_extension() {
    let (deps, _, _) = s3_deps().await;
    for (content_type, ext) in [
        ("audio/webm", "webm"),
        ("audio/ogg", "ogg"),
        ("audio/mp4", "m4a"),
        ("audio/mpeg", "mp3"),
        ("audio/wav", "wav"),
    ] {
        let body = json!({"contentType": content_type, "contentLength": 10}).to_string();
        let (status, body) = json_response(&handle(&deps, with_body(&body)).await);
        assert_eq!(status, 200, "{content_type}: {body}");
        assert!(
            body["audioKey"]
                .as_str()
                .unwrap()
                .ends_with(&format!(".{ext}")),
            "{body}"
        );
    }
}

#[tokio::test]
async fn each_upload_gets_its_own_key() {
    let (deps, _, _) = s3_deps().await;
    let first = json_response(&handle(&deps, request(POST_UPLOAD_URL)).await).1;
    let second = json_response(&handle(&deps, request(POST_UPLOAD_URL)).await).1;
    assert_ne!(first["audioKey"], second["audioKey"]);
}

#[tokio::test]
async fn other_content_types_are_415() {
    for content_type in [
        "text/plain",
        "video/webm",
        "audio/flac",
        "application/octet-stream",
    ] {
        let body = json!({"contentType": content_type, "contentLength": 10}).to_string();
        let message = assert_error(
            &handle(&offline_deps(), with_body(&body)).await,
            415,
            "unsupported_media_type",
        );
        assert!(
            message.contains("audio/webm"),
            "the message lists what is accepted: {message}"
        );
    }
}

#[tokio::test]
async fn recordings_over_the_limit_are_413() {
    let body = json!({"contentType": "audio/ogg", "contentLength": 1001}).to_string();
    let message = assert_error(
        &handle(&offline_deps(), with_body(&body)).await,
        413,
        "payload_too_large",
    );
    assert!(
        message.contains("1000"),
        "the message names the limit: {message}"
    );
}

#[tokio::test]
async fn bad_bodies_are_400_naming_the_field() {
    let cases = [
        (
            r#"{"contentType":"audio/ogg","contentLength":0}"#,
            "contentLength",
        ),
        (
            r#"{"contentType":"audio/ogg","contentLength":-5}"#,
            "contentLength",
        ),
        (
            r#"{"contentType":"audio/ogg","contentLength":1.5}"#,
            "contentLength",
        ),
        (
            r#"{"contentType":"audio/ogg","contentLength":"10"}"#,
            "contentLength",
        ),
        (
            r#"{"contentType":"audio/ogg","contentLength":1e30}"#,
            "contentLength",
        ),
        (r#"{"contentType":"audio/ogg"}"#, "contentLength"),
        (r#"{"contentLength":10}"#, "contentType"),
        (r#"{"contentType":42,"contentLength":10}"#, "contentType"),
        (r#"{"contentType":"","contentLength":10}"#, "contentType"),
        (r#"[1,2,3]"#, "body"),
        (r#"{"contentType":"audio/ogg","#, "body"),
        ("not json at all", "body"),
        ("", "body"),
    ];
    for (body, field) in cases {
        let response = handle(&offline_deps(), with_body(body)).await;
        let (status, json) = json_response(&response);
        assert_eq!(status, 400, "{body} -> {json}");
        assert_eq!(json["error"]["code"], "invalid_input", "{body} -> {json}");
        assert_eq!(json["error"]["field"], field, "{body} -> {json}");
    }
}

#[tokio::test]
async fn a_missing_body_is_400() {
    let req = request_with(POST_UPLOAD_URL, |e| {
        e.as_object_mut().unwrap().remove("body");
    });
    assert_error(&handle(&offline_deps(), req).await, 400, "invalid_input");
}

#[tokio::test]
async fn a_huge_body_is_413() {
    let huge =
        json!({"contentType": "audio/ogg", "contentLength": 10, "padding": "x".repeat(200_000)})
            .to_string();
    assert_error(
        &handle(&offline_deps(), with_body(&huge)).await,
        413,
        "payload_too_large",
    );
}

#[tokio::test]
async fn a_non_json_content_type_is_415() {
    let req = request_with(POST_UPLOAD_URL, |e| {
        e["headers"]["content-type"] = "text/plain".into()
    });
    assert_error(
        &handle(&offline_deps(), req).await,
        415,
        "unsupported_media_type",
    );
}

#[tokio::test]
async fn without_sign_in_it_is_401() {
    let req = request_with(POST_UPLOAD_URL, anonymous);
    assert_error(&handle(&offline_deps(), req).await, 401, "unauthorized");
}
