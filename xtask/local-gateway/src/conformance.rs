//! The check, in tests, of every API request and response the gateway serves against the OpenAPI
//! document (`stacks::openapi`, derived from the contract types): neither the site nor a function
//! can drift from the contract without a test seeing it.
//!
//! A request outside the document is recorded and still passed on (the function answers it as
//! it would on AWS); a response outside it is recorded and replaced by a 500 that names the
//! violation, so the page under test shows it too. The harness asserts that nothing was recorded.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result, anyhow};
use jsonschema::Validator;
use serde_json::{Map, Value};

/// One parameter of an operation, with what its text must turn into.
struct Parameter {
    name: String,
    header: bool,
    required: bool,
    kind: String,
    schema: Validator,
}

/// What an operation accepts and answers.
struct Operation {
    parameters: Vec<Parameter>,
    /// The request body's schema, if the operation takes one.
    request: Option<Validator>,
    /// Status code (or `default`) to the body schema; `None` for a response without content.
    responses: HashMap<String, Option<Validator>>,
}

/// Every operation of the document, by route key (`GET /api/v1/images/{id}`), and the
/// violations seen so far.
pub struct Conformance {
    operations: HashMap<String, Operation>,
    violations: Mutex<Vec<String>>,
    /// Each violation is also appended here, one per line, for a test harness in another process.
    record: Option<PathBuf>,
}

