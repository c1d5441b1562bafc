//! The application: one function per job with its own role, log group and alarms; the HTTP and
//! WebSocket APIs; the user pool; the schedule and the image trigger; the alarm topic; the dashboard.
//!
//! One file over 500 lines: every resource of the app stack refers to others by logical id, and
//! keeping them in one template function is what lets the compiler check those references.

use indexmap::IndexMap;

use mumble_contract::Output;

use super::{arn, boundary_arn, import, output};
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::{Expr, Parameter, ParameterSource, Resource, Template};
use crate::environment::Value;
use crate::functions::{
    FUNCTIONS, FunctionSpec, LIVE, Table, Uses, codedeploy_application_name, function,
};
use crate::monitoring::{self, FUNCTION_ALARMS};
use crate::resources::apigw::{
    AccessLogSettings, Api, Authorizer, Cors, Integration, JwtConfiguration, Route, RouteResponse,
    RouteSettings, Stage as ApiStage,
};
use crate::resources::cloudwatch::{Alarm, Dashboard, Dimension};
use crate::resources::codedeploy::{
    AlarmConfiguration, AlarmName, Application, AutoRollbackConfiguration, DeploymentGroup,
    DeploymentStyle,
};
use crate::resources::cognito::{
    AccountRecoverySetting, AdminCreateUserConfig, EmailConfiguration, PasswordPolicy,
    RecoveryOption, SchemaAttribute, TokenValidityUnits, UserPool, UserPoolClient,
    UserPoolPolicies, UsernameConfiguration, VerificationMessageTemplate,
};
use crate::resources::events::{RetryPolicy, Rule, S3ObjectCreatedPattern, Target};
use crate::resources::iam::{InlinePolicy, Role};
use crate::resources::lambda::{
    Alias, Code, Destination, DestinationConfig, Environment, EventInvokeConfig, Function,
    Permission, TracingConfig, Version,
};
use crate::resources::logs::{LogGroup, MetricFilter, MetricTransformation};
use crate::resources::sns::{Subscription, Topic};
use crate::resources::sqs::Queue;
use crate::routes::{ROUTES, WEBSOCKET_ROUTES};
use crate::settings::Stage;
use mumble_contract::iam::Resource as Granted;

const HTTP_API: &str = "HttpApi";
const WEBSOCKET_API: &str = "WebSocketApi";
const USER_POOL: &str = "UserPool";
const USER_POOL_CLIENT: &str = "UserPoolClient";
const ALARM_TOPIC: &str = "AlarmTopic";
const DEAD_LETTERS: &str = "DeadLetterQueue";
const CODEDEPLOY_APPLICATION: &str = "CodeDeployApplication";
const CODEDEPLOY_ROLE: &str = "CodeDeployRole";

/// Requests per second (and burst) each HTTP and WebSocket route accepts before answering 429.
const THROTTLE_RATE: f64 = 50.0;
const THROTTLE_BURST: u32 = 100;

/// Fields of one JSON line per message in the WebSocket API's access log.
const WEBSOCKET_ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","time":"$context.requestTime","eventType":"$context.eventType","routeKey":"$context.routeKey","connectionId":"$context.connectionId","status":"$context.status","integrationError":"$context.integrationErrorMessage"}"#;

/// The worker's log line when the stage's daily cap on paid provider calls stops a job (the
/// `event` field of `mumble_core::spending`'s log line).
const PROVIDER_CAP_EVENT: &str = "provider_cap_reached";

/// Fields of one JSON line per request in the HTTP API's access log.
const ACCESS_LOG_FORMAT: &str = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","time":"$context.requestTime","method":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status","latencyMs":"$context.responseLatency","integrationError":"$context.integrationErrorMessage"}"#;

