//! The OpenAPI 3.1 document of the HTTP API, generated from the route declaration.

use serde_json::{Map, Value, json};

use crate::routes::{In, ROUTES, Route};

/// The job states a client may see, in the order a job passes through them.
pub const JOB_STATES: [&str; 8] = [
    "queued",
    "transcribing",
    "weather",
    "prompting",
    "generating",
    "storing",
    "done",
    "failed",
];

/// Audio types the upload accepts.
pub const AUDIO_TYPES: [&str; 5] = [
    "audio/webm",
    "audio/ogg",
    "audio/mp4",
    "audio/mpeg",
    "audio/wav",
];

pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let item = paths
            .entry(route.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path items are objects");
        item.insert(route.method.as_str().to_lowercase(), operation(route));
    }
    let mut schemas = Map::new();
    for name in referenced_schemas() {
        schemas.insert(name.to_owned(), schema(name));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Mumble API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Speak, and Mumble paints what you said, in the weather where you are."
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Cognito ID token"
                }
            },
            "schemas": schemas
        }
    })
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": reference("Error") } }
    })
}

fn operation(route: &Route) -> Value {
    let mut parameters: Vec<Value> = route
        .path_params()
        .map(|name| {
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } })
        })
        .collect();
    parameters.extend(route.params.iter().map(|p| {
        json!({
            "name": p.name,
            "in": match p.location { In::Query => "query", In::Header => "header" },
            "required": p.required,
            "description": p.description,
            "schema": { "type": p.schema_type }
        })
    }));

    let mut responses = Map::new();
    let success = match route.response {
        Some(name) => json!({
            "description": "Success",
            "content": { "application/json": { "schema": reference(name) } }
        }),
        None => json!({ "description": "Success, no content" }),
    };
    responses.insert(route.status.to_string(), success);
    responses.insert("400".into(), error_response("Invalid input"));
    if route.auth {
        responses.insert("401".into(), error_response("Missing or invalid token"));
    }
    if route.path_params().next().is_some() {
        responses.insert(
            "404".into(),
            error_response("Not found, or not the caller's"),
        );
    }
    responses.insert("default".into(), error_response("Error"));

    let mut op = json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "x-function": route.function,
        "responses": responses,
        // `[]` overrides any default: this route needs no token.
        "security": if route.auth { json!([{ "bearerAuth": [] }]) } else { json!([]) },
    });
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    if let Some(request) = route.request {
        op["requestBody"] = json!({
            "required": true,
            "content": { "application/json": { "schema": reference(request) } }
        });
    }
    op
}

/// Every schema named by a route, plus those they refer to, each once and in a stable order.
fn referenced_schemas() -> Vec<&'static str> {
    let mut names = Vec::new();
    let mut add = |name: &'static str| {
        if !names.contains(&name) {
            names.push(name);
        }
    };
    for route in ROUTES {
        route.request.into_iter().for_each(&mut add);
        route.response.into_iter().for_each(&mut add);
        if route.response == Some("ImagePage") || route.response == Some("Image") {
            add("Image");
            add("WeatherSnapshot");
        }
    }
    add("Error");
    names
}

fn schema(name: &str) -> Value {
    let timestamp = json!({ "type": "string", "format": "date-time" });
    match name {
        "Health" => json!({
            "type": "object",
            "required": ["status", "service", "version", "timestamp", "stage"],
            "properties": {
                "status": { "type": "string", "const": "ok" },
                "service": { "type": "string" },
                "version": { "type": "string" },
                "timestamp": timestamp,
                "stage": { "type": "string" }
            }
        }),
        "UploadUrlRequest" => json!({
            "type": "object",
            "required": ["contentType", "contentLength"],
            "properties": {
                "contentType": { "type": "string", "enum": AUDIO_TYPES },
                "contentLength": { "type": "integer", "minimum": 1, "description": "Bytes; at most the stage's limit (10 MB by default)" }
            }
        }),
        "UploadUrl" => json!({
            "type": "object",
            "required": ["uploadUrl", "audioKey"],
            "properties": {
                "uploadUrl": { "type": "string", "format": "uri", "description": "Presigned PUT URL, valid 5 minutes; send the same Content-Type and Content-Length" },
                "audioKey": { "type": "string", "description": "audio/{userId}/{uuid}.{ext}" },
                "expiresIn": { "type": "integer", "description": "Seconds" }
            }
        }),
        "Weather" => json!({
            "type": "object",
            "required": ["description", "temperature", "location", "timestamp"],
            "properties": {
                "description": { "type": "string" },
                "temperature": { "type": "number", "description": "Degrees Celsius" },
                "location": { "type": "string" },
                "timestamp": timestamp
            }
        }),
        "WeatherSnapshot" => json!({
            "type": "object",
            "properties": {
                "description": { "type": "string" },
                "temperature": { "type": "number" },
                "location": { "type": "string" }
            }
        }),
        "Image" => json!({
            "type": "object",
            "required": ["imageId", "createdAt", "imageUrl"],
            "properties": {
                "imageId": { "type": "string" },
                "createdAt": timestamp,
                "imageUrl": { "type": "string", "format": "uri" },
                "thumbnailUrl": { "type": ["string", "null"], "format": "uri" },
                "transcript": { "type": "string" },
                "prompt": { "type": "string" },
                "weather": { "oneOf": [reference("WeatherSnapshot"), { "type": "null" }] },
                "width": { "type": "integer" },
                "height": { "type": "integer" }
            }
        }),
        "ImagePage" => json!({
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": { "type": "array", "items": reference("Image") },
                "nextCursor": { "type": ["string", "null"] }
            }
        }),
        "Profile" => json!({
            "type": "object",
            "required": ["userId", "createdAt", "updatedAt"],
            "properties": {
                "userId": { "type": "string" },
                "email": { "type": "string", "format": "email" },
                "displayName": { "type": "string", "maxLength": 64 },
                "preferredLanguage": { "type": "string", "maxLength": 16 },
                "locationConsent": { "type": "boolean" },
                "createdAt": timestamp,
                "updatedAt": timestamp
            }
        }),
        "ProfileUpdate" => json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "displayName": { "type": "string", "minLength": 1, "maxLength": 64 },
                "preferredLanguage": { "type": "string", "minLength": 2, "maxLength": 16 },
                "locationConsent": { "type": "boolean" }
            }
        }),
        "GenerateRequest" => json!({
            "type": "object",
            "required": ["audioKey"],
            "properties": {
                "audioKey": { "type": "string", "description": "From the upload URL response" },
                "latitude": { "type": "number", "minimum": -90, "maximum": 90 },
                "longitude": { "type": "number", "minimum": -180, "maximum": 180 },
                "language": { "type": "string", "description": "Transcription language hint, default zh" },
                "style": { "type": "string", "maxLength": 100 }
            }
        }),
        "JobAccepted" => json!({
            "type": "object",
            "required": ["jobId"],
            "properties": { "jobId": { "type": "string" } }
        }),
        "Job" => json!({
            "type": "object",
            "required": ["jobId", "status"],
            "properties": {
                "jobId": { "type": "string" },
                "status": { "type": "string", "enum": JOB_STATES },
                "imageId": { "type": "string" },
                "transcript": { "type": "string" },
                "error": { "type": "string", "description": "Why the job failed, fit to show the user" },
                "createdAt": timestamp,
                "updatedAt": timestamp
            }
        }),
        "Error" => json!({
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": { "type": "string", "examples": ["invalid_input", "not_found"] },
                        "message": { "type": "string" }
                    }
                }
            }
        }),
        other => unreachable!("route declaration names undefined schema {other}"),
    }
}
