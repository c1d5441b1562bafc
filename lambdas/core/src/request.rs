//! Typed input from a request: JSON bodies, query strings and path parameters, with errors that
//! name the offending field.

use lambda_http::http::header;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest JSON body any route accepts; API bodies are a few hundred bytes.
pub const MAX_JSON_BODY_BYTES: usize = 64 * 1024;

/// The body parsed as `T`. Missing or empty body, a non-JSON content type, malformed JSON and
/// wrong shapes are 400/415 with the JSON path of the bad field; more than
/// [`MAX_JSON_BODY_BYTES`] is 413.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
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
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
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
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = without_position(&inner);
        let field = if inner.is_syntax() || inner.is_eof() {
            "body".to_owned()
        } else if let Some(missing) = message
            .strip_prefix("missing field ")
            .and_then(field_in_message)
        {
            if path == "." {
                missing
            } else {
                format!("{path}.{missing}")
            }
        } else if path == "." {
            "body".to_owned()
        } else {
            path
        };
        ApiError::invalid(field, message)
    })?;
    de.end()
        .map_err(|e| ApiError::invalid("body", without_position(&e)))?;
    Ok(value)
}

/// The query string parsed as `T` (use `Option` fields for optional parameters). Numbers and
/// booleans are parsed from their text; a bad value is a 400 naming the parameter.
pub fn query<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
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
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = if path == "." {
            field_in_message(&message).unwrap_or_else(|| "query".to_owned())
        } else {
            path
        };
        ApiError::invalid(field, message)
    })
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
