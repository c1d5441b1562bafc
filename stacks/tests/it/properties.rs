//! What must hold for every stage: data survives in protected stages, nothing is public, each
//! function reaches only what it needs, the API is authenticated, everything is observable.
//!
//! One file over 500 lines: each property reads every stage's templates through the same few
//! helpers, and a reviewer checks the list of properties in one place.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use stacks::{FUNCTIONS, Part};

use crate::{all_stages, json, resources_of, settings, stack};

/// Every function Mumble deploys, written out rather than read from `stacks::FUNCTIONS`, so a
/// function dropped from the specs fails these tests instead of silently shrinking them.
const FUNCTION_NAMES: [&str; 11] = [
    "health",
    "audio-upload",
    "weather",
    "gallery",
    "profile",
    "generate",
    "jobs",
    "worker",
    "image-processor",
    "websocket",
    "cleanup",
];

/// Every HTTP route of the API (docs/api.md), written out rather than read from `stacks::routes`
/// for the same reason.
const ROUTE_KEYS: [&str; 10] = [
    "GET /api/v1/health",
    "POST /api/v1/audio/upload-url",
    "GET /api/v1/weather",
    "GET /api/v1/images",
    "GET /api/v1/images/{id}",
    "DELETE /api/v1/images/{id}",
    "GET /api/v1/me",
    "PUT /api/v1/me",
    "POST /api/v1/generate",
    "GET /api/v1/jobs/{id}",
];

const STATEFUL: [&str; 3] = [
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::Cognito::UserPool",
];

fn all_templates(stage: &stacks::Stage) -> Vec<Value> {
    stacks::synth(stage).iter().map(json).collect()
}

#[test]
fn protected_stages_retain_every_stateful_resource() {
    for stage in all_stages() {
        let mut stateful = 0;
        for template in all_templates(&stage) {
            for kind in STATEFUL {
                for (id, resource) in resources_of(&template, kind) {
                    stateful += 1;
                    let expected = if stage.protected { "Retain" } else { "Delete" };
                    assert_eq!(
                        resource["DeletionPolicy"], expected,
                        "{}: {id} DeletionPolicy",
                        stage.name
                    );
                    assert_eq!(
                        resource["UpdateReplacePolicy"], expected,
                        "{}: {id} UpdateReplacePolicy",
                        stage.name
                    );
                }
            }
        }
        // 4 tables, media, artifacts and site buckets, the user pool.
        assert_eq!(stateful, 8, "{}: stateful resources", stage.name);
    }
    assert!(settings().stage("prod").unwrap().protected);
}

#[test]
fn no_bucket_is_public_and_every_bucket_refuses_plain_http() {
    for stage in all_stages() {
        for template in all_templates(&stage) {
            let policies = resources_of(&template, "AWS::S3::BucketPolicy");
            for (id, bucket) in resources_of(&template, "AWS::S3::Bucket") {
                let block = &bucket["Properties"]["PublicAccessBlockConfiguration"];
                for setting in [
                    "BlockPublicAcls",
                    "BlockPublicPolicy",
                    "IgnorePublicAcls",
                    "RestrictPublicBuckets",
                ] {
                    assert_eq!(block[setting], true, "{}: {id}.{setting}", stage.name);
                }
                assert!(
                    bucket["Properties"]["BucketEncryption"].is_object(),
                    "{}: {id} encryption",
                    stage.name
                );
                let policy = policies
                    .iter()
                    .find(|(_, p)| p["Properties"]["Bucket"] == json!({ "Ref": id }))
                    .unwrap_or_else(|| panic!("{}: {id} has no bucket policy", stage.name));
                let statements = policy.1["Properties"]["PolicyDocument"]["Statement"]
                    .as_array()
                    .unwrap();
                assert!(
                    statements.iter().any(|s| s["Effect"] == "Deny"
                        && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"),
                    "{}: {id} allows plain HTTP",
                    stage.name
                );
                for statement in statements {
                    assert!(
                        !(statement["Effect"] == "Allow" && statement["Principal"] == "*"),
                        "{}: {id} grants everyone",
                        stage.name
                    );
                }
            }
        }
    }
}

/// What a role's policy names: imported data-stack outputs, media key prefixes, SSM parameters,
/// and the actions allowed on `*`.
#[derive(Debug, Default)]
struct Reach {
    imports: BTreeSet<String>,
    prefixes: BTreeSet<String>,
    parameters: BTreeSet<String>,
    star_actions: BTreeSet<String>,
}

fn reach(role: &Value, stage: &str) -> Reach {
    let mut reach = Reach::default();
    for policy in role["Properties"]["Policies"].as_array().unwrap() {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            for resource in statement["Resource"].as_array().unwrap() {
                if resource == "*" {
                    for action in statement["Action"].as_array().unwrap() {
                        reach
                            .star_actions
                            .insert(action.as_str().unwrap().to_owned());
                    }
                } else if let Some(import) = resource["Fn::ImportValue"].as_str() {
                    reach.imports.insert(import.to_owned());
                } else if let Some([template, vars]) =
                    resource["Fn::Sub"].as_array().map(Vec::as_slice)
                {
                    let import = vars.as_object().unwrap().values().next().unwrap();
                    reach
                        .imports
                        .insert(import["Fn::ImportValue"].as_str().unwrap().to_owned());
                    if let Some(prefix) = template.as_str().unwrap().strip_prefix("${Bucket}/") {
                        reach.prefixes.insert(prefix.to_owned());
                    }
                } else if let Some(sub) = resource["Fn::Sub"].as_str()
                    && let Some((_, name)) = sub.split_once(":parameter")
                {
                    reach.parameters.insert(name.to_owned());
                }
            }
        }
    }
    let data = format!("mumble-{stage}-data-");
    reach.imports = reach
        .imports
        .iter()
        .map(|i| {
            i.strip_prefix(&data)
                .expect("imports from its own stage")
                .to_owned()
        })
        .collect();
    reach
}

