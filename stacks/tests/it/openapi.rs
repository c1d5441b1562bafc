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
        error["properties"]["error"]["$ref"],
        "#/components/schemas/ErrorDetail"
    );
    assert_eq!(
        doc["components"]["schemas"]["ErrorDetail"]["required"],
        json!(["code", "message"])
    );
    let generate = &doc["components"]["schemas"]["GenerateRequest"];
    assert_eq!(generate["required"], json!(["audioKey"]));
}

/// The limits the functions enforce (`mumble_contract::api`) are the document's, field by field.
#[test]
fn the_documents_limits_are_the_contracts() {
    use mumble_contract::api;
    let doc = stacks::openapi::document();
    let schemas = &doc["components"]["schemas"];
    let update = &schemas["ProfileUpdate"];
    assert_eq!(
        update["properties"]["displayName"]["maxLength"],
        api::DISPLAY_NAME_MAX_CHARS
    );
    assert_eq!(update["additionalProperties"], false);
    assert!(update["properties"]["language"].is_null());
    assert_eq!(
        schemas["Profile"]["properties"]["preferredLanguage"]["maxLength"],
        api::LANGUAGE_TAG_MAX_CHARS
    );
    let generate = &schemas["GenerateRequest"]["properties"];
    assert_eq!(generate["style"]["maxLength"], api::STYLE_MAX_CHARS);
    assert_eq!(
        generate["transcript"]["maxLength"],
        api::TRANSCRIPT_MAX_CHARS
    );
    assert_eq!(generate["latitude"]["maximum"], api::MAX_LATITUDE);
    let upload = &schemas["UploadUrlRequest"]["properties"]["contentLength"];
    assert_eq!(upload["type"], "integer");
    assert_eq!(upload["minimum"], api::MIN_CONTENT_LENGTH);

    let list = &doc["paths"]["/api/v1/images"]["get"]["parameters"];
    let limit = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("a limit parameter");
    assert_eq!(limit["in"], "query");
    assert_eq!(limit["required"], false);
    assert_eq!(limit["schema"]["type"], "integer");
    assert_eq!(limit["schema"]["minimum"], api::MIN_PAGE_SIZE);
    assert_eq!(limit["schema"]["maximum"], api::MAX_PAGE_SIZE);
}

#[test]
fn api_gateways_own_answers_are_declared() {
    let doc = stacks::openapi::document();
    for route in ROUTES {
        let responses =
            &doc["paths"][route.path][route.method.as_str().to_lowercase()]["responses"];
        let message =
            |status: &str| responses[status]["content"]["application/json"]["schema"].to_string();
        if route.auth {
            assert!(
                message("401").contains(r#""const":"Unauthorized""#),
                "{}",
                route.key()
            );
        } else {
            assert!(responses["401"].is_null(), "{}", route.key());
        }
        assert!(
            message("429").contains(r#""const":"Too Many Requests""#),
            "{}",
            route.key()
        );
        assert!(
            message("500").contains(r#""const":"Internal Server Error""#),
            "{}",
            route.key()
        );
        assert!(
            message("503").contains(r#""const":"Service Unavailable""#),
            "{}",
            route.key()
        );
        if route.request.is_some() {
            assert!(
                message("413").contains(r#""const":"Request Entity Too Large""#),
                "{}",
                route.key()
            );
        }
    }
}

/// The site's copy of a limit, for its own message before sending, is the contract's.
#[test]
fn the_sites_display_name_limit_is_the_contracts() {
    let site = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../site");
    let limit = mumble_contract::api::DISPLAY_NAME_MAX_CHARS;
    let script = std::fs::read_to_string(site.join("assets/js/profile.js")).expect("profile.js");
    assert!(
        script.contains(&format!("const MAX_DISPLAY_NAME = {limit};")),
        "site/assets/js/profile.js must say MAX_DISPLAY_NAME = {limit}"
    );
    let page = std::fs::read_to_string(site.join("index.html")).expect("index.html");
    assert!(
        page.contains(&format!(
            r#"name="displayName" type="text" maxlength="{limit}""#
        )),
        "site/index.html's display name field must have maxlength=\"{limit}\""
    );
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
