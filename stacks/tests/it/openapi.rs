//! The OpenAPI document follows the route declaration.

use serde_json::{Value, json};
use stacks::routes::ROUTES;

fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target.clone());
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[test]
fn one_operation_per_route_with_bearer_auth_except_health() {
    let doc = stacks::openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    let operations: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(operations, ROUTES.len());
    for route in ROUTES {
        let op = &doc["paths"][route.path][route.method.as_str().to_lowercase()];
        assert_eq!(op["x-function"], route.function, "{}", route.key());
        let expected = if route.auth {
            json!([{"bearerAuth": []}])
        } else {
            json!([])
        };
        assert_eq!(op["security"], expected, "{}", route.key());
        assert!(op["responses"][route.status.to_string()].is_object());
        assert_eq!(
            op["responses"]["400"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error"
        );
        for name in route.path_params() {
            assert!(
                op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path"),
                "{}: path parameter {name}",
                route.key()
            );
        }
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
}

#[test]
fn every_schema_reference_resolves_and_errors_have_code_and_message() {
    let doc = stacks::openapi::document();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{target} is not defined"
        );
    }
    let error = &doc["components"]["schemas"]["Error"];
    assert_eq!(
        error["properties"]["error"]["required"],
        json!(["code", "message"])
    );
    let generate = &doc["components"]["schemas"]["GenerateRequest"];
    assert_eq!(generate["required"], json!(["audioKey"]));
}

#[test]
fn routes_and_http_functions_match_one_to_one() {
    use stacks::FunctionKind;
    for route in ROUTES {
        let function = stacks::functions::function(route.function)
            .unwrap_or_else(|| panic!("{} names no function", route.key()));
        assert_eq!(function.kind, FunctionKind::Http, "{}", route.key());
        assert!(route.path.starts_with("/api/v1/"), "{}", route.key());
    }
    for function in stacks::FUNCTIONS {
        if function.kind == FunctionKind::Http {
            assert!(
                ROUTES.iter().any(|r| r.function == function.name),
                "{} serves no route",
                function.name
            );
        }
    }
}
