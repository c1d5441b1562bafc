//! What watches a stage, named once for the app stack and for `cargo xtask status`: the alarms,
//! the dead-letter queue, the dashboard, and the targets the figures are held against.

use serde_json::{Value, json};

use crate::cfn::Expr;
use crate::functions::{FUNCTIONS, FunctionSpec};

/// 95 % of HTTP API requests answer within this many milliseconds.
pub const LATENCY_TARGET_MS: f64 = 500.0;
/// Percent of HTTP API requests answered without a 5xx.
pub const AVAILABILITY_TARGET_PERCENT: f64 = 99.9;
/// Seconds per alarm evaluation and per dashboard datapoint.
pub const PERIOD_SECONDS: u32 = 300;

/// One alarm every function has, on one `AWS/Lambda` metric.
#[derive(Clone, Copy, Debug)]
pub struct FunctionAlarm {
    pub metric: &'static str,
    /// The last word of the alarm's name.
    pub suffix: &'static str,
    pub statistic: &'static str,
    /// What the alarm means, for its description.
    pub what: &'static str,
}

pub const FUNCTION_ALARMS: [FunctionAlarm; 3] = [
    FunctionAlarm {
        metric: "Errors",
        suffix: "errors",
        statistic: "Sum",
        what: "failed invocations",
    },
    FunctionAlarm {
        metric: "Duration",
        suffix: "duration",
        statistic: "Maximum",
        what: "invocations ran within 10% of the timeout",
    },
    FunctionAlarm {
        metric: "Throttles",
        suffix: "throttles",
        statistic: "Sum",
        what: "throttled invocations",
    },
];

/// The metrics of the alarms that stop a function's traffic shifting (CodeDeploy rolls back).
pub const ROLLBACK_METRICS: [&str; 2] = ["Errors", "Throttles"];

/// The names of the alarms that stop the function's traffic shifting.
pub fn rollback_alarm_names(stage: &str, f: &FunctionSpec) -> Vec<String> {
    FUNCTION_ALARMS
        .iter()
        .filter(|alarm| ROLLBACK_METRICS.contains(&alarm.metric))
        .map(|alarm| alarm.name(stage, f))
        .collect()
}

impl FunctionAlarm {
    /// `mumble-{stage}-{function}-{suffix}`.
    pub fn name(&self, stage: &str, f: &FunctionSpec) -> String {
        format!("mumble-{stage}-{}-{}", f.name, self.suffix)
    }
}

/// The queue holding events that failed every retry (and the name of its alarm).
pub fn dead_letter_queue_name(stage: &str) -> String {
    format!("mumble-{stage}-dead-letters")
}

/// The alarm raised when the stage's daily cap of paid provider calls is reached.
pub fn provider_cap_alarm_name(stage: &str) -> String {
    format!("mumble-{stage}-provider-cap")
}

/// Every alarm of the app stack.
pub fn alarm_names(stage: &str) -> Vec<String> {
    FUNCTIONS
        .iter()
        .flat_map(|f| FUNCTION_ALARMS.iter().map(move |a| a.name(stage, f)))
        .chain([dead_letter_queue_name(stage)])
        .chain(
            FUNCTIONS
                .iter()
                .any(|f| f.uses(crate::functions::Uses::ProviderCap))
                .then(|| provider_cap_alarm_name(stage)),
        )
        .collect()
}

pub fn dashboard_name(stage: &str) -> String {
    format!("mumble-{stage}")
}

/// The dashboard in the CloudWatch console.
pub fn dashboard_url(stage: &str, region: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{}",
        dashboard_name(stage)
    )
}

