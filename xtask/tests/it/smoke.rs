//! Proves the test harness: the AWS SDK reaches the emulator `cargo xtask test` started and can
//! create and read back a DynamoDB table item and an S3 object there.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};

/// The emulator's SDK configuration; fails (never skips) when the harness did not start one.
async fn emulator_config() -> SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("set AWS_ENDPOINT_URL (run through `cargo xtask test`)");
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "AWS_ENDPOINT_URL must point at the local emulator on 127.0.0.1, not {endpoint}"
    );
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .load()
        .await
}

/// A name no other test (or earlier run) uses, so tests can run in parallel.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_dynamodb_item_written_to_the_emulator_reads_back() {
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator_config().await);
    let table = unique("smoke");
    dynamodb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create the table");

    dynamodb
        .put_item()
        .table_name(&table)
        .item("id", AttributeValue::S("greeting".into()))
        .item("text", AttributeValue::S("你好, Mumble".into()))
        .send()
        .await
        .expect("put the item");
    let item = dynamodb
        .get_item()
        .table_name(&table)
        .key("id", AttributeValue::S("greeting".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get the item")
        .item
        .expect("the item is there");
    assert_eq!(
        item.get("text"),
        Some(&AttributeValue::S("你好, Mumble".into()))
    );

    dynamodb
        .delete_table()
        .table_name(&table)
        .send()
        .await
        .expect("delete the table");
}

#[tokio::test]
async fn an_s3_object_written_to_the_emulator_reads_back() {
    let config = emulator_config().await;
    // Path-style addressing: a bucket name cannot be a subdomain of 127.0.0.1.
    let s3_config = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(s3_config);
    let bucket = unique("smoke");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create the bucket");

    let body = b"RIFF....WAVEfmt a recording".to_vec();
    s3.put_object()
        .bucket(&bucket)
        .key("audio/user-1/clip.wav")
        .content_type("audio/wav")
        .body(body.clone().into())
        .send()
        .await
        .expect("put the object");
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key("audio/user-1/clip.wav")
        .send()
        .await
        .expect("get the object");
    assert_eq!(object.content_type(), Some("audio/wav"));
    let read = object
        .body
        .collect()
        .await
        .expect("read the body")
        .into_bytes();
    assert_eq!(read.as_ref(), body.as_slice());

    s3.delete_object()
        .bucket(&bucket)
        .key("audio/user-1/clip.wav")
        .send()
        .await
        .expect("delete the object");
    s3.delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("delete the bucket");
}