pub fn template(stage: &Stage) -> Template {
    let mut t = Template::new(format!(
        "Mumble {}: functions, APIs, user pool, schedules and alarms",
        stage.name
    ));
    t.parameters.insert(
        "ArtifactsBucket".into(),
        Parameter::string(
            ParameterSource::Output(Output::ArtifactsBucketName),
            "Bucket holding the function zips (the bootstrap stack's output)",
        )
        .pattern("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", "an S3 bucket name"),
    );
    for f in FUNCTIONS {
        t.parameters.insert(
            f.code_key_parameter(),
            Parameter::string(
                ParameterSource::CodeKey { function: f.name },
                format!("Key of the {} function's zip", f.name),
            )
            .pattern(
                format!("^lambdas/{}/[0-9a-f]{{64}}\\.zip$", f.name),
                format!("lambdas/{}/{{sha256}}.zip", f.name),
            ),
        );
    }

    alarm_topic(&mut t, stage);
    // Failed events are also in the functions' logs; the queue only holds them for replay.
    t.add(
        DEAD_LETTERS,
        Resource::new(Queue {
            queue_name: monitoring::dead_letter_queue_name(&stage.name),
            message_retention_period: 14 * 24 * 3600,
            sqs_managed_sse_enabled: true,
        })
        // Failed events of a protected stage outlive its stack; elsewhere they go with it.
        .stateful(stage.protected),
    );
    user_pool(&mut t, stage);
    codedeploy(&mut t, stage);
    for f in FUNCTIONS {
        lambda(&mut t, stage, f);
    }
    http_api(&mut t, stage);
    websocket_api(&mut t, stage);
    triggers(&mut t, stage);
    t.add(
        "DeadLetterQueueDepthAlarm",
        alarm(
            stage,
            monitoring::dead_letter_queue_name(&stage.name),
            "Events that failed every retry are waiting in the dead-letter queue".into(),
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"),
            vec![Dimension {
                name: "QueueName",
                value: Expr::get_att(DEAD_LETTERS, "QueueName"),
            }],
            1.0,
        ),
    );
    t.add(
        "Dashboard",
        Dashboard {
            dashboard_name: monitoring::dashboard_name(&stage.name),
            dashboard_body: monitoring::dashboard_body(&stage.name, HTTP_API, DEAD_LETTERS),
        },
    );

    for written in APP_OUTPUTS {
        output(&mut t, stage, written, own_output(stage, written));
    }
    t
}

/// The outputs this stack writes.
const APP_OUTPUTS: [Output; 6] = [
    Output::HttpApiUrl,
    Output::WebSocketUrl,
    Output::WebSocketManagementUrl,
    Output::UserPoolId,
    Output::UserPoolClientId,
    Output::AlarmTopicArn,
];

/// The value of one of this stack's outputs, or of another stack's as an import: how a
/// function's environment refers to the stage's resources.
fn own_output(stage: &Stage, output: Output) -> Expr {
    match output {
        Output::HttpApiUrl => Expr::get_att(HTTP_API, "ApiEndpoint"),
        Output::WebSocketUrl => {
            Expr::sub(format!("${{{WEBSOCKET_API}.ApiEndpoint}}/{}", stage.name))
        }
        Output::WebSocketManagementUrl => websocket_management_url(stage),
        Output::UserPoolId => Expr::r#ref(USER_POOL),
        Output::UserPoolClientId => Expr::r#ref(USER_POOL_CLIENT),
        Output::AlarmTopicArn => Expr::r#ref(ALARM_TOPIC),
        other => import(stage, other),
    }
}

fn websocket_management_url(stage: &Stage) -> Expr {
    Expr::sub(format!(
        "https://${{{WEBSOCKET_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{}",
        stage.name
    ))
}

fn alarm_topic(t: &mut Template, stage: &Stage) {
    t.add(
        ALARM_TOPIC,
        Topic {
            display_name: format!("Mumble {} alarms", stage.name),
        },
    );
    if let Some(email) = &stage.alarm_email {
        t.add(
            "AlarmEmailSubscription",
            Subscription {
                topic_arn: Expr::r#ref(ALARM_TOPIC),
                protocol: "email",
                endpoint: email.clone(),
            },
        );
    }
}