/// A function, the data-stack outputs, media prefixes and parameters its role may name.
type Expected = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn every_function_role_names_only_its_own_tables_prefixes_and_parameters() {
    // (function, data outputs, media prefixes, parameters), as the functions' issues describe them.
    let expected: [Expected; 11] = [
        ("health", &[], &[], &[]),
        ("audio-upload", &["MediaBucketArn"], &["audio/*"], &[]),
        ("weather", &[], &[], &["openweather-api-key"]),
        (
            "gallery",
            &["ImagesTableArn", "MediaBucketArn"],
            &["images/*", "thumbnails/*"],
            &[],
        ),
        ("profile", &["UsersTableArn"], &[], &[]),
        (
            "generate",
            &["JobsTableArn", "MediaBucketArn"],
            &["audio/*"],
            &[],
        ),
        ("jobs", &["JobsTableArn"], &[], &[]),
        (
            "worker",
            &[
                "JobsTableArn",
                "ImagesTableArn",
                "ConnectionsTableArn",
                "MediaBucketArn",
            ],
            &["audio/*", "images/*"],
            &["openai-api-key", "openweather-api-key"],
        ),
        (
            "image-processor",
            &["ImagesTableArn", "MediaBucketArn"],
            &["images/*", "thumbnails/*"],
            &[],
        ),
        (
            "websocket",
            &["ConnectionsTableArn", "JobsTableArn", "MediaBucketArn"],
            &["audio/*"],
            &[],
        ),
        (
            "cleanup",
            &["JobsTableArn", "ConnectionsTableArn", "MediaBucketArn"],
            &["audio/*"],
            &[],
        ),
    ];
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        for (name, imports, prefixes, parameters) in expected {
            let spec = stacks::functions::function(name).unwrap();
            let role = &app["Resources"][format!("{}Role", spec.pascal)];
            let reach = reach(role, &stage.name);
            assert_eq!(reach.imports, set(imports), "{name}: data resources");
            assert_eq!(reach.prefixes, set(prefixes), "{name}: media prefixes");
            let parameters: Vec<String> = parameters
                .iter()
                .map(|p| format!("/mumble/{}/{p}", stage.name))
                .collect();
            assert_eq!(
                reach.parameters,
                parameters
                    .iter()
                    .map(String::as_str)
                    .map(str::to_owned)
                    .collect(),
                "{name}: parameters"
            );
            // X-Ray accepts segments only on `*`; nothing else may use it.
            assert_eq!(
                reach.star_actions,
                set(&["xray:PutTelemetryRecords", "xray:PutTraceSegments"]),
                "{name}: actions on *"
            );
        }
    }
}

#[test]
fn every_route_but_health_requires_the_authorizer() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let routes: Vec<_> = resources_of(&app, "AWS::ApiGatewayV2::Route")
            .into_iter()
            .filter(|(_, r)| r["Properties"]["ApiId"] == json!({"Ref": "HttpApi"}))
            .collect();
        let keys: BTreeSet<&str> = routes
            .iter()
            .map(|(_, r)| r["Properties"]["RouteKey"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ROUTE_KEYS.into_iter().collect());
        for (id, route) in routes {
            let properties = &route["Properties"];
            if properties["RouteKey"] == "GET /api/v1/health" {
                assert_eq!(properties["AuthorizationType"], "NONE", "{id}");
            } else {
                assert_eq!(properties["AuthorizationType"], "JWT", "{id}");
                assert_eq!(
                    properties["AuthorizerId"],
                    json!({"Ref": "HttpApiAuthorizer"}),
                    "{id}"
                );
            }
        }
        let websocket: BTreeSet<&str> = resources_of(&app, "AWS::ApiGatewayV2::Route")
            .into_iter()
            .filter(|(_, r)| r["Properties"]["ApiId"] == json!({"Ref": "WebSocketApi"}))
            .map(|(_, r)| r["Properties"]["RouteKey"].as_str().unwrap())
            .collect();
        assert_eq!(
            websocket,
            ["$connect", "$disconnect", "generateImage"]
                .into_iter()
                .collect()
        );
    }
}