impl Conformance {
    /// The checker for `document`, recording violations to `record` as well.
    pub fn new(document: &Value, record: Option<PathBuf>) -> Result<Self> {
        let components = document
            .get("components")
            .cloned()
            .ok_or_else(|| anyhow!("the document has no components"))?;
        let compile = |schema: &Value| -> Result<Validator> {
            // `$ref`s point into `#/components`: give every schema the document's components.
            let mut rooted = match schema {
                Value::Object(map) => map.clone(),
                other => Map::from_iter([("allOf".to_owned(), Value::Array(vec![other.clone()]))]),
            };
            rooted.insert("components".to_owned(), components.clone());
            jsonschema::draft202012::new(&Value::Object(rooted))
                .map_err(|e| anyhow!("a schema of the document does not compile: {e}"))
        };

        let mut operations = HashMap::new();
        let paths = document["paths"]
            .as_object()
            .ok_or_else(|| anyhow!("the document has no paths"))?;
        for (path, item) in paths {
            for (method, op) in item.as_object().into_iter().flatten() {
                let key = format!("{} {path}", method.to_uppercase());
                let mut parameters = Vec::new();
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let location = p["in"].as_str().unwrap_or_default();
                    if location == "path" {
                        continue; // the router only matches non-empty segments
                    }
                    parameters.push(Parameter {
                        name: p["name"].as_str().unwrap_or_default().to_owned(),
                        header: location == "header",
                        required: p["required"].as_bool().unwrap_or(false),
                        kind: p["schema"]["type"].as_str().unwrap_or("string").to_owned(),
                        schema: compile(&p["schema"])
                            .with_context(|| format!("{key}: parameter {}", p["name"]))?,
                    });
                }
                let request =
                    match op.pointer("/requestBody") {
                        Some(body) => Some(compile(json_schema(body).ok_or_else(|| {
                            anyhow!("{key}: the request body has no JSON schema")
                        })?)?),
                        None => None,
                    };
                let mut responses = HashMap::new();
                for (status, answer) in op["responses"].as_object().into_iter().flatten() {
                    let schema = json_schema(answer).map(&compile).transpose()?;
                    responses.insert(status.clone(), schema);
                }
                operations.insert(
                    key,
                    Operation {
                        parameters,
                        request,
                        responses,
                    },
                );
            }
        }
        Ok(Self {
            operations,
            violations: Mutex::new(Vec::new()),
            record,
        })
    }

    /// The checker for Mumble's own document.
    pub fn mumble(record: Option<PathBuf>) -> Result<Self> {
        Self::new(&stacks::openapi::document(), record)
    }

    /// What is wrong with a request to `route_key`, if anything.
    pub fn check_request(
        &self,
        route_key: &str,
        query: &[(String, String)],
        headers: &axum::http::HeaderMap,
        body: &[u8],
    ) -> Vec<String> {
        let Some(operation) = self.operations.get(route_key) else {
            return vec![format!("{route_key} is not in the document")];
        };
        let mut problems = Vec::new();
        for parameter in &operation.parameters {
            let value = if parameter.header {
                headers
                    .get(parameter.name.as_str())
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            } else {
                query
                    .iter()
                    .find(|(name, _)| *name == parameter.name)
                    .map(|(_, value)| value.clone())
            };
            let Some(text) = value else {
                if parameter.required {
                    problems.push(format!("parameter {} is required", parameter.name));
                }
                continue;
            };
            match typed(&parameter.kind, &text) {
                Some(value) => problems.extend(
                    errors(&parameter.schema, &value)
                        .into_iter()
                        .map(|e| format!("parameter {}: {e}", parameter.name)),
                ),
                None => problems.push(format!(
                    "parameter {}: {text:?} is not a {}",
                    parameter.name, parameter.kind
                )),
            }
        }
        if let Some(schema) = &operation.request {
            match serde_json::from_slice::<Value>(body) {
                Ok(value) => problems.extend(
                    errors(schema, &value)
                        .into_iter()
                        .map(|e| format!("request body: {e}")),
                ),
                Err(e) => problems.push(format!("request body is not JSON: {e}")),
            }
        }
        problems
    }

    /// What is wrong with the answer `status` + `body` to `route_key`, if anything.
    pub fn check_response(&self, route_key: &str, status: u16, body: &[u8]) -> Vec<String> {
        let Some(operation) = self.operations.get(route_key) else {
            return vec![format!("{route_key} is not in the document")];
        };
        let declared = operation
            .responses
            .get(&status.to_string())
            .or_else(|| operation.responses.get("default"));
        let Some(schema) = declared else {
            return vec![format!("status {status} is not declared")];
        };
        let Some(schema) = schema else {
            return if body.is_empty() {
                Vec::new()
            } else {
                vec![format!(
                    "status {status} is declared without a body, but one came"
                )]
            };
        };
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => errors(schema, &value)
                .into_iter()
                .map(|e| format!("{status} body: {e}"))
                .collect(),
            Err(e) => vec![format!("{status} body is not JSON: {e}")],
        }
    }

    /// Keeps, logs and (if set up) writes down what is wrong with one exchange.
    pub fn record(&self, route_key: &str, problems: &[String]) {
        if problems.is_empty() {
            return;
        }
        let line = format!("{route_key}: {}", problems.join("; "));
        tracing::error!(violation = %line, "the API drifted from its OpenAPI document");
        if let Some(path) = &self.record {
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut file| writeln!(file, "{line}"));
            if let Err(e) = written {
                tracing::error!(path = %path.display(), error = %e, "cannot record the violation");
            }
        }
        self.violations.lock().expect("not poisoned").push(line);
    }

    /// Every violation seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.violations.lock().expect("not poisoned").clone()
    }
}

/// The JSON schema of a request body or response, if it has content.
fn json_schema(described: &Value) -> Option<&Value> {
    described.pointer("/content/application~1json/schema")
}

/// A parameter's text as the JSON value its schema describes; `None` if it is not one.
fn typed(kind: &str, text: &str) -> Option<Value> {
    match kind {
        "integer" => text.parse::<i64>().ok().map(Value::from),
        "number" => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        "boolean" => text.parse::<bool>().ok().map(Value::Bool),
        _ => Some(Value::String(text.to_owned())),
    }
}

/// Each error as "`/path`: what is wrong".
fn errors(schema: &Validator, value: &Value) -> Vec<String> {
    schema
        .iter_errors(value)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("{at}: {e}")
        })
        .collect()
}
