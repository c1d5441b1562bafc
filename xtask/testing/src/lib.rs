//! Helpers for the integration tests of every function crate (a dev-dependency only): clients for
//! the local emulator, tables and buckets with the deployed key schemas under unique names,
//! fixture requests and response bodies.

pub mod fake_openai;
pub mod pipeline_fakes;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use mumble_contract::Table;

/// The emulator configuration from `AWS_ENDPOINT_URL`. Panics (failing the test, never skipping
/// it) when the variable is unset.
pub fn sdk_config() -> SdkConfig {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| v.starts_with("http://127.0.0.1")),
        "set AWS_ENDPOINT_URL (run through `cargo xtask test`)"
    );
    mumble_core::aws::sdk_config().expect("cargo xtask test sets AWS_REGION")
}

/// `prefix` plus a random suffix: a table or bucket name no other test uses.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A string attribute of a key schema or index.
pub fn string_attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("attribute definition has its required fields")
}

/// A key schema: `hash`, and `range` when given.
pub fn key_schema(hash: &str, range: Option<&str>) -> Vec<KeySchemaElement> {
    let element = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .expect("key schema element has its required fields")
    };
    let mut schema = vec![element(hash, KeyType::Hash)];
    if let Some(range) = range {
        schema.push(element(range, KeyType::Range));
    }
    schema
}

/// A GSI projecting all attributes.
pub fn index(name: &str, hash: &str, range: Option<&str>) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .set_key_schema(Some(key_schema(hash, range)))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index has its required fields")
}

/// Creates an on-demand table; `attributes` must name every key attribute of table and indexes.
pub async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    attributes: &[&str],
    hash: &str,
    range: Option<&str>,
    indexes: Vec<GlobalSecondaryIndex>,
) {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes.iter().map(|a| string_attr(a)).collect()))
        .set_key_schema(Some(key_schema(hash, range)))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create table {name}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(e)
            )
        });
}

/// A table with the key schema and indexes the data stack gives `table`, under a unique name;
/// returns the name.
pub async fn table(client: &aws_sdk_dynamodb::Client, table: Table) -> String {
    let name = unique_name(table.label());
    let key = table.key();
    let indexes = table
        .indexes()
        .iter()
        .map(|i| index(i.name, i.key.partition, i.key.sort))
        .collect();
    create_table(
        client,
        &name,
        &table.key_attributes(),
        key.partition,
        key.sort,
        indexes,
    )
    .await;
    name
}

/// A users table as the data stack declares it; returns its name.
pub async fn users_table(client: &aws_sdk_dynamodb::Client) -> String {
    table(client, Table::Users).await
}

/// An images table as the data stack declares it; returns its name.
pub async fn images_table(client: &aws_sdk_dynamodb::Client) -> String {
    table(client, Table::Images).await
}

/// A jobs table as the data stack declares it; returns its name.
pub async fn jobs_table(client: &aws_sdk_dynamodb::Client) -> String {
    table(client, Table::Jobs).await
}

/// A connections table as the data stack declares it; returns its name.
pub async fn connections_table(client: &aws_sdk_dynamodb::Client) -> String {
    table(client, Table::Connections).await
}

/// A fresh bucket; returns its name.
pub async fn bucket(client: &aws_sdk_s3::Client) -> String {
    let name = unique_name("media");
    client
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create bucket {name}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        });
    name
}

/// A request from an API Gateway v2 (payload 2.0) fixture event.
pub fn request(event_json: &str) -> Request {
    lambda_http::request::from_str(event_json).expect("the fixture is an API Gateway v2 event")
}

/// A request from a fixture event after `edit` changed its JSON (another user, another body...).
pub fn request_with(event_json: &str, edit: impl FnOnce(&mut Value)) -> Request {
    let mut event: Value = serde_json::from_str(event_json).expect("the fixture is JSON");
    edit(&mut event);
    request(&event.to_string())
}

/// Sets the caller's `sub` (and email) in an event's JWT authorizer claims.
pub fn as_user(event: &mut Value, sub: &str) {
    let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
    claims["sub"] = Value::String(sub.to_owned());
    claims["email"] = Value::String(format!("{sub}@example.com"));
}

/// Removes the authorizer, as for a request that reached the function without a token.
pub fn anonymous(event: &mut Value) {
    if let Some(ctx) = event["requestContext"].as_object_mut() {
        ctx.remove("authorizer");
    }
}

/// The status and the JSON body of a response (`Value::Null` for an empty body).
pub fn json_response(response: &Response<Body>) -> (u16, Value) {
    let bytes: &[u8] = response.body().as_ref();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes).unwrap_or_else(|e| {
            panic!(
                "the body is not JSON ({e}): {}",
                String::from_utf8_lossy(bytes)
            )
        })
    };
    (response.status().as_u16(), body)
}

/// Asserts `response` is the JSON error with `status` and `code`, and returns its message.
pub fn assert_error(response: &Response<Body>, status: u16, code: &str) -> String {
    let (actual, body) = json_response(response);
    assert_eq!(actual, status, "unexpected status; body: {body}");
    assert_eq!(
        body["error"]["code"], code,
        "unexpected error code; body: {body}"
    );
    let message = body["error"]["message"]
        .as_str()
        .expect("the error has a message");
    assert!(!message.is_empty(), "the error message is empty");
    message.to_owned()
}