/// The dashboard's JSON as a `Fn::Sub` string. `http_api` and `dead_letters` are the logical ids
/// of the HTTP API and the dead-letter queue, whose physical ids the widgets name.
pub fn dashboard_body(stage: &str, http_api: &str, dead_letters: &str) -> Expr {
    let region = "${AWS::Region}";
    let api = format!("${{{http_api}}}");
    let queue = format!("${{{dead_letters}.QueueName}}");
    let metric = |title: &str, metrics: Vec<Value>, x: u32, y: u32, width: u32| {
        json!({
            "type": "metric", "x": x, "y": y, "width": width, "height": 6,
            "properties": {
                "title": title, "region": region, "view": "timeSeries", "stacked": false,
                "period": PERIOD_SECONDS, "metrics": metrics,
            }
        })
    };
    let alarms: Vec<String> = alarm_names(stage)
        .into_iter()
        .map(|name| {
            format!("arn:${{AWS::Partition}}:cloudwatch:{region}:${{AWS::AccountId}}:alarm:{name}")
        })
        .collect();
    let mut widgets = vec![
        json!({
            "type": "alarm", "x": 0, "y": 0, "width": 24, "height": 4,
            "properties": {"title": "Alarms", "alarms": alarms, "sortBy": "stateUpdatedTimestamp"}
        }),
        metric(
            "HTTP API: requests, 4xx, 5xx and availability (%)",
            vec![
                json!(["AWS/ApiGateway", "Count", "ApiId", api, {"stat": "Sum", "id": "requests"}]),
                json!(["AWS/ApiGateway", "4xx", "ApiId", api, {"stat": "Sum", "id": "clientErrors"}]),
                json!(["AWS/ApiGateway", "5xx", "ApiId", api, {"stat": "Sum", "id": "serverErrors"}]),
                json!([{
                    "expression": "100 * (1 - serverErrors / requests)",
                    "label": format!("availability % (target {AVAILABILITY_TARGET_PERCENT})"),
                    "id": "availability", "yAxis": "right"
                }]),
            ],
            0,
            4,
            8,
        ),
        {
            let mut latency = metric(
                "HTTP API: latency (ms)",
                vec![
                    json!(["AWS/ApiGateway", "Latency", "ApiId", api, {"stat": "p95"}]),
                    json!(["AWS/ApiGateway", "Latency", "ApiId", api, {"stat": "p50"}]),
                ],
                8,
                4,
                8,
            );
            latency["properties"]["annotations"] = json!({
                "horizontal": [{"label": "p95 target", "value": LATENCY_TARGET_MS}]
            });
            latency
        },
        metric(
            "Dead-letter queue: events waiting",
            vec![json!([
                "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue,
                {"stat": "Maximum"}
            ])],
            16,
            4,
            8,
        ),
    ];
    let sources: Vec<String> = FUNCTIONS
        .iter()
        .map(|f| format!("SOURCE '{}'", f.log_group_name(stage)))
        .collect();
    widgets.push(json!({
        "type": "log", "x": 0, "y": 10, "width": 24, "height": 6,
        "properties": {
            "title": "Cold starts and init duration (ms) by function",
            "region": region, "view": "table",
            "query": format!(
                "{} | filter @type = \"REPORT\" and ispresent(@initDuration) \
                 | stats count(*) as coldStarts, avg(@initDuration) as avgInit, \
                 max(@initDuration) as maxInit by @log",
                sources.join(" | ")
            ),
        }
    }));
    for (row, f) in (0u32..).zip(FUNCTIONS) {
        let name = f.physical_name(stage);
        let y = 16 + row * 6;
        let lambda = |metric: &str, stat: &str| json!(["AWS/Lambda", metric, "FunctionName", name, {"stat": stat}]);
        widgets.push(metric(
            &format!("{}: invocations, errors, throttles", f.name),
            vec![
                lambda("Invocations", "Sum"),
                lambda("Errors", "Sum"),
                lambda("Throttles", "Sum"),
            ],
            0,
            y,
            12,
        ));
        widgets.push(metric(
            &format!("{}: duration (ms)", f.name),
            vec![
                lambda("Duration", "p50"),
                lambda("Duration", "p95"),
                lambda("Duration", "p99"),
            ],
            12,
            y,
            12,
        ));
    }
    Expr::sub(json!({ "widgets": widgets }).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alarm_names_are_those_of_every_function_the_queue_and_the_provider_cap() {
        let names = alarm_names("dev");
        assert_eq!(names.len(), FUNCTIONS.len() * 3 + 2);
        assert!(names.contains(&"mumble-dev-provider-cap".to_owned()));
        assert!(names.contains(&"mumble-dev-worker-errors".to_owned()));
        assert!(names.contains(&"mumble-dev-dead-letters".to_owned()));
    }
}