fn user_pool(t: &mut Template, stage: &Stage) {
    let pool = UserPool {
        user_pool_name: format!("mumble-{}-users", stage.name),
        username_attributes: vec!["email"],
        auto_verified_attributes: vec!["email"],
        username_configuration: UsernameConfiguration {
            case_sensitive: false,
        },
        policies: UserPoolPolicies {
            password_policy: PasswordPolicy {
                minimum_length: 10,
                require_lowercase: true,
                require_uppercase: true,
                require_numbers: true,
                require_symbols: false,
                temporary_password_validity_days: 7,
            },
        },
        schema: vec![SchemaAttribute {
            name: "email",
            attribute_data_type: "String",
            required: true,
            mutable: true,
        }],
        account_recovery_setting: AccountRecoverySetting {
            recovery_mechanisms: vec![RecoveryOption {
                name: "verified_email",
                priority: 1,
            }],
        },
        verification_message_template: VerificationMessageTemplate {
            default_email_option: "CONFIRM_WITH_CODE",
            email_subject: "Your Mumble verification code".into(),
            email_message: "Your Mumble verification code is {####}".into(),
        },
        admin_create_user_config: AdminCreateUserConfig {
            allow_admin_create_user_only: false,
        },
        deletion_protection: if stage.protected {
            "ACTIVE"
        } else {
            "INACTIVE"
        },
        // Users of a protected stage may add an authenticator app as a second factor.
        mfa_configuration: stage.protected.then_some("OPTIONAL"),
        enabled_mfas: if stage.protected {
            vec!["SOFTWARE_TOKEN_MFA"]
        } else {
            Vec::new()
        },
        // Cognito's own sender allows about 50 e-mails a day; a verified SES identity has no
        // such limit.
        email_configuration: stage
            .ses_identity
            .as_ref()
            .map(|identity| EmailConfiguration {
                email_sending_account: "DEVELOPER",
                source_arn: arn(&format!(
                    "ses:${{AWS::Region}}:${{AWS::AccountId}}:identity/{identity}"
                )),
                from: if identity.contains('@') {
                    format!("Mumble <{identity}>")
                } else {
                    format!("Mumble <no-reply@{identity}>")
                },
            }),
    };
    t.add(USER_POOL, Resource::new(pool).stateful(stage.protected));
    t.add(
        USER_POOL_CLIENT,
        UserPoolClient {
            client_name: format!("mumble-{}-site", stage.name),
            user_pool_id: Expr::r#ref(USER_POOL),
            // A browser cannot keep a secret.
            generate_secret: false,
            explicit_auth_flows: vec![
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
                "ALLOW_USER_SRP_AUTH",
            ],
            prevent_user_existence_errors: "ENABLED",
            enable_token_revocation: true,
            supported_identity_providers: vec!["COGNITO"],
            access_token_validity: 60,
            id_token_validity: 60,
            refresh_token_validity: 30,
            token_validity_units: TokenValidityUnits {
                access_token: "minutes",
                id_token: "minutes",
                refresh_token: "days",
            },
        },
    );
}

/// Logical id of a function's resource, e.g. `WorkerFunction`, `WorkerRole`.
fn id(f: &FunctionSpec, suffix: &str) -> String {
    format!("{}{suffix}", f.pascal)
}

/// Logical id of a function's `live` alias: `Ref` gives the alias ARN, what every caller names.
fn alias(f: &FunctionSpec) -> String {
    id(f, "LiveAlias")
}

/// The CodeDeploy application and the role it shifts traffic with, in stages that shift
/// gradually; each function adds its deployment group.
fn codedeploy(t: &mut Template, stage: &Stage) {
    if stage.traffic_shifting.deployment_config().is_none() {
        return;
    }
    t.add(
        CODEDEPLOY_APPLICATION,
        Application {
            application_name: codedeploy_application_name(&stage.name),
            compute_platform: "Lambda",
        },
    );
    let s = &stage.name;
    t.add(
        CODEDEPLOY_ROLE,
        Role {
            role_name: None,
            description: format!("What CodeDeploy may do while it shifts stage {s}'s traffic"),
            assume_role_policy_document: PolicyDocument::new(vec![
                Statement::allow(&["sts:AssumeRole"], vec![])
                    .principal(Principal::service("codedeploy.amazonaws.com")),
            ]),
            policies: vec![InlinePolicy {
                policy_name: format!("mumble-{s}-codedeploy"),
                policy_document: PolicyDocument::new(vec![
                    Statement::allow(
                        &[
                            "lambda:GetAlias",
                            "lambda:UpdateAlias",
                            "lambda:GetProvisionedConcurrencyConfig",
                        ],
                        vec![arn(&format!(
                            "lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:mumble-{s}-*:{LIVE}"
                        ))],
                    )
                    .sid("ShiftLiveAliases"),
                    Statement::allow(
                        &["cloudwatch:DescribeAlarms"],
                        vec![arn(&format!(
                            "cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:mumble-{s}-*"
                        ))],
                    )
                    .sid("WatchAlarms"),
                ]),
            }],
            permissions_boundary: Some(boundary_arn(stage)),
        },
    );
}

