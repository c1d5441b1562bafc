//! Typed input from a request: JSON bodies, query strings and path parameters, with errors that
//! name the offending field and say what to send instead.
//!
//! Bodies and queries are contract types (`mumble_contract::api`): after parsing, their
//! [`Validate`] impl checks the limits the OpenAPI document declares, so no route can parse a
//! body without checking it.

use lambda_http::http::header;
use lambda_http::{Request, RequestExt};
use mumble_contract::api::{Invalid, Validate};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest JSON body any route accepts; API bodies are a few hundred bytes.
pub const MAX_JSON_BODY_BYTES: usize = 64 * 1024;

/// The body parsed as `T`. Missing or empty body, a non-JSON content type, malformed JSON and
/// wrong shapes are 400/415 with the JSON path of the bad field; more than
/// [`MAX_JSON_BODY_BYTES`] is 413.
pub fn json_body<T: DeserializeOwned + Validate>(req: &Request) -> Result<T, ApiError> {
    if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
        let content_type = content_type
            .to_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !(essence == "application/json" || essence.ends_with("+json")) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the body as application/json, not {essence}"
            )));
        }
    }
    let bytes: &[u8] = req.body().as_ref();
    parse_json(bytes)
}

/// `bytes` parsed as a JSON object `T`, with the same errors as [`json_body`] (for WebSocket messages).
pub fn parse_json<T: DeserializeOwned + Validate>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("body", "a JSON body is required"));
    }
    if bytes.len() > MAX_JSON_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "the body is {} bytes; the limit is {MAX_JSON_BODY_BYTES}",
            bytes.len()
        )));
    }
    // Every body of this API is an object; serde would also accept a struct as an array.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::invalid("body", "expected a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = without_position(&inner);
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::invalid("body", format!("is not valid JSON: {message}"));
        }
        let (field, message) = in_words(&path, &message);
        ApiError::invalid(field, message)
    })?;
    de.end().map_err(|e| {
        ApiError::invalid(
            "body",
            format!("is not valid JSON: {}", without_position(&e)),
        )
    })?;
    value.validate().map_err(invalid)?;
    Ok(value)
}

fn invalid(Invalid { field, message }: Invalid) -> ApiError {
    ApiError::invalid(field, message)
}

/// serde's message about a field, as the field at fault and what to send instead: serde speaks
/// Rust ("invalid type: string \"x\", expected u32"), the API's callers speak JSON.
fn in_words(path: &str, message: &str) -> (String, String) {
    let nested = |name: String| {
        if path == "." || path.is_empty() || path.ends_with(name.as_str()) {
            name
        } else {
            format!("{path}.{name}")
        }
    };
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let name = field_in_message(rest).unwrap_or_default();
        let expected: Vec<&str> = rest
            .split_once("expected ")
            .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let known = match expected.as_slice() {
            [] => "this request takes no other fields".to_owned(),
            fields => format!("send only {}", fields.join(", ")),
        };
        return (
            nested(name),
            format!("is not a field of this request; {known}"),
        );
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        let name = field_in_message(rest).unwrap_or_default();
        return (nested(name), "is required".to_owned());
    }
    let field = if path == "." || path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        let got = match got.split([' ', '`']).next().unwrap_or_default() {
            "string" => "text",
            "integer" | "floating" => "a number",
            "boolean" => "true or false",
            "map" => "an object",
            "sequence" => "a list",
            other => other,
        };
        let expected = expected_in_words(expected);
        return (field, format!("must be {expected}, not {got}"));
    }
    if let Some(rest) = message.strip_prefix("invalid value: ")
        && let Some((got, expected)) = rest.split_once(", expected ")
    {
        let value = got.split('`').nth(1).unwrap_or(got);
        let expected = expected_in_words(expected);
        return (
            field,
            format!("{value} is out of range: must be {expected}"),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant ")
        && let Some((_, expected)) = rest.split_once(", expected ")
    {
        return (field, format!("must be {}", expected.replace('`', "")));
    }
    (field, message.to_owned())
}

/// serde's `expected` as JSON words: `u32` is "a whole number", `a string` is "text".
fn expected_in_words(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "usize" => {
            "a whole number".to_owned()
        }
        "f32" | "f64" => "a number".to_owned(),
        "a string" => "text".to_owned(),
        "a boolean" => "true or false".to_owned(),
        other if other.starts_with("struct ") || other == "a map" => "an object".to_owned(),
        other if other.starts_with("a sequence") => "a list".to_owned(),
        other => other.to_owned(),
    }
}

/// The query string parsed as `T` (use `Option` fields for optional parameters). Numbers and
/// booleans are parsed from their text; a bad value is a 400 naming the parameter.
pub fn query<T: DeserializeOwned + Validate>(req: &Request) -> Result<T, ApiError> {
    let params = req.query_string_parameters();
    // API Gateway hands over decoded pairs; serde_urlencoded parses numbers and booleans from
    // text but only reads an encoded string, so the pairs are re-encoded once.
    let encoded = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    if encoded.len() > MAX_JSON_BODY_BYTES {
        return Err(ApiError::invalid_request("the query string is too long"));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(encoded.as_bytes()));
    let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        if path == "." {
            let field = field_in_message(&message).unwrap_or_else(|| "query".to_owned());
            let message = match message.strip_prefix("missing field ") {
                Some(_) => "is required".to_owned(),
                None => message,
            };
            return ApiError::invalid(field, message);
        }
        // Every value of a query string is text: serde_urlencoded's complaint is about its form.
        let message = match message.as_str() {
            m if m.contains("invalid digit") || m.contains("number too large") => {
                "must be a whole number".to_owned()
            }
            m if m.contains("invalid float literal") => "must be a number".to_owned(),
            _ => message,
        };
        ApiError::invalid(path, message)
    })?;
    value.validate().map_err(invalid)?;
    Ok(value)
}

/// The path parameter `name` (e.g. `id` in `/api/v1/images/{id}`), required.
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters()
        .first(name)
        .map(str::to_owned)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid(name, "missing path parameter"))
}

/// The value of header `name`, if present and valid text.
pub fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// API Gateway's request id (falls back to the Lambda request id), for logs.
pub fn request_id(req: &Request) -> String {
    use lambda_http::request::RequestContext;
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        Some(RequestContext::WebSocket(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .or_else(|| req.lambda_context_ref().map(|c| c.request_id.clone()))
    .unwrap_or_default()
}

/// The API Gateway route key (`GET /api/v1/images/{id}`), or method and path without one.
pub fn route_key(req: &Request) -> String {
    use lambda_http::request::RequestContext;
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone(),
        Some(RequestContext::WebSocket(ctx)) => ctx.route_key.clone(),
        _ => None,
    }
    .unwrap_or_else(|| format!("{} {}", req.method(), req.uri().path()))
}

/// serde's "missing field `lat`" carries the name only in its message.
fn field_in_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

/// serde_json appends " at line 1 column 7"; callers do not need our parser's coordinates twice.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}