#[test]
fn every_function_has_a_log_group_with_retention_and_alarms() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let functions = resources_of(&app, "AWS::Lambda::Function");
        let names: BTreeSet<String> = functions
            .iter()
            .map(|(_, f)| f["Properties"]["FunctionName"].as_str().unwrap().to_owned())
            .collect();
        let expected: BTreeSet<String> = FUNCTION_NAMES
            .iter()
            .map(|n| format!("mumble-{}-{n}", stage.name))
            .collect();
        assert_eq!(names, expected);
        let log_groups = resources_of(&app, "AWS::Logs::LogGroup");
        let alarms = resources_of(&app, "AWS::CloudWatch::Alarm");
        for (id, function) in functions {
            let name = function["Properties"]["FunctionName"].as_str().unwrap();
            let (log_group, group) = log_groups
                .iter()
                .find(|(_, g)| g["Properties"]["LogGroupName"] == format!("/aws/lambda/{name}"))
                .unwrap_or_else(|| panic!("{name} has no log group"));
            assert_eq!(
                group["Properties"]["RetentionInDays"],
                stage.log_retention_days
            );
            assert!(
                function["DependsOn"]
                    .as_array()
                    .is_some_and(|d| d.contains(&json!(log_group))),
                "{name} is created before its log group"
            );
            for metric in ["Errors", "Duration", "Throttles"] {
                assert!(
                    alarms.iter().any(|(_, a)| {
                        let p = &a["Properties"];
                        p["MetricName"] == metric
                            && p["Dimensions"][0]["Value"] == json!({"Ref": id})
                            && p["AlarmActions"][0] == json!({"Ref": "AlarmTopic"})
                    }),
                    "{name} has no {metric} alarm"
                );
            }
        }
        assert!(
            alarms
                .iter()
                .any(|(_, a)| a["Properties"]["Namespace"] == "AWS/SQS"
                    && a["Properties"]["Dimensions"][0]["Value"]
                        == json!({"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]})),
            "no dead-letter queue alarm"
        );
    }
}

#[test]
fn the_dashboard_shows_every_function_alarm_and_log_group_of_the_stage() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let dashboards = resources_of(&app, "AWS::CloudWatch::Dashboard");
        assert_eq!(dashboards.len(), 1, "one dashboard per stage");
        let properties = &dashboards[0].1["Properties"];
        assert_eq!(
            properties["DashboardName"],
            format!("mumble-{}", stage.name)
        );
        let body = properties["DashboardBody"]["Fn::Sub"]
            .as_str()
            .expect("the body is a Fn::Sub string");
        let body: Value = serde_json::from_str(body).expect("the body is JSON");
        let widgets = body["widgets"].as_array().unwrap();
        let metrics: Vec<&Value> = widgets
            .iter()
            .filter(|w| w["type"] == "metric")
            .flat_map(|w| w["properties"]["metrics"].as_array().unwrap())
            .collect();
        for (_, function) in resources_of(&app, "AWS::Lambda::Function") {
            let name = &function["Properties"]["FunctionName"];
            for metric in ["Invocations", "Errors", "Throttles", "Duration"] {
                assert!(
                    metrics.iter().any(|m| m[0] == "AWS/Lambda"
                        && m[1] == metric
                        && m[2] == "FunctionName"
                        && &m[3] == name),
                    "{name} has no {metric} on the dashboard"
                );
            }
        }
        let shown: BTreeSet<&str> = widgets
            .iter()
            .filter(|w| w["type"] == "alarm")
            .flat_map(|w| w["properties"]["alarms"].as_array().unwrap())
            .map(|arn| arn.as_str().unwrap().rsplit(':').next().unwrap())
            .collect();
        let alarms: BTreeSet<&str> = resources_of(&app, "AWS::CloudWatch::Alarm")
            .iter()
            .map(|(_, a)| a["Properties"]["AlarmName"].as_str().unwrap())
            .collect();
        assert_eq!(shown, alarms, "every alarm of the stack, and only those");
        let query = widgets
            .iter()
            .find(|w| w["type"] == "log")
            .and_then(|w| w["properties"]["query"].as_str())
            .expect("a cold-start query");
        for (_, group) in resources_of(&app, "AWS::Logs::LogGroup") {
            let group = group["Properties"]["LogGroupName"].as_str().unwrap();
            if group.starts_with("/aws/lambda/") {
                assert!(query.contains(&format!("SOURCE '{group}'")), "{group}");
            }
        }
        for metric in ["Count", "4xx", "5xx", "Latency"] {
            assert!(
                metrics
                    .iter()
                    .any(|m| m[0] == "AWS/ApiGateway" && m[1] == metric && m[3] == "${HttpApi}"),
                "the HTTP API's {metric}"
            );
        }
    }
}

#[test]
fn functions_run_the_stage_build_with_fitting_timeouts_and_secret_names_only() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        for spec in FUNCTIONS {
            let f = &app["Resources"][format!("{}Function", spec.pascal)]["Properties"];
            assert_eq!(f["Runtime"], "provided.al2023");
            assert_eq!(f["Handler"], "bootstrap");
            assert_eq!(f["Architectures"], json!([stage.architecture.as_str()]));
            assert_eq!(f["MemorySize"], stage.memory_mb(spec.name));
            assert_eq!(
                f["Code"],
                json!({"S3Bucket": {"Ref": "ArtifactsBucket"},
                       "S3Key": {"Ref": format!("{}CodeKey", spec.pascal)}})
            );
            let timeout = f["Timeout"].as_u64().unwrap();
            match spec.name {
                "worker" => assert!(timeout >= 300, "worker timeout {timeout}"),
                "image-processor" | "cleanup" => {}
                _ => assert!(
                    timeout <= 29,
                    "{}: {timeout} s exceeds API Gateway's 29 s",
                    spec.name
                ),
            }
            let env = f["Environment"]["Variables"].as_object().unwrap();
            assert_eq!(env["MUMBLE_STAGE"], stage.name.as_str());
            for (key, value) in env {
                if key.ends_with("_PARAM") {
                    let name = value.as_str().unwrap();
                    assert!(
                        name.starts_with(&format!("/mumble/{}/", stage.name)),
                        "{key}={name}"
                    );
                }
            }
            if let Some(providers) = env.get("MUMBLE_PROVIDERS") {
                let expected = if stage.name == "local" {
                    "offline"
                } else {
                    "openai"
                };
                assert_eq!(providers, expected, "{}: {}", stage.name, spec.name);
            }
        }
        let worker = &app["Resources"]["WorkerFunction"]["Properties"]["Environment"]["Variables"];
        assert!(worker["MUMBLE_PROVIDERS"].is_string());
        assert_eq!(
            worker["OPENAI_API_KEY_PARAM"],
            format!("/mumble/{}/openai-api-key", stage.name)
        );
    }
}