/// The function's published version and its `live` alias; in a stage that shifts gradually, the
/// CodeDeploy deployment group that moves the alias, stopped by the function's error and throttle
/// alarms.
fn live_alias(t: &mut Template, stage: &Stage, f: &FunctionSpec, function: &str) {
    // The version's logical id stays the same: its description carries the code key (a hash of
    // the zip), a create-only property, so a new key replaces it, which publishes a version of
    // the updated code. The template stays a function of the stage alone, and a hotswap (which
    // publishes its own version) leaves it unchanged. Old versions are kept, as SAM keeps them:
    // CodeDeploy may still route to the previous one until it has finished, and all versions go
    // with the function.
    let version = t.add(
        f.version_logical_id(),
        Resource::new(Version {
            function_name: Expr::r#ref(function),
            description: Expr::r#ref(f.code_key_parameter()),
        })
        .kept(),
    );
    let mut live = Resource::new(Alias {
        function_name: Expr::r#ref(function),
        function_version: Expr::get_att(&version, "Version"),
        name: LIVE,
        description: format!("What every caller of {} invokes", f.name),
    });
    if let Some(config) = stage.traffic_shifting.deployment_config() {
        let watched = monitoring::ROLLBACK_METRICS.map(|metric| AlarmName {
            name: Expr::r#ref(id(f, &format!("{metric}Alarm"))),
        });
        let group = t.add(
            id(f, "DeploymentGroup"),
            DeploymentGroup {
                application_name: Expr::r#ref(CODEDEPLOY_APPLICATION),
                deployment_group_name: f.deployment_group_name(&stage.name),
                service_role_arn: Expr::get_att(CODEDEPLOY_ROLE, "Arn"),
                deployment_config_name: config,
                deployment_style: DeploymentStyle {
                    deployment_type: "BLUE_GREEN",
                    deployment_option: "WITH_TRAFFIC_CONTROL",
                },
                alarm_configuration: AlarmConfiguration {
                    enabled: true,
                    alarms: watched.into(),
                },
                auto_rollback_configuration: AutoRollbackConfiguration {
                    enabled: true,
                    events: vec!["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"],
                },
            },
        );
        live = live.code_deploy(CODEDEPLOY_APPLICATION, &group);
    }
    t.add(alias(f), live);
}

