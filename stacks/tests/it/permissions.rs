//! What the roles may do, read from the synthesized templates: every statement is scoped, every
//! reader of objects may tell a missing object from a forbidden one, and the role CloudFormation
//! deploys with allows what AWS says each resource type's handlers need.
//!
//! The enforced runs (`xtask/least-privilege`) check the actions the functions use; the emulator
//! does not evaluate conditions and knows only some resources (xtask/emulator/README.md), so what
//! it cannot see is checked here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::Value;
use stacks::Part;

use crate::{all_stages, full_stage, json, resources_of, stack};

/// Actions AWS accepts on `*` only, each with why.
const ONLY_ON_ANY_RESOURCE: &[(&str, &str)] = &[
    (
        "xray:PutTraceSegments",
        "X-Ray has no resource types: segments are accepted on `*` only",
    ),
    (
        "xray:PutTelemetryRecords",
        "X-Ray has no resource types: telemetry is accepted on `*` only",
    ),
];

/// Statements of the deploy role whose resources cannot name the stage, each with why.
const DEPLOY_ROLE_UNSCOPED: &[(&str, &str)] = &[(
    "InvalidateSite",
    "distribution ids are chosen by AWS at creation, so only the account can be named",
)];

/// Function roles that read objects without being able to list them, each with why.
const READERS_WITHOUT_LISTING: &[(&str, &str, &str)] = &[
    (
        "GalleryRole",
        "images/",
        "the gallery only presigns GETs for the browser; it never asks whether an object exists",
    ),
    (
        "GalleryRole",
        "thumbnails/",
        "the gallery only presigns GETs for the browser; it never asks whether an object exists",
    ),
];

fn list(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

/// What a role may do: its Allow statements (a Deny only narrows them, and the bootstrap roles'
/// denies are checked in `properties`).
fn statements(role: &Value) -> Vec<Value> {
    list(&role["Properties"]["Policies"])
        .iter()
        .flat_map(|policy| list(&policy["PolicyDocument"]["Statement"]))
        .filter(|statement| statement["Effect"] == "Allow")
        .collect()
}

fn actions(statement: &Value) -> Vec<String> {
    list(&statement["Action"])
        .iter()
        .map(|a| a.as_str().expect("an action").to_owned())
        .collect()
}

/// A resource as text: `Fn::Sub` keeps its `${...}`, imports and attributes become `${...}` too.
fn render(resource: &Value) -> String {
    match resource {
        Value::String(text) => text.clone(),
        Value::Object(map) => {
            let (key, arg) = map.iter().next().expect("an intrinsic");
            match key.as_str() {
                "Fn::Sub" => match arg {
                    Value::String(text) => text.clone(),
                    Value::Array(parts) => parts[0].as_str().expect("Sub text").to_owned(),
                    other => panic!("unexpected Fn::Sub {other}"),
                },
                "Fn::ImportValue" => format!("${{Import:{}}}", arg.as_str().unwrap_or("?")),
                "Fn::GetAtt" => format!("${{{}}}", arg[0].as_str().unwrap_or("?")),
                "Ref" => format!("${{{}}}", arg.as_str().unwrap_or("?")),
                other => panic!("unexpected intrinsic {other}"),
            }
        }
        other => panic!("unexpected resource {other}"),
    }
}

/// Names one stage's resource: a reference to a resource of the stack or an import, or a name
/// with the stage's `mumble-{stage}-` / `/mumble/{stage}/` prefix.
fn names_a_resource(text: &str, stage: &str) -> bool {
    let references = text
        .match_indices("${")
        .any(|(at, _)| !text[at + 2..].starts_with("AWS::"));
    references
        || text.contains(&format!("mumble-{stage}-"))
        || text.contains(&format!("/mumble/{stage}/"))
}

#[test]
fn every_function_role_statement_is_scoped() {
    let mut unscoped = Vec::new();
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).expect("an app stack"));
        for (id, role) in resources_of(&app, "AWS::IAM::Role") {
            for statement in statements(role) {
                let actions = actions(&statement);
                for action in &actions {
                    if action == "*" || action.ends_with(":*") {
                        unscoped.push(format!("{}/{id}: action {action}", stage.name));
                    }
                }
                for resource in list(&statement["Resource"]) {
                    let text = render(&resource);
                    let allowed = if text == "*" {
                        actions
                            .iter()
                            .all(|a| ONLY_ON_ANY_RESOURCE.iter().any(|(only, _)| only == a))
                    } else {
                        names_a_resource(&text, &stage.name)
                    };
                    if !allowed {
                        unscoped.push(format!("{}/{id}: {actions:?} on {text}", stage.name));
                    }
                }
            }
        }
    }
    assert!(
        unscoped.is_empty(),
        "statements not scoped to one resource of the stage (add the action to ONLY_ON_ANY_RESOURCE with why, if AWS requires `*`):\n{}",
        unscoped.join("\n")
    );
}