#[test]
fn async_functions_retry_little_and_end_in_the_dead_letter_queue() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let configs = resources_of(&app, "AWS::Lambda::EventInvokeConfig");
        for function in [
            "WorkerFunction",
            "ImageProcessorFunction",
            "CleanupFunction",
        ] {
            let (_, config) = configs
                .iter()
                .find(|(_, c)| c["Properties"]["FunctionName"] == json!({"Ref": function}))
                .unwrap_or_else(|| panic!("{function} has no invoke config"));
            let p = &config["Properties"];
            assert!(p["MaximumRetryAttempts"].as_u64().unwrap() <= 2);
            assert!(p["MaximumEventAgeInSeconds"].as_u64().unwrap() <= 21600);
            assert_eq!(
                p["DestinationConfig"]["OnFailure"]["Destination"],
                json!({"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})
            );
        }
        let rules = resources_of(&app, "AWS::Events::Rule");
        let target = |rule: &Value| rule["Properties"]["Targets"][0]["Arn"].clone();
        assert!(rules.iter().any(
            |(_, r)| r["Properties"]["ScheduleExpression"] == "rate(1 hour)"
                && target(r) == json!({"Ref": "CleanupLiveAlias"})
        ));
        assert!(rules.iter().any(|(_, r)| {
            let pattern = &r["Properties"]["EventPattern"];
            pattern["detail-type"] == json!(["Object Created"])
                && pattern["detail"]["object"]["key"] == json!([{"prefix": "images/"}])
                && pattern["detail"]["bucket"]["name"]
                    == json!([{"Fn::ImportValue": format!("mumble-{}-data-MediaBucketName", stage.name)}])
                && target(r) == json!({"Ref": "ImageProcessorLiveAlias"})
        }));
        let data = json(&stack(&stage, Part::Data).unwrap());
        assert_eq!(
            data["Resources"]["MediaBucket"]["Properties"]["NotificationConfiguration"],
            json!({"EventBridgeConfiguration": {"EventBridgeEnabled": true}})
        );
    }
}