fn lambda(t: &mut Template, stage: &Stage, f: &FunctionSpec) {
    // Log groups have fixed names: one left behind would block the stack's next creation, so
    // they go with the stack, except in protected stages (never destroyed) where they are evidence.
    let log_group = t.add(
        id(f, "LogGroup"),
        Resource::new(LogGroup {
            log_group_name: f.log_group_name(&stage.name),
            retention_in_days: stage.log_retention_days,
        })
        .stateful(stage.protected),
    );
    let role = t.add(
        id(f, "Role"),
        Role {
            role_name: None,
            description: format!("What the {} function may do", f.name),
            assume_role_policy_document: PolicyDocument::new(vec![
                Statement::allow(&["sts:AssumeRole"], vec![])
                    .principal(Principal::service("lambda.amazonaws.com")),
            ]),
            policies: vec![InlinePolicy {
                policy_name: format!("mumble-{}-{}", stage.name, f.name),
                policy_document: PolicyDocument::new(statements(stage, f, &log_group)),
            }],
            permissions_boundary: Some(boundary_arn(stage)),
        },
    );
    let function = t.add(
        id(f, "Function"),
        Resource::new(Function {
            function_name: f.physical_name(&stage.name),
            description: f.description.to_owned(),
            runtime: "provided.al2023",
            handler: "bootstrap",
            architectures: vec![stage.architecture.as_str()],
            memory_size: stage.memory_mb(f.name),
            timeout: f.timeout_seconds,
            role: Expr::get_att(&role, "Arn"),
            code: Code {
                s3_bucket: Expr::r#ref("ArtifactsBucket"),
                s3_key: Expr::r#ref(f.code_key_parameter()),
            },
            environment: Environment {
                variables: environment(stage, f),
            },
            tracing_config: TracingConfig { mode: "Active" },
            // The worker spends money per run: at most this many run at once.
            reserved_concurrent_executions: (f.name == "worker")
                .then_some(stage.worker_reserved_concurrency),
        })
        // Created first, the log group keeps its retention instead of Lambda creating one without.
        .depends_on(&log_group),
    );
    if f.kind.is_async() {
        let (retries, max_age) = match f.kind {
            // A job may not outlive its timeout; one retry covers a crashed or timed-out run.
            crate::FunctionKind::Async => (1, stage.job_timeout_seconds),
            // The next hourly run does the same work.
            crate::FunctionKind::Schedule => (0, 3600),
            _ => (1, 3600),
        };
        t.add(
            id(f, "InvokeConfig"),
            // Callers invoke the alias, so its settings are the ones that apply.
            Resource::new(EventInvokeConfig {
                function_name: Expr::r#ref(&function),
                qualifier: LIVE,
                maximum_retry_attempts: retries,
                maximum_event_age_in_seconds: max_age,
                destination_config: DestinationConfig {
                    on_failure: Destination {
                        destination: Expr::get_att(DEAD_LETTERS, "Arn"),
                    },
                },
            })
            .depends_on(alias(f)),
        );
    }
    let name = Dimension {
        name: "FunctionName",
        value: Expr::r#ref(&function),
    };
    let timeout_ms = f64::from(f.timeout_seconds) * 1000.0;
    for spec in FUNCTION_ALARMS {
        let threshold = match spec.metric {
            "Duration" => (timeout_ms * 0.9).round(),
            _ => 1.0,
        };
        t.add(
            id(f, &format!("{}Alarm", spec.metric)),
            alarm(
                stage,
                spec.name(&stage.name, f),
                format!("{}: {}", f.name, spec.what),
                ("AWS/Lambda", spec.metric, spec.statistic),
                vec![name.clone()],
                threshold,
            ),
        );
    }
    if f.uses(Uses::ProviderCap) {
        provider_cap_alarm(t, stage, &log_group);
    }
    live_alias(t, stage, f, &function);
}

/// Counts the worker's "daily cap reached" lines and raises an alarm on the first one: from then
/// on every job of the day fails, and someone should decide whether to raise the cap.
fn provider_cap_alarm(t: &mut Template, stage: &Stage, log_group: &str) {
    let namespace = format!("Mumble/{}", stage.name);
    t.add(
        "ProviderCapMetricFilter",
        MetricFilter {
            log_group_name: Expr::r#ref(log_group),
            filter_pattern: format!("{{ $.event = \"{PROVIDER_CAP_EVENT}\" }}"),
            metric_transformations: vec![MetricTransformation {
                metric_namespace: namespace.clone(),
                metric_name: "ProviderCapReached",
                metric_value: "1",
            }],
        },
    );
    let mut cap = alarm(
        stage,
        monitoring::provider_cap_alarm_name(&stage.name),
        format!(
            "The daily cap of {} paid provider calls is reached: jobs fail until 00:00 UTC",
            stage.max_provider_calls_per_day
        ),
        ("", "ProviderCapReached", "Sum"),
        Vec::new(),
        1.0,
    );
    cap.namespace = namespace;
    t.add("ProviderCapAlarm", cap);
}

fn alarm(
    stage: &Stage,
    alarm_name: String,
    description: String,
    (namespace, metric_name, statistic): (&'static str, &'static str, &'static str),
    dimensions: Vec<Dimension>,
    threshold: f64,
) -> Alarm {
    let mut actions = vec![Expr::r#ref(ALARM_TOPIC)];
    if let Some(topic) = &stage.alarm_topic_arn {
        actions.push(Expr::lit(topic.as_str()));
    }
    Alarm {
        alarm_name,
        alarm_description: description,
        namespace: namespace.to_owned(),
        metric_name,
        dimensions,
        statistic,
        period: monitoring::PERIOD_SECONDS,
        evaluation_periods: 1,
        threshold,
        comparison_operator: "GreaterThanOrEqualToThreshold",
        treat_missing_data: "notBreaching",
        ok_actions: actions.clone(),
        alarm_actions: actions,
    }
}

/// The function's variables as CloudFormation values (`crate::environment` decides them).
fn environment(stage: &Stage, f: &FunctionSpec) -> IndexMap<&'static str, Expr> {
    crate::environment::environment(stage, f)
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                Value::Literal(value) => Expr::lit(value),
                Value::Output(output) => own_output(stage, output),
            };
            (name, value)
        })
        .collect()
}