#[test]
fn the_deploy_role_is_scoped_to_its_stage() {
    let stage = full_stage();
    let bootstrap = json(&stack(&stage, Part::Bootstrap).expect("a bootstrap stack"));
    let role = &bootstrap["Resources"]["DeployRole"];
    assert!(
        role.is_object(),
        "the fixture stage has a GitHub deploy role"
    );
    let mut unscoped = Vec::new();
    for statement in statements(role) {
        let sid = statement["Sid"].as_str().unwrap_or("?");
        if DEPLOY_ROLE_UNSCOPED.iter().any(|(s, _)| *s == sid) {
            continue;
        }
        for resource in list(&statement["Resource"]) {
            let text = render(&resource);
            if !names_a_resource(&text, &stage.name) {
                unscoped.push(format!("{sid}: {text}"));
            }
        }
    }
    assert!(unscoped.is_empty(), "{}", unscoped.join("\n"));
}

/// S3 answers a missing object with 404 only to a caller that may list the bucket, and 403
/// otherwise; a function that treats "gone" differently from "forbidden" must be able to list the
/// prefix it reads.
#[test]
fn every_object_reader_may_list_its_prefix() {
    let mut missing = Vec::new();
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).expect("an app stack"));
        for (id, role) in resources_of(&app, "AWS::IAM::Role") {
            let statements = statements(role);
            let listed: Vec<String> = statements
                .iter()
                .filter(|s| actions(s).iter().any(|a| a == "s3:ListBucket"))
                .filter_map(|s| s["Condition"]["StringLike"]["s3:prefix"].as_str())
                .map(str::to_owned)
                .collect();
            for statement in &statements {
                if !actions(statement).iter().any(|a| a == "s3:GetObject") {
                    continue;
                }
                for resource in list(&statement["Resource"]) {
                    let text = render(&resource);
                    let Some(prefix) = text.strip_prefix("${Bucket}/") else {
                        continue;
                    };
                    let prefix = prefix.trim_end_matches('*');
                    let excused = READERS_WITHOUT_LISTING
                        .iter()
                        .any(|(role, p, _)| *role == id && *p == prefix);
                    if !excused && !listed.iter().any(|l| l == &format!("{prefix}*")) {
                        missing.push(format!(
                            "{}/{id}: reads {prefix} but may not list it",
                            stage.name
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

// The role CloudFormation deploys with (bootstrap's `CloudFormationRole`).

/// Permissions the resource types' handlers list that the role leaves out on purpose, by action
/// or by service prefix, each with why. A listed entry no handler needs any more fails the test,
/// so the list stays true.
const LEFT_OUT: &[(&str, &str)] = &[
    (
        "ec2:",
        "no function runs in a VPC (Lambda asks for VPC details only for VPC settings)",
    ),
    ("elasticfilesystem:", "no function mounts EFS"),
    ("s3files:", "no function mounts S3 Files"),
    (
        "kms:",
        "every resource is encrypted with AWS-owned keys; we make no customer-managed KMS keys",
    ),
    ("kinesis:", "no table streams to Kinesis"),
    ("firehose:", "no log group delivers to Firehose"),
    (
        "acm-pca:",
        "the certificate is public (DNS-validated), not from a private CA",
    ),
    ("s3tables:", "no bucket has S3 Tables metadata"),
    (
        "iam:CreateServiceLinkedRole",
        "only for DynamoDB global tables and Cognito's SES/SMS sending, none of which we use",
    ),
    (
        "iam:DeleteRolePermissionsBoundary",
        "every role keeps the stage's boundary: removing it is denied",
    ),
    (
        "route53:ListHostedZones",
        "record sets name their hosted zone by id, never by name",
    ),
    (
        "cloudfront:CreateConnectionGroup",
        "the distribution uses no connection group",
    ),
    (
        "logs:CreateLogDelivery",
        "no log group delivers logs elsewhere",
    ),
    (
        "logs:PutIndexPolicy",
        "no log group has field index policies",
    ),
    (
        "logs:DeleteIndexPolicy",
        "no log group has field index policies",
    ),
    (
        "logs:DescribeIndexPolicies",
        "no log group has field index policies",
    ),
    (
        "logs:PutResourcePolicy",
        "no log group has a resource policy",
    ),
    (
        "logs:DeleteResourcePolicy",
        "no log group has a resource policy",
    ),
    (
        "logs:DescribeResourcePolicies",
        "no log group has a resource policy",
    ),
];

/// Statements of the CloudFormation role whose resources cannot name the stage, each with why.
const EXECUTION_ROLE_UNSCOPED: &[(&str, &str)] = &[
    (
        "Apis",
        "API ids are chosen by AWS at creation; API Gateway ARNs are paths under the region",
    ),
    ("UserPool", "user pool ids are chosen by AWS at creation"),
    (
        "Distribution",
        "distribution, origin access control and policy ids are chosen by AWS at creation",
    ),
    (
        "Certificate",
        "certificate ids are chosen by AWS at creation",
    ),
    ("SiteRecordChanges", "Route 53 change ids are chosen by AWS"),
    (
        "ReadDeploymentConfigs",
        "the predefined configurations (CodeDeployDefault.*) belong to no stage",
    ),
    (
        "StopTrafficShifting",
        "AWS authorizes codedeploy:StopDeployment on `*` only (CloudFormation stops a deployment it cancels)",
    ),
    (
        "CreateUnnamed",
        "AWS authorizes these creations (and DescribeLogGroups) on `*` only",
    ),
];

#[test]
fn the_cloudformation_role_names_its_stage_or_says_why_not() {
    let stage = full_stage();
    let bootstrap = json(&stack(&stage, Part::Bootstrap).expect("a bootstrap stack"));
    let mut unscoped = Vec::new();
    for statement in statements(&bootstrap["Resources"]["CloudFormationRole"]) {
        let sid = statement["Sid"].as_str().unwrap_or("?");
        if EXECUTION_ROLE_UNSCOPED.iter().any(|(s, _)| *s == sid) {
            continue;
        }
        for resource in list(&statement["Resource"]) {
            let text = render(&resource);
            let zone = stage
                .domain
                .as_ref()
                .and_then(|d| d.hosted_zone_id.as_deref())
                .is_some_and(|zone| text.ends_with(&format!("hostedzone/{zone}")));
            if !zone && !names_a_resource(&text, &stage.name) {
                unscoped.push(format!("{sid}: {text}"));
            }
        }
    }
    assert!(
        unscoped.is_empty(),
        "CloudFormation role statements that name no resource of the stage (scope them, or add the Sid to EXECUTION_ROLE_UNSCOPED with why):\n{}",
        unscoped.join("\n")
    );
}

fn tools_dir() -> PathBuf {
    match std::env::var_os("MUMBLE_TOOLS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.tools")),
    }
}

/// cfn-lint's copy of AWS's resource provider schemas (one JSON file per type, named in the
/// region's index by hash).
fn schemas_dir() -> PathBuf {
    let lib = tools_dir().join("venv/lib");
    std::fs::read_dir(&lib)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run the tests through `cargo xtask test`, which installs cfn-lint",
                lib.display()
            )
        })
        .flatten()
        .map(|entry| entry.path().join("site-packages/cfnlint/data/schemas"))
        .find(|dir| dir.is_dir())
        .expect("cfn-lint's schemas in the tools venv")
}

/// Every action `type`'s create, update and delete handlers need, per AWS's schema.
fn handler_permissions(schemas: &std::path::Path, index: &Value, kind: &str) -> BTreeSet<String> {
    let hash = index[kind]
        .as_str()
        .unwrap_or_else(|| panic!("cfn-lint has no schema for {kind}"));
    let path = schemas.join(format!("resources/{hash}.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("a schema"))
        .expect("schema JSON");
    ["create", "update", "delete"]
        .iter()
        .flat_map(|handler| list(&schema["handlers"][handler]["permissions"]))
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect()
}

fn matches(pattern: &str, action: &str) -> bool {
    let (pattern, action) = (pattern.to_ascii_lowercase(), action.to_ascii_lowercase());
    match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => pattern == action,
    }
}

#[test]
fn the_cloudformation_role_allows_what_every_resource_type_needs() {
    let schemas = schemas_dir();
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(schemas.join("providers/us-east-1.json")).expect("the index"),
    )
    .expect("index JSON");
    let stage = full_stage();
    let bootstrap = json(&stack(&stage, Part::Bootstrap).expect("a bootstrap stack"));
    let role_statements = statements(&bootstrap["Resources"]["CloudFormationRole"]);
    let allowed: Vec<String> = role_statements.iter().flat_map(actions).collect();
    assert!(
        !allowed.is_empty(),
        "the fixture stage has a CloudFormation role"
    );
    let allowed_on_any: Vec<String> = role_statements
        .iter()
        .filter(|s| list(&s["Resource"]).iter().any(|r| r == "*"))
        .flat_map(actions)
        .collect();

    // What the role deploys: every stack but bootstrap (made before the role exists), of every
    // stage shape.
    let mut needed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for stage in all_stages() {
        for synth in stacks::synth(&stage) {
            if synth.part == Part::Bootstrap {
                continue;
            }
            let template = json(&synth);
            for resource in template["Resources"]
                .as_object()
                .expect("resources")
                .values()
            {
                let kind = resource["Type"].as_str().expect("a type");
                for action in handler_permissions(&schemas, &index, kind) {
                    needed.entry(action).or_default().insert(kind.to_owned());
                }
            }
        }
    }
    let left_out = |action: &str| {
        LEFT_OUT.iter().find(|(what, _)| {
            if what.ends_with(':') {
                action.starts_with(what)
            } else {
                action == *what
            }
        })
    };
    // AWS's list of actions and the resource types each is authorized on (shipped with
    // cfn-lint): an action with none is authorized on `*` only, whatever a statement names.
    let actions_index: Value = serde_json::from_str(
        &std::fs::read_to_string(schemas.join("../AdditionalSpecs/Policies.json"))
            .expect("cfn-lint's IAM action list"),
    )
    .expect("action list JSON");
    let only_on_any_resource = |action: &str| {
        let (service, name) = action.split_once(':').expect("service:action");
        let entry = &actions_index[service]["Actions"][name.to_ascii_lowercase()];
        entry.is_object() && list(&entry["Resources"]).is_empty()
    };
    let mut lacking = Vec::new();
    let mut used_reasons = BTreeSet::new();
    for (action, kinds) in &needed {
        let on_any = only_on_any_resource(action);
        let granted = if on_any { &allowed_on_any } else { &allowed };
        if granted.iter().any(|pattern| matches(pattern, action)) {
            continue;
        }
        match left_out(action) {
            Some((what, _)) => {
                used_reasons.insert(*what);
            }
            None => lacking.push(format!(
                "{action}{} (for {})",
                if on_any {
                    " on `*` (AWS authorizes it on no other resource)"
                } else {
                    ""
                },
                kinds.iter().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }
    assert!(
        lacking.is_empty(),
        "the CloudFormation role (stacks/src/stacks/bootstrap.rs) lacks what these resource types' handlers need; allow it or add it to LEFT_OUT with why:\n{}",
        lacking.join("\n")
    );
    let stale: Vec<&str> = LEFT_OUT
        .iter()
        .map(|(what, _)| *what)
        .filter(|what| !used_reasons.contains(what))
        .collect();
    assert!(
        stale.is_empty(),
        "LEFT_OUT entries no handler needs any more: {stale:?}"
    );
}