#[test]
fn stacks_come_in_deploy_order_with_contract_names_parameters_and_outputs() {
    let outputs = |stage: &stacks::Stage, part| -> Vec<String> {
        let template = json(&stack(stage, part).unwrap());
        template["Outputs"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    for stage in all_stages() {
        let synth = stacks::synth(&stage);
        let parts: Vec<Part> = synth.iter().map(|s| s.part).collect();
        let expected_parts = if stage.domain.is_some() {
            Part::ALL.to_vec()
        } else {
            vec![Part::Bootstrap, Part::Data, Part::App, Part::Web]
        };
        assert_eq!(parts, expected_parts, "{}", stage.name);
        for s in &synth {
            assert_eq!(s.name, format!("mumble-{}-{}", stage.name, s.part.as_str()));
            let region = if s.part == Part::Cert {
                "us-east-1"
            } else {
                &stage.region
            };
            assert_eq!(s.region, region);
        }
        assert_eq!(outputs(&stage, Part::Bootstrap)[0], "ArtifactsBucketName");
        let data = json(&stack(&stage, Part::Data).unwrap());
        for table in ["Users", "Images", "Jobs", "Connections"] {
            for what in ["Name", "Arn"] {
                let output = format!("{table}Table{what}");
                assert_eq!(
                    data["Outputs"][&output]["Export"]["Name"],
                    format!("mumble-{}-data-{output}", stage.name)
                );
            }
        }
        for output in ["MediaBucketName", "MediaBucketArn"] {
            assert_eq!(
                data["Outputs"][output]["Export"]["Name"],
                format!("mumble-{}-data-{output}", stage.name)
            );
        }
        let app = json(&stack(&stage, Part::App).unwrap());
        let parameters: BTreeSet<&str> = app["Parameters"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected: BTreeSet<String> = FUNCTION_NAMES
            .iter()
            .map(|name| {
                let pascal: String = name
                    .split('-')
                    .map(|w| w[..1].to_uppercase() + &w[1..])
                    .collect();
                format!("{pascal}CodeKey")
            })
            .collect();
        expected.insert("ArtifactsBucket".into());
        assert_eq!(parameters, expected.iter().map(String::as_str).collect());
        for output in [
            "HttpApiUrl",
            "WebSocketUrl",
            "WebSocketManagementUrl",
            "UserPoolId",
            "UserPoolClientId",
            "AlarmTopicArn",
        ] {
            assert!(
                outputs(&stage, Part::App).contains(&output.to_owned()),
                "{output}"
            );
        }
        assert_eq!(
            app["Outputs"]["WebSocketUrl"]["Value"],
            json!({"Fn::Sub": format!("${{WebSocketApi.ApiEndpoint}}/{}", stage.name)})
        );
        assert_eq!(
            outputs(&stage, Part::Web)
                .iter()
                .map(String::as_str)
                .collect::<BTreeSet<_>>(),
            set(&[
                "SiteBucketName",
                "DistributionId",
                "DistributionDomainName",
                "SiteUrl"
            ])
            .iter()
            .map(String::as_str)
            .collect()
        );
        let web = json(&stack(&stage, Part::Web).unwrap());
        assert_eq!(
            web["Parameters"].get("CertificateArn").is_some(),
            stage.domain.is_some()
        );
    }
}

#[test]
fn cors_and_content_security_policy_name_only_the_stage_origins() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let origins =
            &app["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"]["AllowOrigins"];
        assert_eq!(origins, &json!(stage.cors_origins));
        if !["dev", "local"].contains(&stage.name.as_str()) && !stage.personal {
            assert!(
                !origins.as_array().unwrap().contains(&json!("*")),
                "{}",
                stage.name
            );
        }
        let web = json(&stack(&stage, Part::Web).unwrap());
        let csp = &web["Resources"]["SecurityHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
            ["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"];
        let policy = csp[0].as_str().unwrap();
        assert!(!policy.contains('*'), "wildcard in CSP: {policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("connect-src 'self' ${HttpApi} ${WebSocket} https://cognito-idp."));
        assert_eq!(
            csp[1]["HttpApi"],
            json!({"Fn::ImportValue": format!("mumble-{}-app-HttpApiUrl", stage.name)})
        );
        let distribution = &web["Resources"]["Distribution"]["Properties"]["DistributionConfig"];
        assert_eq!(
            distribution["DefaultCacheBehavior"]["ViewerProtocolPolicy"],
            "redirect-to-https"
        );
        assert_eq!(distribution["HttpVersion"], "http2and3");
        let aliases = stage
            .domain
            .iter()
            .map(|d| d.name.clone())
            .collect::<Vec<_>>();
        assert_eq!(
            distribution.get("Aliases").cloned().unwrap_or(json!([])),
            json!(aliases)
        );
        let records = resources_of(&web, "AWS::Route53::RecordSet").len();
        let with_zone = stage
            .domain
            .as_ref()
            .is_some_and(|d| d.hosted_zone_id.is_some());
        assert_eq!(records, if with_zone { 2 } else { 0 }, "{}", stage.name);
    }
}

#[test]
fn github_deploy_role_exists_only_when_a_repository_is_set() {
    for stage in all_stages() {
        let bootstrap = json(&stack(&stage, Part::Bootstrap).unwrap());
        let roles = resources_of(&bootstrap, "AWS::IAM::Role");
        match &stage.github_repository {
            None => assert!(roles.is_empty(), "{}", stage.name),
            Some(repository) => {
                let deploy = &bootstrap["Resources"]["DeployRole"]["Properties"];
                let trust = &deploy["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"];
                assert_eq!(
                    trust["token.actions.githubusercontent.com:sub"],
                    format!("repo:{repository}:environment:{}", stage.name)
                );
                let text = serde_json::to_string(deploy).unwrap();
                for statement in policy_statements(&bootstrap["Resources"]["DeployRole"]) {
                    if statement["Effect"] == "Allow" {
                        assert_ne!(statement["Resource"], json!(["*"]), "deploy role uses *");
                    }
                }
                // A protected stage cannot be destroyed from CI.
                assert_eq!(
                    text.contains("cloudformation:DeleteStack"),
                    !stage.protected
                );
            }
        }
    }
}

#[test]
fn synthesis_is_byte_identical_across_runs() {
    for stage in all_stages() {
        let first: Vec<String> = stacks::synth(&stage)
            .iter()
            .map(|s| s.template.to_yaml())
            .collect();
        let second: Vec<String> = stacks::synth(&stage)
            .iter()
            .map(|s| s.template.to_yaml())
            .collect();
        assert_eq!(first, second, "{}", stage.name);
    }
}

/// Every statement of a function's role: (actions, resources, condition).
fn statements(app: &Value, name: &str) -> Vec<(BTreeSet<String>, Vec<Value>, Value)> {
    let spec = stacks::functions::function(name).unwrap();
    let role = &app["Resources"][format!("{}Role", spec.pascal)];
    role["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|policy| policy["PolicyDocument"]["Statement"].as_array().unwrap())
        .map(|statement| {
            let actions = statement["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect();
            (
                actions,
                statement["Resource"].as_array().unwrap().clone(),
                statement["Condition"].clone(),
            )
        })
        .collect()
}

#[test]
fn functions_reading_media_may_list_only_under_what_they_read_so_a_missing_object_is_a_404() {
    // Without `s3:ListBucket`, S3 answers 403 for a missing key: the user sees "forbidden"
    // instead of "no such recording", and the worker and the image processor retry a deleted
    // object instead of skipping it.
    let listing = [
        ("generate", "audio/*"),
        ("websocket", "audio/*"),
        ("cleanup", "audio/*"),
        ("worker", "audio/*"),
        ("image-processor", "images/*"),
    ];
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        for spec in FUNCTIONS {
            let lists: Vec<_> = statements(&app, spec.name)
                .into_iter()
                .filter(|(actions, _, _)| actions.contains("s3:ListBucket"))
                .collect();
            let Some((_, prefix)) = listing.iter().find(|(name, _)| *name == spec.name) else {
                assert!(lists.is_empty(), "{}: may not list the bucket", spec.name);
                continue;
            };
            assert_eq!(lists.len(), 1, "{}: one list statement", spec.name);
            let (actions, resources, condition) = &lists[0];
            assert_eq!(actions, &set(&["s3:ListBucket"]), "{}", spec.name);
            assert_eq!(
                resources,
                &vec![
                    json!({ "Fn::ImportValue": format!("mumble-{}-data-MediaBucketArn", stage.name) })
                ],
                "{}: the media bucket only",
                spec.name
            );
            assert_eq!(
                condition,
                &json!({ "StringLike": { "s3:prefix": prefix } }),
                "{}: listing limited to {prefix}",
                spec.name
            );
        }
    }
}

#[test]
fn the_websocket_function_may_read_write_and_delete_connections() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let connections = json!({
            "Fn::ImportValue": format!("mumble-{}-data-ConnectionsTableArn", stage.name)
        });
        let grants: BTreeSet<String> = statements(&app, "websocket")
            .into_iter()
            .filter(|(_, resources, _)| resources.contains(&connections))
            .flat_map(|(actions, _, _)| actions)
            .collect();
        assert_eq!(
            grants,
            set(&[
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:DeleteItem"
            ]),
            "{}: websocket on the connections table",
            stage.name
        );
    }
}

#[test]
fn the_generate_image_route_sends_the_functions_reply_back_to_the_client() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let resources = app["Resources"].as_object().unwrap();
        let route = resources
            .iter()
            .find(|(_, r)| {
                r["Type"] == "AWS::ApiGatewayV2::Route"
                    && r["Properties"]["RouteKey"] == "generateImage"
            })
            .unwrap_or_else(|| panic!("{}: no generateImage route", stage.name));
        assert_eq!(
            route.1["Properties"]["RouteResponseSelectionExpression"], "$default",
            "{}: generateImage is two-way",
            stage.name
        );
        let responses: Vec<_> = resources
            .values()
            .filter(|r| {
                r["Type"] == "AWS::ApiGatewayV2::RouteResponse"
                    && r["Properties"]["RouteId"] == json!({ "Ref": route.0 })
            })
            .collect();
        assert_eq!(responses.len(), 1, "{}: one route response", stage.name);
        assert_eq!(responses[0]["Properties"]["RouteResponseKey"], "$default");
        assert_eq!(
            responses[0]["Properties"]["ApiId"],
            route.1["Properties"]["ApiId"]
        );
    }
}