/// The function's policy: its log group, and only the tables, key prefixes, parameters and
/// endpoints its spec names.
fn statements(stage: &Stage, f: &FunctionSpec, log_group: &str) -> Vec<Statement> {
    let mut statements = vec![
        Statement::allow(
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![Expr::get_att(log_group, "Arn")],
        )
        .sid("WriteLogs"),
        // X-Ray accepts trace segments only on `*`.
        Statement::allow(
            &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            vec![Expr::lit("*")],
        )
        .sid("WriteTraces"),
    ];
    // One statement per resource, with every action any of the function's operations takes there.
    let mut by_resource: IndexMap<Granted, Vec<&str>> = IndexMap::new();
    for grant in f.grants() {
        let actions = by_resource.entry(grant.on).or_default();
        for action in grant.actions {
            if !actions.contains(action) {
                actions.push(action);
            }
        }
    }
    for (resource, mut actions) in by_resource {
        actions.sort_unstable();
        statements.push(statement(stage, f, resource, &actions));
    }
    if f.kind.is_async() {
        statements.push(
            Statement::allow(
                &["sqs:SendMessage"],
                vec![Expr::get_att(DEAD_LETTERS, "Arn")],
            )
            .sid("ReportFailedEvents"),
        );
    }
    statements
}

/// The statement allowing `actions` on one of the stage's resources.
fn statement(stage: &Stage, f: &FunctionSpec, resource: Granted, actions: &[&str]) -> Statement {
    let bucket_arn = || import(stage, Output::MediaBucketArn);
    match resource {
        Granted::Table { table, index } => {
            let table_arn = import(stage, table.arn_output());
            let name = table_name_for_sid(table);
            if index {
                let indexes = Expr::sub_with("${Table}/index/*", [("Table", table_arn)]);
                Statement::allow(actions, vec![indexes]).sid(format!("{name}Indexes"))
            } else {
                Statement::allow(actions, vec![table_arn]).sid(format!("{name}Table"))
            }
        }
        Granted::MediaObjects { prefix } => {
            let objects = Expr::sub_with(format!("${{Bucket}}/{prefix}*"), [("Bucket", bucket_arn())]);
            Statement::allow(actions, vec![objects]).sid(format!("{}Objects", sid_for_prefix(prefix)))
        }
        Granted::MediaListing { prefix } => Statement::allow(actions, vec![bucket_arn()])
            .sid(format!("List{}", sid_for_prefix(prefix)))
            .when("StringLike", "s3:prefix", format!("{prefix}*")),
        Granted::Secrets => {
            let parameters = f
                .secrets
                .iter()
                .map(|secret| {
                    arn(&format!(
                        "ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{}",
                        secret.parameter_name(&stage.name)
                    ))
                })
                .collect();
            Statement::allow(actions, parameters).sid("ReadSecrets")
        }
        Granted::Worker => {
            let worker = function("worker").expect("the worker is declared");
            Statement::allow(
                actions,
                vec![arn(&format!(
                    "lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{}",
                    worker.live_name(&stage.name)
                ))],
            )
            .sid("StartWorker")
        }
        Granted::Connections => Statement::allow(
            actions,
            vec![arn(&format!(
                "execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{WEBSOCKET_API}}}/{}/*/@connections/*",
                stage.name
            ))],
        )
        .sid("PushToConnections"),
    }
}

fn table_name_for_sid(table: Table) -> &'static str {
    table.logical_id().trim_end_matches("Table")
}

