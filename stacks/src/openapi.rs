//! The OpenAPI 3.1 document of the HTTP API: the routes of [`crate::routes`], with the JSON Schemas
//! of the contract types they name (`mumble_contract::api`), and API Gateway's own answers.
//!
//! Nothing here restates a field or a limit: a schema is what schemars derives from the Rust type
//! the function parses or serializes, so the document changes when the type does.

use mumble_contract::api::{self, gateway};
use schemars::generate::{Contract, SchemaSettings};
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::routes::{In, ROUTES, Route};

/// Where the schemas live in the document; every `$ref` points here.
pub const SCHEMAS: &str = "#/components/schemas/";

pub fn document() -> Value {
    // Requests are described as the functions read them, responses as they write them: an
    // optional field is one a client may leave out, or one the function leaves out.
    let mut requests = generator(Contract::Deserialize);
    let mut responses = generator(Contract::Serialize);

    let mut paths = Map::new();
    for route in ROUTES {
        let operation = operation(route, &mut requests, &mut responses);
        let item = paths
            .entry(route.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path items are objects");
        item.insert(route.method.as_str().to_lowercase(), operation);
    }

    let mut schemas = requests.take_definitions(true);
    for (name, schema) in responses.take_definitions(true) {
        if let Some(same_name) = schemas.get(&name) {
            assert_eq!(
                same_name, &schema,
                "{name} is both a request and a response type, with different schemas"
            );
        }
        schemas.insert(name, schema);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Mumble API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Speak, and Mumble paints what you said, in the weather where you are.\n\n\
                Errors from the functions are `{\"error\": {\"code\", \"message\", \"field\"?}}`; \
                API Gateway's own answers (401 from the JWT authorizer, 413, 429, and 500 or 503 \
                when a function fails or times out) are `{\"message\": \"...\"}`."
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

fn generator(contract: Contract) -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = SCHEMAS.trim_start_matches('#').into();
            settings.contract = contract.clone();
            settings.meta_schema = None;
        })
        // A response carries exactly its type's fields: one more is drift, not an extension.
        .with_transform(RecursiveTransform(close_objects))
        .into_generator()
}

/// `additionalProperties: false` on every object with declared properties (maps, which declare
/// none, keep their open schema); request types say so themselves with `deny_unknown_fields`.
fn close_objects(schema: &mut Schema) {
    if let Some(object) = schema.as_object_mut()
        && object.contains_key("properties")
        && !object.contains_key("additionalProperties")
    {
        object.insert("additionalProperties".into(), Value::Bool(false));
    }
}

/// The schema of a contract type, as a `$ref` into the components.
fn reference<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

fn content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": content(schema) })
}

/// API Gateway's own answer: `{"message": text}` with exactly that text.
fn gateway_answer(generator: &mut SchemaGenerator, (_, text): (u16, &str)) -> Value {
    json!({
        "allOf": [reference::<api::GatewayMessage>(generator)],
        "properties": { "message": { "const": text } }
    })
}

/// A function's error body, or API Gateway's answer in its place.
fn function_or_gateway(generator: &mut SchemaGenerator, answer: (u16, &str)) -> Value {
    json!({ "anyOf": [reference::<api::Error>(generator), gateway_answer(generator, answer)] })
}

fn operation(
    route: &Route,
    requests: &mut SchemaGenerator,
    responses: &mut SchemaGenerator,
) -> Value {
    let mut parameters: Vec<Value> = route
        .path_params()
        .map(|name| {
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string", "minLength": 1 } })
        })
        .collect();
    if let Some(query) = route.query {
        parameters.extend(query_parameters(query(requests)));
    }
    parameters.extend(route.params.iter().map(|p| {
        json!({
            "name": p.name,
            "in": match p.location { In::Query => "query", In::Header => "header" },
            "required": p.required,
            "description": p.description,
            "schema": { "type": "string", "maxLength": p.max_chars }
        })
    }));

    let mut answers = Map::new();
    let success = match route.response {
        Some(shape) => response("Success", shape(responses).to_value()),
        None => json!({ "description": "Success, no content" }),
    };
    answers.insert(route.status.to_string(), success);
    let error = reference::<api::Error>(responses);
    answers.insert(
        "400".into(),
        response("Invalid input; `field` names it", error.clone()),
    );
    if route.auth {
        answers.insert(
            "401".into(),
            response(
                "API Gateway's JWT authorizer: the token is missing, expired or not for this API",
                gateway_answer(responses, gateway::UNAUTHORIZED),
            ),
        );
    }
    if route.path_params().next().is_some() {
        answers.insert(
            "404".into(),
            response("Not found, or not the caller's", error.clone()),
        );
    }
    if route.request.is_some() {
        answers.insert(
            "413".into(),
            response(
                "Too large: the body (a function's limit, or API Gateway's 10 MB), or the upload it describes",
                function_or_gateway(responses, gateway::PAYLOAD_TOO_LARGE),
            ),
        );
    }
    answers.insert(
        "429".into(),
        response(
            "API Gateway's throttling: slow down and retry",
            gateway_answer(responses, gateway::TOO_MANY_REQUESTS),
        ),
    );
    answers.insert(
        "500".into(),
        response(
            "A failure on Mumble's side: the function's error, or API Gateway's when the function crashed",
            function_or_gateway(responses, gateway::INTERNAL_SERVER_ERROR),
        ),
    );
    answers.insert(
        "503".into(),
        response(
            "A dependency is unavailable, or the function did not answer in time; retry shortly",
            function_or_gateway(responses, gateway::SERVICE_UNAVAILABLE),
        ),
    );
    answers.insert("default".into(), response("Error", error));

    let mut op = json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "x-function": route.function,
        "responses": answers,
        // `[]` overrides any default: this route needs no token.
        "security": if route.auth { json!([{ "bearerAuth": [] }]) } else { json!([]) },
    });
    if !parameters.is_empty() {
        op["parameters"] = Value::Array(parameters);
    }
    if let Some(request) = route.request {
        op["requestBody"] = json!({
            "required": true,
            "content": content(request(requests).to_value())
        });
    }
    op
}

/// One query parameter per property of a query type's object schema.
fn query_parameters(schema: Schema) -> Vec<Value> {
    let object = schema.to_value();
    let required: Vec<&str> = object["required"]
        .as_array()
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = object["properties"].as_object() else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = property.clone();
            let description = property
                .as_object_mut()
                .and_then(|p| p.remove("description"));
            // A query parameter is absent or has a value; it is never JSON's `null`.
            if let Some(Value::Array(types)) = property.get_mut("type") {
                types.retain(|t| t != "null");
                if let [only] = types.as_slice() {
                    property["type"] = only.clone();
                }
            }
            let mut parameter = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": property
            });
            if let Some(description) = description {
                parameter["description"] = description;
            }
            parameter
        })
        .collect()
}