/// `arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/mumble-{stage}-boundary`, as synthesized.
fn boundary(stage: &str) -> Value {
    json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:policy/mumble-{stage}-boundary")})
}

fn policy_statements(role: &Value) -> Vec<Value> {
    role["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap().clone())
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| match v.as_str() {
            Some(s) => s.to_owned(),
            None => v.to_string(),
        })
        .collect()
}

/// Whether an IAM action pattern (`iam:Put*`) covers an action.
fn covers(pattern: &str, action: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => action.starts_with(prefix),
        None => pattern == action,
    }
}

#[test]
fn every_role_the_stacks_create_carries_the_stage_boundary() {
    for stage in all_stages() {
        let bootstrap = json(&stack(&stage, Part::Bootstrap).unwrap());
        let policies = resources_of(&bootstrap, "AWS::IAM::ManagedPolicy");
        assert_eq!(policies.len(), 1, "{}: one boundary", stage.name);
        assert_eq!(
            policies[0].1["Properties"]["ManagedPolicyName"],
            format!("mumble-{}-boundary", stage.name)
        );
        let mut roles = 0;
        for template in all_templates(&stage) {
            if template == bootstrap {
                continue;
            }
            for (id, role) in resources_of(&template, "AWS::IAM::Role") {
                roles += 1;
                assert_eq!(
                    role["Properties"]["PermissionsBoundary"],
                    boundary(&stage.name),
                    "{}: {id}",
                    stage.name
                );
            }
        }
        // CodeDeploy shifts traffic with a role of its own.
        let codedeploy = usize::from(stage.traffic_shifting.deployment_config().is_some());
        assert_eq!(
            roles,
            FUNCTION_NAMES.len() + codedeploy,
            "{}: one role per function, and CodeDeploy's where it shifts traffic",
            stage.name
        );
    }
}

#[test]
fn the_boundary_allows_every_action_a_function_role_names_and_no_iam() {
    for stage in all_stages() {
        let bootstrap = json(&stack(&stage, Part::Bootstrap).unwrap());
        let boundary = resources_of(&bootstrap, "AWS::IAM::ManagedPolicy")[0].1;
        let allowed: Vec<String> = boundary["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| strings(&s["Action"]))
            .collect();
        assert!(
            !allowed
                .iter()
                .any(|a| a.starts_with("iam:") || a.contains(":*")),
            "{}: the boundary allows {allowed:?}",
            stage.name
        );
        let app = json(&stack(&stage, Part::App).unwrap());
        for (id, role) in resources_of(&app, "AWS::IAM::Role") {
            for statement in policy_statements(role) {
                for action in strings(&statement["Action"]) {
                    assert!(
                        allowed.iter().any(|a| covers(a, &action)),
                        "{}: {id} needs {action}, which the boundary does not allow",
                        stage.name
                    );
                }
            }
        }
    }
}

#[test]
fn the_bootstrap_roles_cannot_create_unbounded_roles_or_change_themselves() {
    let stages = all_stages();
    let mut checked = 0;
    for stage in &stages {
        let bootstrap = json(&stack(stage, Part::Bootstrap).unwrap());
        if stage.github_repository.is_none() {
            continue;
        }
        checked += 1;
        let s = &stage.name;
        for role_id in ["CloudFormationRole", "DeployRole"] {
            let statements = policy_statements(&bootstrap["Resources"][role_id]);
            let deny = statements
                .iter()
                .find(|st| st["Sid"] == "KeepBootstrapRolesAndBoundary")
                .unwrap_or_else(|| panic!("{s}: {role_id} has no deny on the bootstrap roles"));
            assert_eq!(deny["Effect"], "Deny");
            let resources = serde_json::to_string(&deny["Resource"]).unwrap();
            for name in [
                format!("role/mumble-{s}-deploy"),
                format!("role/mumble-{s}-cloudformation"),
                format!("policy/mumble-{s}-boundary"),
            ] {
                assert!(
                    resources.contains(&name),
                    "{s}: {role_id} deny misses {name}"
                );
            }
            let denied = strings(&deny["Action"]);
            for action in [
                "iam:PutRolePolicy",
                "iam:AttachRolePolicy",
                "iam:UpdateAssumeRolePolicy",
                "iam:DeleteRolePermissionsBoundary",
                "iam:CreatePolicyVersion",
                "iam:SetDefaultPolicyVersion",
            ] {
                assert!(
                    denied.iter().any(|d| covers(d, action)),
                    "{s}: {role_id} may {action} on the bootstrap roles"
                );
            }
            // Another stage's tagged resources are out of reach.
            let other = statements
                .iter()
                .find(|st| st["Sid"] == "NoOtherStagesResources")
                .unwrap_or_else(|| panic!("{s}: {role_id} may touch other stages"));
            assert_eq!(
                other["Condition"]["StringNotEquals"]["aws:ResourceTag/mumble:stage"],
                s.as_str()
            );
            // AWS authorizes a few creations only on `*`; none of them may be an IAM action.
            for st in &statements {
                if st["Effect"] == "Allow" && st["Resource"] == json!(["*"]) {
                    let actions = strings(&st["Action"]);
                    assert!(
                        actions.iter().all(|a| !a.starts_with("iam:")),
                        "{s}: {role_id} allows {actions:?} on *"
                    );
                }
            }
        }
        let statements = policy_statements(&bootstrap["Resources"]["CloudFormationRole"]);
        for st in statements.iter().filter(|st| st["Effect"] == "Allow") {
            let actions = strings(&st["Action"]);
            let changes_roles = actions.iter().any(|a| {
                [
                    "iam:CreateRole",
                    "iam:PutRolePolicy",
                    "iam:AttachRolePolicy",
                    "iam:PutRolePermissionsBoundary",
                ]
                .iter()
                .any(|wanted| covers(a, wanted))
            });
            if changes_roles {
                assert_eq!(
                    st["Condition"]["StringEquals"]["iam:PermissionsBoundary"],
                    boundary(s),
                    "{s}: {:?} without the boundary condition",
                    st["Sid"]
                );
            }
            assert!(
                !actions
                    .iter()
                    .any(|a| a == "iam:*" || a == "*" || a == "iam:DeleteRolePermissionsBoundary"),
                "{s}: {actions:?}"
            );
            // Every name pattern is this stage's, and no other stage's names fall under it.
            let resources = serde_json::to_string(&st["Resource"]).unwrap();
            for other in &stages {
                if other.name != *s {
                    assert!(
                        !resources.contains(&format!("mumble-{}-", other.name))
                            || format!("mumble-{}-", other.name)
                                .starts_with(&format!("mumble-{s}-")),
                        "{s}: {resources}"
                    );
                    assert!(
                        !format!("mumble-{}-x", other.name).starts_with(&format!("mumble-{s}-")),
                        "{s}'s patterns cover stage {}",
                        other.name
                    );
                }
            }
        }
    }
    assert!(
        checked > 0,
        "no stage with a GitHub deploy role was checked"
    );
}

#[test]
fn protected_stages_keep_their_logs_and_failed_events() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let expected = if stage.protected { "Retain" } else { "Delete" };
        let mut kept = resources_of(&app, "AWS::Logs::LogGroup");
        kept.extend(resources_of(&app, "AWS::SQS::Queue"));
        assert!(kept.len() > FUNCTION_NAMES.len());
        for (id, resource) in kept {
            assert_eq!(resource["DeletionPolicy"], expected, "{}: {id}", stage.name);
        }
    }
}

