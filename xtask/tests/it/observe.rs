//! `cargo xtask logs` and `status`, the real binary against the emulator: log events in the shape
//! the functions log them (mumble_core::telemetry), metrics, alarms and jobs put there first,
//! each test on its own personal stage.
//!
//! One file over 500 lines: `logs` and `status` share the stage, the seeded log events and the
//! metric helpers.

use std::process::{Command, Output};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDatum, StateValue, Statistic,
};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use stacks::monitoring;

async fn emulator_config() -> SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("set AWS_ENDPOINT_URL (run through `cargo xtask test`)");
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "AWS_ENDPOINT_URL must point at the local emulator on 127.0.0.1, not {endpoint}"
    );
    // Personal stages copy dev, whose region this is.
    let settings = stacks::Settings::load(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(stacks::settings::DEFAULT_PATH),
    )
    .unwrap();
    let region = settings.stage("dev").unwrap().region;
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region))
        .load()
        .await
}

fn new_stage() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run the xtask binary")
}

fn stdout(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json_lines(output: &Output, what: &str) -> Vec<Value> {
    stdout(output, what)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

fn log_group(stage: &str, function: &str) -> String {
    stacks::functions::function(function)
        .unwrap()
        .log_group_name(stage)
}

/// Writes `(milliseconds ago, message)` events into a function's log group.
async fn put_logs(
    config: &SdkConfig,
    stage: &str,
    function: &str,
    now: i64,
    events: &[(i64, String)],
) {
    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    let group = log_group(stage, function);
    let _ = logs.create_log_group().log_group_name(&group).send().await;
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name("2026/05/01/[$LATEST]abc")
        .send()
        .await
        .unwrap();
    let mut events: Vec<_> = events.to_vec();
    events.sort_by_key(|(ago, _)| -ago);
    logs.put_log_events()
        .log_group_name(&group)
        .log_stream_name("2026/05/01/[$LATEST]abc")
        .set_log_events(Some(
            events
                .iter()
                .map(|(ago, message)| {
                    InputLogEvent::builder()
                        .timestamp(now - ago)
                        .message(message)
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
}

/// A line as `mumble_core::telemetry` writes it inside Lambda's invocation span and `spans`.
fn json_line(
    level: &str,
    message: &str,
    fields: Value,
    lambda_request: &str,
    span: Value,
) -> String {
    let mut line = json!({
        "timestamp": "2026-05-01T12:00:00.000000Z",
        "level": level,
        "message": message,
        "spans": [{"name": "Lambda runtime invoke", "requestId": lambda_request}],
    });
    for (key, value) in fields.as_object().unwrap() {
        line[key] = value.clone();
    }
    if !span.is_null() {
        line["spans"].as_array_mut().unwrap().push(span);
    }
    line.to_string()
}

const USER: &str = "4f9a1c0d2b7e6a35";

/// One picture's way through generate, worker and image-processor, and another job beside it.
/// Returns when "now" was for the events, in milliseconds.
async fn one_picture(config: &SdkConfig, stage: &str, job: &str, other: &str) -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    let job_span = json!({"name": "job", "job_id": job, "user": USER});
    let request_span = json!({"name": "request", "request_id": "api-1", "user": USER});
    put_logs(config, stage, "generate", now, &[
        (60_000, "START RequestId: lam-gen-1 Version: $LATEST".into()),
        (59_990, json_line("INFO", "job queued", json!({"job_id": job, "user": USER}), "lam-gen-1", request_span)),
        (59_980, json_line("INFO", "request", json!({"request_id": "api-1", "user": USER, "route": "POST /api/v1/generate", "status": 202, "latency_ms": 35}), "lam-gen-1", Value::Null)),
        (59_970, "REPORT RequestId: lam-gen-1\tDuration: 35.00 ms\tBilled Duration: 36 ms\tMemory Size: 256 MB\tMax Memory Used: 30 MB\t".into()),
        (50_000, json_line("INFO", "job queued", json!({"job_id": other, "user": USER}), "lam-gen-2", json!({"name": "request", "request_id": "api-2"}))),
    ]).await;
    put_logs(config, stage, "worker", now, &[
        (59_000, "START RequestId: lam-work-1 Version: $LATEST".into()),
        (58_900, json_line("INFO", "job advanced", json!({"status": "transcribing"}), "lam-work-1", job_span.clone())),
        (55_000, json_line("WARN", "no weather; the picture is made without it", json!({"error": "HTTP 500 from upstream"}), "lam-work-1", job_span.clone())),
        (45_000, json_line("ERROR", "storage failed; the invocation will be retried", json!({"error": "throttled"}), "lam-work-2", json!({"name": "job", "job_id": other}))),
        (40_000, json_line("INFO", "job done", json!({"image_id": job}), "lam-work-1", job_span.clone())),
        (39_990, "REPORT RequestId: lam-work-1\tDuration: 19010.00 ms\tBilled Duration: 19011 ms\tMemory Size: 512 MB\tMax Memory Used: 60 MB\tInit Duration: 80.00 ms\t".into()),
    ]).await;
    put_logs(config, stage, "image-processor", now, &[
        (39_000, json_line("INFO", "object created", json!({"bucket": "media", "key": format!("images/u-1/{job}.png"), "size": 1000}), "lam-img-1", job_span.clone())),
        (38_500, json_line("INFO", "processed", json!({"thumbnails": 1, "broken": 0, "ignored": 0}), "lam-img-1", job_span)),
        (38_490, "REPORT RequestId: lam-img-1\tDuration: 500.00 ms\tBilled Duration: 501 ms\tMemory Size: 1024 MB\tMax Memory Used: 90 MB\t".into()),
    ]).await;
    now
}

fn timestamps_ascend(lines: &[Value]) {
    let times: Vec<&str> = lines
        .iter()
        .map(|l| l["timestamp"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "lines in time order");
}

#[tokio::test]
async fn logs_merge_functions_in_time_order_and_filter() {
    let config = emulator_config().await;
    let stage = new_stage();
    let now = one_picture(&config, &stage, "job-a", "job-b").await;

    let all = json_lines(
        &xtask(&[
            "logs", "--stage", &stage, "--since", "10m", "--output", "json",
        ]),
        "logs",
    );
    assert_eq!(all.len(), 14, "every line of the three groups: {all:#?}");
    timestamps_ascend(&all);
    let functions: Vec<&str> = all
        .iter()
        .map(|l| l["function"].as_str().unwrap())
        .collect();
    assert_eq!(
        &functions[..6],
        [
            "generate", "generate", "generate", "generate", "worker", "worker"
        ]
    );
    assert_eq!(all[1]["message"], "job queued");
    assert_eq!(all[1]["request_id"], "api-1", "the HTTP API's request id");
    assert_eq!(all[1]["job_id"], "job-a");
    assert_eq!(all[1]["user"], USER);

    let warnings = stdout(
        &xtask(&[
            "logs",
            "--stage",
            &stage,
            "--function",
            "worker",
            "--level",
            "warn",
        ]),
        "logs --level warn",
    );
    let warnings: Vec<&str> = warnings.lines().collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(warnings[0].contains(" worker WARN  lam-work-1 no weather; the picture is made without it job_id=job-a user=4f9a1c0d2b7e6a35 error=\"HTTP 500 from upstream\""), "{}", warnings[0]);
    assert!(
        warnings[1].contains("ERROR") && warnings[1].contains("job_id=job-b"),
        "{}",
        warnings[1]
    );

    let done = json_lines(
        &xtask(&[
            "logs", "--stage", &stage, "--filter", "job done", "--output", "json",
        ]),
        "logs --filter",
    );
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["fields"]["image_id"], "job-a");

    let request = json_lines(
        &xtask(&[
            "logs",
            "--stage",
            &stage,
            "--request-id",
            "api-1",
            "--output",
            "json",
        ]),
        "logs --request-id",
    );
    let messages: Vec<&str> = request
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["job queued", "request"]);

    let since = chrono::DateTime::from_timestamp_millis(now - 42_000)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let recent = json_lines(
        &xtask(&[
            "logs", "--stage", &stage, "--since", &since, "--output", "json",
        ]),
        "logs --since",
    );
    assert_eq!(recent.len(), 5, "only the lines since {since}: {recent:#?}");

    let wrong = xtask(&["logs", "--stage", &stage, "--function", "wrker"]);
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("no function `wrker`") && stderr.contains("image-processor"),
        "{stderr}"
    );
}

#[tokio::test]
async fn logs_of_a_job_follow_it_across_three_functions() {
    let config = emulator_config().await;
    let stage = new_stage();
    one_picture(&config, &stage, "job-c", "job-d").await;

    let lines = json_lines(
        &xtask(&[
            "logs", "--stage", &stage, "--job", "job-c", "--output", "json",
        ]),
        "logs --job",
    );
    timestamps_ascend(&lines);
    let shown: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["function"].as_str().unwrap(),
                l["message"].as_str().unwrap(),
            )
        })
        .collect();
    let report = |id: &str| {
        shown
            .iter()
            .any(|(_, m)| m.starts_with(&format!("REPORT RequestId: {id}")))
    };
    assert_eq!(shown[1], ("generate", "job queued"));
    assert_eq!(
        shown[2],
        ("generate", "request"),
        "the request that made the job"
    );
    assert!(
        report("lam-gen-1") && report("lam-work-1") && report("lam-img-1"),
        "{shown:#?}"
    );
    assert!(shown.contains(&("worker", "job done")));
    assert!(shown.contains(&("image-processor", "processed")));
    assert_eq!(lines.len(), 12, "{shown:#?}");
    assert!(
        lines.iter().all(|l| !l.to_string().contains("job-d")),
        "nothing of the other job"
    );

    let missing = xtask(&["logs", "--stage", &new_stage(), "--job", "job-c"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("deploy it first"));
}

async fn put_metric(
    config: &SdkConfig,
    namespace: &str,
    name: &str,
    dimension: (&str, &str),
    values: &[f64],
) {
    let now = AwsTime::from_secs(chrono::Utc::now().timestamp() - 120);
    aws_sdk_cloudwatch::Client::new(config)
        .put_metric_data()
        .namespace(namespace)
        .set_metric_data(Some(
            values
                .iter()
                .map(|value| {
                    MetricDatum::builder()
                        .metric_name(name)
                        .dimensions(
                            Dimension::builder()
                                .name(dimension.0)
                                .value(dimension.1)
                                .build(),
                        )
                        .timestamp(now)
                        .value(*value)
                        .build()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
}

/// A data stack with a jobs table and an app stack with the HTTP API's URL, as outputs.
async fn stacks_with_outputs(config: &SdkConfig, stage: &str, api_id: &str) -> String {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let table = format!("{stage}-jobs");
    let data = json!({
        "Resources": {"JobsTable": {"Type": "AWS::DynamoDB::Table", "Properties": {
            "TableName": table, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "jobId", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "jobId", "KeyType": "HASH"}]}}},
        "Outputs": {"JobsTableName": {"Value": {"Ref": "JobsTable"}}}
    });
    let app = json!({
        "Resources": {"AlarmTopic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"HttpApiUrl": {"Value": format!("https://{api_id}.execute-api.us-east-1.amazonaws.com")}}
    });
    for (part, template) in [("data", data), ("app", app)] {
        cfn.create_stack()
            .stack_name(format!("mumble-{stage}-{part}"))
            .template_body(template.to_string())
            .send()
            .await
            .unwrap();
    }
    table
}

#[tokio::test]
async fn status_reports_known_figures_and_fails_on_an_alarm() {
    let config = emulator_config().await;
    let stage = new_stage();
    let api_id = format!("api{}", &stage[1..7]);
    let table = stacks_with_outputs(&config, &stage, &api_id).await;

    let now = chrono::Utc::now();
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let jobs = [
        ("done", 5),
        ("done", 10),
        ("failed", 20),
        ("generating", 1),
        ("queued", 0),
        ("done", 60 * 48),
    ];
    for (i, (status, minutes_ago)) in jobs.into_iter().enumerate() {
        let created = (now - chrono::TimeDelta::minutes(minutes_ago))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        dynamodb
            .put_item()
            .table_name(&table)
            .item("jobId", AttributeValue::S(format!("job-{i}")))
            .item("status", AttributeValue::S(status.into()))
            .item("createdAt", AttributeValue::S(created))
            .send()
            .await
            .unwrap();
    }

    let worker = format!("mumble-{stage}-worker");
    put_metric(
        &config,
        "AWS/Lambda",
        "Invocations",
        ("FunctionName", &worker),
        &[4.0, 6.0],
    )
    .await;
    put_metric(
        &config,
        "AWS/Lambda",
        "Errors",
        ("FunctionName", &worker),
        &[2.0],
    )
    .await;
    let durations: Vec<f64> = (1..=100).map(f64::from).collect();
    put_metric(
        &config,
        "AWS/Lambda",
        "Duration",
        ("FunctionName", &worker),
        &durations,
    )
    .await;
    put_metric(
        &config,
        "AWS/ApiGateway",
        "Count",
        ("ApiId", &api_id),
        &[600.0, 400.0],
    )
    .await;
    put_metric(
        &config,
        "AWS/ApiGateway",
        "4xx",
        ("ApiId", &api_id),
        &[10.0],
    )
    .await;
    put_metric(&config, "AWS/ApiGateway", "5xx", ("ApiId", &api_id), &[2.0]).await;
    let latencies: Vec<f64> = (1..=20).map(|n| f64::from(n) * 30.0).collect();
    put_metric(
        &config,
        "AWS/ApiGateway",
        "Latency",
        ("ApiId", &api_id),
        &latencies,
    )
    .await;
    let queue = monitoring::dead_letter_queue_name(&stage);
    put_metric(
        &config,
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        ("QueueName", &queue),
        &[3.0],
    )
    .await;
    put_logs(
        &config,
        &stage,
        "worker",
        chrono::Utc::now().timestamp_millis(),
        &[
            (
                50_000,
                "REPORT RequestId: a\tDuration: 10.00 ms\tInit Duration: 80.00 ms\t".into(),
            ),
            (40_000, "REPORT RequestId: b\tDuration: 10.00 ms\t".into()),
            (
                30_000,
                "REPORT RequestId: c\tDuration: 10.00 ms\tInit Duration: 120.00 ms\t".into(),
            ),
        ],
    )
    .await;

    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    let spec = stacks::functions::function("worker").unwrap();
    let errors_alarm = monitoring::FUNCTION_ALARMS[0].name(&stage, spec);
    let health_alarm =
        monitoring::FUNCTION_ALARMS[0].name(&stage, stacks::functions::function("health").unwrap());
    for name in [&errors_alarm, &health_alarm] {
        cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/Lambda")
            .metric_name("Errors")
            .statistic(Statistic::Sum)
            .period(300)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .send()
            .await
            .unwrap();
    }
    let set = |state: StateValue| {
        cloudwatch
            .set_alarm_state()
            .alarm_name(&errors_alarm)
            .state_value(state)
            .state_reason("Threshold Crossed: 1 datapoint [2.0] was >= 1.0")
            .send()
    };
    set(StateValue::Alarm).await.unwrap();

    let output = xtask(&[
        "status", "--stage", &stage, "--since", "1h", "--output", "json",
    ]);
    assert!(
        !output.status.success(),
        "an alarm in ALARM fails the command"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("1 alarm in ALARM: {errors_alarm}")),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("the report is JSON");
    assert_eq!(
        report["alarms"][0]["name"],
        errors_alarm.as_str(),
        "ALARM first"
    );
    assert_eq!(report["alarms"][0]["state"], "ALARM");
    let figures = report["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "worker")
        .unwrap();
    assert_eq!(figures["invocations"], 10.0);
    assert_eq!(figures["errors"], 2.0);
    assert_eq!(figures["p50Ms"], 50.0);
    assert_eq!(figures["p95Ms"], 95.0);
    assert_eq!(figures["p99Ms"], 99.0);
    assert_eq!(figures["coldStarts"], 2);
    assert_eq!(figures["initMsAverage"], 100.0);
    let api = &report["httpApi"];
    assert_eq!(api["apiId"], api_id.as_str());
    assert_eq!(api["requests"], 1000.0);
    assert_eq!(api["clientErrors"], 10.0);
    assert_eq!(api["serverErrors"], 2.0);
    assert_eq!(api["p95Ms"], 570.0);
    assert_eq!(report["availabilityPercent"], 99.8);
    assert_eq!(report["deadLetters"], 3.0);
    assert_eq!(
        report["jobs"],
        json!({"queued": 1, "running": 1, "done": 2, "failed": 1})
    );
    let stacks: Vec<(&str, &str)> = report["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| Some((s["name"].as_str()?, s["status"].as_str()?)))
        .collect();
    assert_eq!(
        stacks,
        [
            (format!("mumble-{stage}-data").as_str(), "CREATE_COMPLETE"),
            (format!("mumble-{stage}-app").as_str(), "CREATE_COMPLETE")
        ]
    );

    set(StateValue::Ok).await.unwrap();
    let text = stdout(
        &xtask(&["status", "--stage", &stage, "--since", "1h"]),
        "status",
    );
    assert!(text.contains("alarms: 0 in ALARM, 2 OK"), "{text}");
    assert!(
        text.contains("1000 requests, 10 4xx, 2 5xx, p95 570 ms (target 500 ms: missed)"),
        "{text}"
    );
    assert!(text.contains("99.80 % (target 99.9 %: missed)"), "{text}");
    assert!(
        text.contains(&monitoring::dashboard_url(&stage, "us-east-1")),
        "{text}"
    );
    let worker_row = text.lines().find(|l| l.starts_with("worker ")).unwrap();
    let cells: Vec<&str> = worker_row.split_whitespace().collect();
    assert_eq!(
        cells,
        ["worker", "10", "2", "-", "50", "95", "99", "2", "100"]
    );
}
