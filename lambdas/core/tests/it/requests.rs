//! Typed request parsing: the errors name the field and are always 4xx.

use mumble_contract::api::{Invalid, Validate};
use mumble_core::request::{json_body, query};
use mumble_testing::request_with;
use serde::Deserialize;
use serde_json::{Value, json};

const EVENT: &str = include_str!("../fixtures/authorized-event.json");

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Body {
    name: String,
    nested: Option<Nested>,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Nested {
    count: u8,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Query {
    lat: f64,
    limit: Option<u32>,
}

// Shapes only: the limits of the API's own types are tested in mumble-contract.
impl Validate for Body {
    fn validate(&self) -> Result<(), Invalid> {
        Ok(())
    }
}

impl Validate for Query {
    fn validate(&self) -> Result<(), Invalid> {
        Ok(())
    }
}

fn with_body(body: &str) -> lambda_http::Request {
    let body = body.to_owned();
    request_with(EVENT, move |e| {
        e["body"] = body.into();
        e["headers"]["content-type"] = "application/json; charset=utf-8".into();
    })
}

fn with_query(query: Value) -> lambda_http::Request {
    request_with(EVENT, move |e| {
        let raw: Vec<String> = query
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
            .collect();
        e["rawQueryString"] = raw.join("&").into();
        e["queryStringParameters"] = query;
    })
}

#[test]
fn a_good_body_parses() {
    let body: Body = json_body(&with_body(r#"{"name":"a","nested":{"count":3}}"#)).unwrap();
    assert_eq!(
        body,
        Body {
            name: "a".into(),
            nested: Some(Nested { count: 3 })
        }
    );
}

#[test]
fn body_errors_name_the_json_path() {
    for (body, field, status) in [
        (
            r#"{"name":"a","nested":{"count":300}}"#,
            "nested.count",
            400,
        ),
        (r#"{"name":"a","nested":{}}"#, "nested.count", 400),
        (r#"{"nested":{"count":1}}"#, "name", 400),
        (r#"{"name":1}"#, "name", 400),
        (r#"{"name":"a"} trailing"#, "body", 400),
        ("\u{feff}{}", "body", 400),
    ] {
        let err = json_body::<Body>(&with_body(body)).unwrap_err();
        assert_eq!(err.status(), status, "{body}: {err}");
        assert_eq!(err.field(), Some(field), "{body}: {err}");
    }
}

#[test]
fn serde_errors_are_told_in_the_apis_words() {
    for (body, field, message) in [
        (
            r#"{"name":"a","colour":"red"}"#,
            "colour",
            "is not a field of this request; send only name, nested",
        ),
        (r#"{"nested":{"count":1}}"#, "name", "is required"),
        (r#"{"name":1}"#, "name", "must be text, not a number"),
        (
            r#"{"name":"a","nested":{"count":"3"}}"#,
            "nested.count",
            "must be a whole number, not text",
        ),
        (
            r#"{"name":"a","nested":{"count":300}}"#,
            "nested.count",
            "300 is out of range: must be a whole number",
        ),
        (
            r#"{"name":"a""#,
            "body",
            "is not valid JSON: EOF while parsing an object",
        ),
    ] {
        let err = json_body::<Strict>(&with_body(body)).unwrap_err();
        assert_eq!(err.field(), Some(field), "{body}: {err}");
        assert_eq!(
            err.public_message(),
            format!("{field}: {message}"),
            "{body}"
        );
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Strict {
    name: String,
    nested: Option<Nested>,
}

impl Validate for Strict {
    fn validate(&self) -> Result<(), Invalid> {
        Ok(())
    }
}

#[test]
fn a_base64_encoded_body_is_decoded_first() {
    let req = request_with(EVENT, |e| {
        e["body"] = "eyJuYW1lIjoiYiJ9".into(); // {"name":"b"}
        e["isBase64Encoded"] = true.into();
    });
    assert_eq!(json_body::<Body>(&req).unwrap().name, "b");
}

#[test]
fn queries_parse_numbers_and_name_bad_parameters() {
    let parsed: Query = query(&with_query(json!({"lat": "1.5", "limit": "3"}))).unwrap();
    assert_eq!(
        parsed,
        Query {
            lat: 1.5,
            limit: Some(3)
        }
    );
    let parsed: Query = query(&with_query(json!({"lat": "-2"}))).unwrap();
    assert_eq!(parsed.limit, None);

    for (params, field) in [
        (json!({}), "lat"),
        (json!({"lat": "north"}), "lat"),
        (json!({"lat": "1", "limit": "-3"}), "limit"),
        (json!({"lat": "1", "limit": "many"}), "limit"),
    ] {
        let err = query::<Query>(&with_query(params.clone())).unwrap_err();
        assert_eq!(err.status(), 400, "{params}");
        assert_eq!(err.field(), Some(field), "{params}: {err}");
    }
}