#[test]
fn both_apis_write_an_access_log_where_the_stage_asks_for_one() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        for (id, api_stage) in resources_of(&app, "AWS::ApiGatewayV2::Stage") {
            let settings = &api_stage["Properties"]["AccessLogSettings"];
            assert_eq!(
                settings.is_object(),
                stage.access_logs,
                "{}: {id}",
                stage.name
            );
            if stage.access_logs {
                let format = settings["Format"].as_str().unwrap();
                assert!(format.contains("$context.requestId"), "{id}: {format}");
                serde_json::from_str::<Value>(format).expect("one JSON object per line");
            }
        }
    }
}

#[test]
fn the_media_bucket_forgets_deleted_pictures_and_expired_delete_markers() {
    for stage in all_stages() {
        let data = json(&stack(&stage, Part::Data).unwrap());
        let rules =
            data["Resources"]["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
                .as_array()
                .unwrap();
        assert!(
            rules
                .iter()
                .any(|r| r["ExpiredObjectDeleteMarker"] == true && r.get("Prefix").is_none()),
            "{}: expired delete markers stay",
            stage.name
        );
        for prefix in ["images/", "thumbnails/"] {
            assert!(
                rules.iter().any(|r| r["Prefix"] == prefix
                    && r["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1),
                "{}: deleted {prefix} versions stay longer than a day",
                stage.name
            );
        }
    }
}

#[test]
fn spending_is_bounded_per_user_per_stage_and_per_moment() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let worker = &app["Resources"]["WorkerFunction"]["Properties"];
        assert_eq!(
            worker["ReservedConcurrentExecutions"],
            stage.worker_reserved_concurrency
        );
        assert_eq!(
            worker["Environment"]["Variables"]["MAX_PROVIDER_CALLS_PER_DAY"],
            stage.max_provider_calls_per_day.to_string()
        );
        for starter in ["GenerateFunction", "WebsocketFunction"] {
            assert_eq!(
                app["Resources"][starter]["Properties"]["Environment"]["Variables"]["MAX_GENERATIONS_PER_USER_PER_DAY"],
                stage.max_generations_per_user_per_day.to_string(),
                "{}: {starter}",
                stage.name
            );
        }
        let filter = &app["Resources"]["ProviderCapMetricFilter"]["Properties"];
        assert_eq!(filter["LogGroupName"], json!({"Ref": "WorkerLogGroup"}));
        assert!(
            filter["FilterPattern"]
                .as_str()
                .unwrap()
                .contains("provider_cap_reached")
        );
        let alarm = &app["Resources"]["ProviderCapAlarm"]["Properties"];
        assert_eq!(
            alarm["MetricName"],
            filter["MetricTransformations"][0]["MetricName"]
        );
        assert_eq!(
            alarm["Namespace"],
            filter["MetricTransformations"][0]["MetricNamespace"]
        );
        assert_eq!(alarm["AlarmActions"][0], json!({"Ref": "AlarmTopic"}));
    }
}

#[test]
fn protected_stages_alarms_reach_a_subscriber() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let email = !resources_of(&app, "AWS::SNS::Subscription").is_empty();
        for (id, alarm) in resources_of(&app, "AWS::CloudWatch::Alarm") {
            let actions = alarm["Properties"]["AlarmActions"].as_array().unwrap();
            let topic = stage.alarm_topic_arn.as_ref().map(|arn| json!(arn));
            assert_eq!(
                topic.as_ref().is_some_and(|t| actions.contains(t)),
                stage.alarm_topic_arn.is_some(),
                "{}: {id}",
                stage.name
            );
            if stage.protected {
                assert!(
                    email || topic.is_some(),
                    "{}: {id} reaches nobody",
                    stage.name
                );
            }
        }
    }
}

