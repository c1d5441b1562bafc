//! The limits a request type publishes in its JSON Schema are the ones its `Validate` enforces:
//! for every bounded field of every request type, a value at the bound passes and one past it
//! fails, naming the field.

use mumble_contract::api::{self, Validate};
use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The type's own object schema, as the OpenAPI document has it for requests.
fn schema<T: JsonSchema>() -> Value {
    SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

fn check<T: DeserializeOwned + Validate>(body: &Value) -> Result<(), String> {
    let value: T = serde_json::from_value(body.clone()).map_err(|e| format!("parse: {e}"))?;
    value.validate().map_err(|e| e.field.to_owned())
}

/// Walks every bound of `T`'s schema from a valid `base`; returns how many bounds it tried.
fn bounds_hold<T: JsonSchema + DeserializeOwned + Validate>(base: Value) -> usize {
    let schema = schema::<T>();
    let name = std::any::type_name::<T>();
    assert_eq!(
        check::<T>(&base),
        Ok(()),
        "{name}: the base {base} is valid"
    );
    let mut tried = 0;
    for (field, property) in schema["properties"].as_object().expect("an object") {
        let with = |value: Value| {
            let mut body = base.clone();
            body[field] = value;
            body
        };
        let mut expect = |value: Value, ok: bool, what: &str| {
            tried += 1;
            let got = check::<T>(&with(value.clone()));
            if ok {
                assert_eq!(got, Ok(()), "{name}.{field} {what} ({value}) must pass");
            } else {
                assert!(
                    got == Err(field.clone())
                        || got.as_ref().is_err_and(|e| e.starts_with("parse")),
                    "{name}.{field} {what} ({value}) must fail naming {field}, got {got:?}"
                );
            }
        };
        let text = |n: u64| Value::String("名".repeat(n as usize));
        if let Some(max) = property["maxLength"].as_u64() {
            expect(text(max), true, "at maxLength");
            expect(text(max + 1), false, "over maxLength");
        }
        if let Some(min) = property["minLength"].as_u64().filter(|m| *m > 0) {
            expect(text(min), true, "at minLength");
            expect(text(min - 1), false, "under minLength");
        }
        let integer = property["type"] == "integer"
            || property["type"]
                .as_array()
                .is_some_and(|t| t.contains(&json!("integer")));
        let step = if integer { 1.0 } else { 0.5 };
        let number = |n: f64| if integer { json!(n as i64) } else { json!(n) };
        if let Some(max) = property["maximum"].as_f64() {
            expect(number(max), true, "at maximum");
            expect(number(max + step), false, "over maximum");
        }
        // Unsigned types carry `minimum: 0` of their own, which serde enforces.
        if let Some(min) = property["minimum"]
            .as_f64()
            .filter(|m| *m != 0.0 || !integer)
        {
            expect(number(min), true, "at minimum");
            expect(number(min - step), false, "under minimum");
        }
    }
    tried
}

#[test]
fn every_published_bound_is_enforced_and_no_further() {
    let tried = [
        bounds_hold::<api::ProfileUpdate>(json!({"locationConsent": true})),
        bounds_hold::<api::GenerateRequest>(
            json!({"audioKey": "audio/u/a.webm", "latitude": 0.0, "longitude": 0.0}),
        ),
        bounds_hold::<api::UploadUrlRequest>(
            json!({"contentType": "audio/webm", "contentLength": 1}),
        ),
        bounds_hold::<api::WeatherQuery>(json!({"lat": 0.0, "lon": 0.0})),
        bounds_hold::<api::ImageListQuery>(json!({})),
    ];
    // displayName, preferredLanguage (2 each way); audioKey, latitude, longitude, language,
    // style, transcript; contentType, contentLength; lat, lon; limit.
    assert_eq!(tried, [8, 18, 4, 8, 4], "bounds tried per type");
}

#[test]
fn the_issues_limits_are_the_published_ones() {
    let profile = schema::<api::ProfileUpdate>();
    assert_eq!(profile["properties"]["displayName"]["maxLength"], 50);
    assert_eq!(profile["additionalProperties"], false);
    assert_eq!(profile["minProperties"], 1);
    let generate = schema::<api::GenerateRequest>();
    assert_eq!(generate["properties"]["style"]["maxLength"], 200);
    assert_eq!(generate["properties"]["transcript"]["maxLength"], 4000);
    assert_eq!(generate["required"], json!(["audioKey"]));
    let list = schema::<api::ImageListQuery>();
    assert_eq!(list["properties"]["limit"]["minimum"], 1);
    assert_eq!(list["properties"]["limit"]["maximum"], 100);
    let upload = schema::<api::UploadUrlRequest>();
    assert_eq!(upload["properties"]["contentLength"]["type"], "integer");
}

#[test]
fn a_whole_number_is_a_whole_number_with_or_without_a_point() {
    let upload = |length: Value| {
        check::<api::UploadUrlRequest>(
            &json!({"contentType": "audio/webm", "contentLength": length}),
        )
    };
    // JSON Schema's `integer` accepts `1.0`; so does the function.
    assert_eq!(upload(json!(1.0)), Ok(()));
    assert_eq!(upload(json!(4096)), Ok(()));
    assert!(upload(json!(1.5)).is_err());
    assert!(upload(json!(-1)).is_err());
    assert!(upload(json!("12")).is_err());
}

#[test]
fn a_profile_update_names_its_fields_as_the_site_must_send_them() {
    assert!(
        check::<api::ProfileUpdate>(&json!({"displayName": "小明", "language": "en"}))
            .is_err_and(|e| e.contains("unknown field `language`"))
    );
    assert_eq!(
        check::<api::ProfileUpdate>(&json!({})),
        Err("body".to_owned()),
        "at least one field"
    );
}