/// `thumbnails/` → `Thumbnails`.
fn sid_for_prefix(prefix: &str) -> String {
    let name = prefix.trim_end_matches('/');
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// `getImage` → `GetImage`.
fn pascal(camel: &str) -> String {
    sid_for_prefix(camel)
}

fn http_api(t: &mut Template, stage: &Stage) {
    let api = Expr::r#ref(HTTP_API);
    t.add(
        HTTP_API,
        Api {
            name: format!("mumble-{}-http", stage.name),
            description: format!("Mumble {} HTTP API", stage.name),
            protocol_type: "HTTP",
            route_selection_expression: None,
            cors_configuration: Some(Cors {
                allow_origins: stage.cors_origins.clone(),
                allow_methods: vec!["GET", "POST", "PUT", "DELETE", "OPTIONS"],
                allow_headers: vec!["authorization", "content-type", "idempotency-key"],
                max_age: 600,
            }),
        },
    );
    let authorizer = t.add(
        "HttpApiAuthorizer",
        Authorizer {
            api_id: api.clone(),
            name: "cognito".into(),
            authorizer_type: "JWT",
            identity_source: vec!["$request.header.Authorization"],
            jwt_configuration: JwtConfiguration {
                audience: vec![Expr::r#ref(USER_POOL_CLIENT)],
                issuer: Expr::sub(format!(
                    "https://cognito-idp.${{AWS::Region}}.${{AWS::URLSuffix}}/${{{USER_POOL}}}"
                )),
            },
        },
    );
    let mut integrations = IndexMap::new();
    for route in ROUTES {
        let f = function(route.function).expect("every route names a declared function");
        let integration = integrations
            .entry(f.name)
            .or_insert_with(|| {
                t.add(
                    id(f, "Integration"),
                    Integration {
                        api_id: api.clone(),
                        integration_type: "AWS_PROXY",
                        integration_uri: Expr::r#ref(alias(f)),
                        payload_format_version: Some("2.0"),
                        timeout_in_millis: None,
                    },
                )
            })
            .clone();
        let route_id = pascal(route.operation_id);
        t.add(
            format!("{route_id}Route"),
            Route {
                api_id: api.clone(),
                route_key: route.key(),
                target: Expr::sub(format!("integrations/${{{integration}}}")),
                authorization_type: if route.auth { "JWT" } else { "NONE" },
                authorizer_id: route.auth.then(|| Expr::r#ref(&authorizer)),
                operation_name: Some(route.operation_id.to_owned()),
                route_response_selection_expression: None,
            },
        );
        let path: Vec<&str> = route
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "*" } else { s })
            .collect();
        t.add(
            format!("{route_id}Permission"),
            Permission {
                function_name: Expr::r#ref(alias(f)),
                action: "lambda:InvokeFunction",
                principal: "apigateway.amazonaws.com",
                source_arn: arn(&format!(
                    "execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{HTTP_API}}}/*/{}{}",
                    route.method.as_str(),
                    path.join("/")
                )),
            },
        );
    }
    let access_log_settings = stage.access_logs.then(|| {
        let log_group = t.add(
            "HttpApiAccessLogGroup",
            Resource::new(LogGroup {
                log_group_name: format!("/aws/apigateway/mumble-{}-http", stage.name),
                retention_in_days: stage.log_retention_days,
            })
            .stateful(stage.protected),
        );
        AccessLogSettings {
            destination_arn: Expr::get_att(log_group, "Arn"),
            format: ACCESS_LOG_FORMAT.into(),
        }
    });
    t.add(
        "HttpApiStage",
        ApiStage {
            api_id: api,
            stage_name: "$default".into(),
            auto_deploy: true,
            default_route_settings: RouteSettings {
                throttling_burst_limit: THROTTLE_BURST,
                throttling_rate_limit: THROTTLE_RATE,
            },
            access_log_settings,
        },
    );
}

/// `$connect` carries the Cognito token in the `token` query string. The websocket function
/// verifies it itself and answers 401 to refuse the connection: WebSocket APIs have no JWT
/// authorizer, so an authorizer would be one more Lambda running the same verification, and the
/// function needs the verified user id anyway to record the connection.
fn websocket_api(t: &mut Template, stage: &Stage) {
    let api = Expr::r#ref(WEBSOCKET_API);
    t.add(
        WEBSOCKET_API,
        Api {
            name: format!("mumble-{}-websocket", stage.name),
            description: format!("Mumble {} live job updates", stage.name),
            protocol_type: "WEBSOCKET",
            route_selection_expression: Some("$request.body.action"),
            cors_configuration: None,
        },
    );
    let f = function("websocket").expect("the websocket function is declared");
    let integration = t.add(
        "WebSocketIntegration",
        Integration {
            api_id: api.clone(),
            integration_type: "AWS_PROXY",
            integration_uri: arn(&format!(
                "apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{}}}/invocations",
                alias(f)
            )),
            payload_format_version: None,
            timeout_in_millis: Some(f.timeout_seconds * 1000),
        },
    );
    let mut route_ids = Vec::new();
    for route in WEBSOCKET_ROUTES {
        debug_assert_eq!(route.function, f.name);
        let name = pascal(route.key.trim_start_matches('$'));
        let route_id = t.add(
            format!("WebSocket{name}Route"),
            Route {
                api_id: api.clone(),
                route_key: route.key.to_owned(),
                target: Expr::sub(format!("integrations/${{{integration}}}")),
                authorization_type: "NONE",
                authorizer_id: None,
                operation_name: None,
                route_response_selection_expression: route.replies.then_some("$default"),
            },
        );
        if route.replies {
            t.add(
                format!("WebSocket{name}RouteResponse"),
                RouteResponse {
                    api_id: api.clone(),
                    route_id: Expr::r#ref(&route_id),
                    route_response_key: "$default",
                },
            );
        }
        route_ids.push(route_id);
    }
    let access_log_settings = stage.access_logs.then(|| {
        let log_group = t.add(
            "WebSocketAccessLogGroup",
            Resource::new(LogGroup {
                log_group_name: format!("/aws/apigateway/mumble-{}-websocket", stage.name),
                retention_in_days: stage.log_retention_days,
            })
            .stateful(stage.protected),
        );
        AccessLogSettings {
            destination_arn: Expr::get_att(log_group, "Arn"),
            format: WEBSOCKET_ACCESS_LOG_FORMAT.into(),
        }
    });
    let mut stage_resource = Resource::new(ApiStage {
        api_id: api,
        stage_name: stage.name.clone(),
        auto_deploy: true,
        default_route_settings: RouteSettings {
            throttling_burst_limit: THROTTLE_BURST,
            throttling_rate_limit: THROTTLE_RATE,
        },
        access_log_settings,
    });
    // An auto-deployed stage created before any route would deploy an empty API and fail.
    for route in route_ids {
        stage_resource = stage_resource.depends_on(route);
    }
    t.add("WebSocketStage", stage_resource);
    t.add(
        "WebSocketPermission",
        Permission {
            function_name: Expr::r#ref(alias(f)),
            action: "lambda:InvokeFunction",
            principal: "apigateway.amazonaws.com",
            source_arn: arn(&format!(
                "execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{{WEBSOCKET_API}}}/{}/*",
                stage.name
            )),
        },
    );
}

/// The hourly cleanup and the image processor's trigger.
fn triggers(t: &mut Template, stage: &Stage) {
    let cleanup = function("cleanup").expect("the cleanup function is declared");
    let schedule = t.add(
        "CleanupSchedule",
        Rule {
            name: format!("mumble-{}-cleanup", stage.name),
            description: "Runs the cleanup function every hour".into(),
            state: "ENABLED",
            schedule_expression: Some("rate(1 hour)".into()),
            event_pattern: None,
            targets: vec![Target {
                id: "cleanup".into(),
                arn: Expr::r#ref(alias(cleanup)),
                retry_policy: None,
            }],
        },
    );
    t.add(
        "CleanupSchedulePermission",
        Permission {
            function_name: Expr::r#ref(alias(cleanup)),
            action: "lambda:InvokeFunction",
            principal: "events.amazonaws.com",
            source_arn: Expr::get_att(schedule, "Arn"),
        },
    );

    // The media bucket (data stack) sends its events to EventBridge; matching them here instead of
    // in a bucket notification keeps the data stack free of references to this stack's function.
    let processor = function("image-processor").expect("the image processor is declared");
    let rule = t.add(
        "ImageCreatedRule",
        Rule {
            name: format!("mumble-{}-image-created", stage.name),
            description: "Sends new images to the image processor".into(),
            state: "ENABLED",
            schedule_expression: None,
            event_pattern: Some(S3ObjectCreatedPattern::new(
                import(stage, Output::MediaBucketName),
                "images/",
            )),
            targets: vec![Target {
                id: "image-processor".into(),
                arn: Expr::r#ref(alias(processor)),
                retry_policy: Some(RetryPolicy {
                    maximum_retry_attempts: 2,
                    maximum_event_age_in_seconds: 3600,
                }),
            }],
        },
    );
    t.add(
        "ImageCreatedPermission",
        Permission {
            function_name: Expr::r#ref(alias(processor)),
            action: "lambda:InvokeFunction",
            principal: "events.amazonaws.com",
            source_arn: Expr::get_att(rule, "Arn"),
        },
    );
}