#[test]
fn protected_stages_offer_totp_and_send_mail_through_ses_when_set() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let pool = &app["Resources"]["UserPool"]["Properties"];
        if stage.protected {
            assert_eq!(pool["MfaConfiguration"], "OPTIONAL", "{}", stage.name);
            assert_eq!(pool["EnabledMfas"], json!(["SOFTWARE_TOKEN_MFA"]));
        } else {
            // Absent is CloudFormation's default, OFF.
            assert!(pool.get("MfaConfiguration").is_none(), "{}", stage.name);
        }
        match &stage.ses_identity {
            Some(identity) => {
                let email = &pool["EmailConfiguration"];
                assert_eq!(email["EmailSendingAccount"], "DEVELOPER");
                assert!(
                    email["SourceArn"]["Fn::Sub"]
                        .as_str()
                        .unwrap()
                        .ends_with(&format!(":identity/{identity}"))
                );
            }
            None => assert!(pool.get("EmailConfiguration").is_none()),
        }
    }
    assert!(full_stage_has(|s| s.ses_identity.is_some()));
}

fn full_stage_has(check: impl Fn(&stacks::Stage) -> bool) -> bool {
    check(&crate::full_stage())
}

/// Whether `value` refers to one of the `live` aliases: `{"Ref": "XLiveAlias"}`, or a `Fn::Sub`
/// naming `${XLiveAlias}`.
fn names_an_alias(value: &Value) -> bool {
    let text = value.to_string();
    FUNCTIONS.iter().any(|f| {
        let alias = format!("{}LiveAlias", f.pascal);
        value == &json!({"Ref": alias}) || text.contains(&format!("${{{alias}}}"))
    })
}

#[test]
fn every_caller_invokes_a_live_alias_never_latest() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let s = &stage.name;
        for (id, integration) in resources_of(&app, "AWS::ApiGatewayV2::Integration") {
            assert!(
                names_an_alias(&integration["Properties"]["IntegrationUri"]),
                "{s}: {id} calls {}",
                integration["Properties"]["IntegrationUri"]
            );
        }
        for (id, permission) in resources_of(&app, "AWS::Lambda::Permission") {
            assert!(
                names_an_alias(&permission["Properties"]["FunctionName"]),
                "{s}: {id} lets callers invoke {}",
                permission["Properties"]["FunctionName"]
            );
        }
        for (id, rule) in resources_of(&app, "AWS::Events::Rule") {
            for target in rule["Properties"]["Targets"].as_array().unwrap() {
                assert!(
                    names_an_alias(&target["Arn"]),
                    "{s}: {id} targets {}",
                    target["Arn"]
                );
            }
        }
        for (id, config) in resources_of(&app, "AWS::Lambda::EventInvokeConfig") {
            assert_eq!(config["Properties"]["Qualifier"], "live", "{s}: {id}");
        }
        // Each function: one version (kept), one alias `live` on it.
        for f in FUNCTIONS {
            let version = &app["Resources"][format!("{}Version", f.pascal)];
            assert_eq!(version["Type"], "AWS::Lambda::Version", "{s}: {}", f.name);
            assert_eq!(version["DeletionPolicy"], "Retain");
            assert_eq!(
                version["Properties"]["Description"],
                json!({"Ref": f.code_key_parameter()})
            );
            let alias = &app["Resources"][format!("{}LiveAlias", f.pascal)]["Properties"];
            assert_eq!(alias["Name"], "live");
            assert_eq!(
                alias["FunctionVersion"],
                json!({"Fn::GetAtt": [format!("{}Version", f.pascal), "Version"]})
            );
        }
        // The worker is started through its alias, and its starters may invoke only that.
        let worker = format!("mumble-{s}-worker:live");
        for (id, function) in resources_of(&app, "AWS::Lambda::Function") {
            let variables = &function["Properties"]["Environment"]["Variables"];
            if let Some(name) = variables.get("WORKER_FUNCTION") {
                assert_eq!(name, &json!(worker), "{s}: {id}");
            }
        }
        let text = app.to_string();
        assert!(
            text.contains(&format!("function:{worker}\"")),
            "{s}: the StartWorker grant"
        );
        assert!(
            !text.contains(&format!("function:mumble-{s}-worker\"")),
            "{s}"
        );
    }
}

#[test]
fn protected_stages_shift_through_codedeploy_stopped_by_each_functions_alarms() {
    for stage in all_stages() {
        let app = json(&stack(&stage, Part::App).unwrap());
        let s = &stage.name;
        let groups = resources_of(&app, "AWS::CodeDeploy::DeploymentGroup");
        let Some(config) = stage.traffic_shifting.deployment_config() else {
            assert!(groups.is_empty(), "{s}: {groups:?}");
            assert!(resources_of(&app, "AWS::CodeDeploy::Application").is_empty());
            for (id, alias) in resources_of(&app, "AWS::Lambda::Alias") {
                assert!(alias.get("UpdatePolicy").is_none(), "{s}: {id}");
            }
            continue;
        };
        assert!(stage.protected, "{s}");
        assert_eq!(groups.len(), FUNCTIONS.len(), "{s}");
        for f in FUNCTIONS {
            let group_id = format!("{}DeploymentGroup", f.pascal);
            let group = &app["Resources"][&group_id]["Properties"];
            assert_eq!(
                group["DeploymentConfigName"],
                config.as_str(),
                "{s}: {group_id}"
            );
            assert_eq!(
                group["DeploymentGroupName"],
                format!("mumble-{s}-{}", f.name)
            );
            assert_eq!(
                group["AlarmConfiguration"],
                json!({"Enabled": true, "Alarms": [
                    {"Name": {"Ref": format!("{}ErrorsAlarm", f.pascal)}},
                    {"Name": {"Ref": format!("{}ThrottlesAlarm", f.pascal)}},
                ]}),
                "{s}: {group_id}"
            );
            assert_eq!(
                group["AutoRollbackConfiguration"],
                json!({"Enabled": true, "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]})
            );
            assert_eq!(
                app["Resources"][format!("{}LiveAlias", f.pascal)]["UpdatePolicy"],
                json!({"CodeDeployLambdaAliasUpdate": {
                    "ApplicationName": {"Ref": "CodeDeployApplication"},
                    "DeploymentGroupName": {"Ref": group_id},
                }})
            );
        }
    }
}
