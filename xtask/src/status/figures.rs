//! The figures `status` reads: alarm states (DescribeAlarms), metrics over the window
//! (GetMetricData), cold starts (Lambda's REPORT lines) and jobs by state (the jobs table).

use std::collections::HashMap;

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, StateValue};
use chrono::{DateTime, Utc};
use serde::Serialize;
use stacks::monitoring::{self, LATENCY_TARGET_MS};
use stacks::{FUNCTIONS, FunctionSpec};

use stacks::Output;

use crate::outputs::StageOutputs;
use crate::{aws, logs};

/// Points in each sparkline.
const BUCKETS: i64 = 12;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alarm {
    pub name: String,
    /// `ALARM`, `OK` or `INSUFFICIENT_DATA`.
    pub state: String,
    pub reason: String,
    pub since: Option<DateTime<Utc>>,
}

/// The stage's alarms as CloudWatch has them, those in ALARM first.
pub async fn alarms(config: &SdkConfig, stage: &str) -> Result<Vec<Alarm>> {
    let client = aws_sdk_cloudwatch::Client::new(config);
    let mut alarms = Vec::new();
    // DescribeAlarms takes up to 100 names per call.
    for names in monitoring::alarm_names(stage).chunks(100) {
        let mut token = None;
        loop {
            let page = client
                .describe_alarms()
                .set_alarm_names(Some(names.to_vec()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(aws::sdk_error)
                .context("cannot read the stage's alarms (cloudwatch:DescribeAlarms)")?;
            for alarm in page.metric_alarms() {
                alarms.push(Alarm {
                    name: alarm.alarm_name().unwrap_or_default().to_owned(),
                    state: alarm
                        .state_value()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                    reason: alarm.state_reason().unwrap_or_default().to_owned(),
                    since: alarm
                        .state_updated_timestamp()
                        .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
                });
            }
            match page.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
    }
    let rank = |state: &str| match state {
        s if s == StateValue::Alarm.as_str() => 0,
        s if s == StateValue::InsufficientData.as_str() => 1,
        _ => 2,
    };
    alarms.sort_by(|a, b| (rank(&a.state), &a.name).cmp(&(rank(&b.state), &b.name)));
    Ok(alarms)
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionFigures {
    pub name: String,
    pub invocations: Option<f64>,
    pub errors: Option<f64>,
    pub throttles: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Invocations that started a new instance (REPORT lines with an init duration).
    pub cold_starts: Option<u64>,
    pub init_ms_average: Option<f64>,
    /// Errors and p95 duration per twelfth of the window, oldest first.
    pub errors_series: Vec<Option<f64>>,
    pub p95_series: Vec<Option<f64>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Api {
    pub api_id: String,
    pub requests: f64,
    pub client_errors: f64,
    pub server_errors: f64,
    pub p95_ms: Option<f64>,
    pub p95_target_ms: f64,
}

impl Api {
    /// Percent of requests answered without a 5xx.
    pub fn availability(&self) -> Option<f64> {
        (self.requests > 0.0).then(|| 100.0 * (self.requests - self.server_errors) / self.requests)
    }
}

pub struct Metrics {
    pub functions: Vec<FunctionFigures>,
    pub http_api: Option<Api>,
    pub dead_letters: Option<f64>,
}

/// One GetMetricData query: an id, a metric and a statistic.
struct Query {
    id: String,
    namespace: &'static str,
    metric: &'static str,
    dimension: (&'static str, String),
    stat: &'static str,
}

impl Query {
    fn build(&self, period: i32) -> MetricDataQuery {
        let (name, value) = &self.dimension;
        MetricDataQuery::builder()
            .id(&self.id)
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(self.namespace)
                            .metric_name(self.metric)
                            .dimensions(Dimension::builder().name(*name).value(value).build())
                            .build(),
                    )
                    .period(period)
                    .stat(self.stat)
                    .build(),
            )
            .return_data(true)
            .build()
    }
}

/// Values by query id, oldest first, one per period that had data.
async fn fetch(
    client: &aws_sdk_cloudwatch::Client,
    queries: &[Query],
    period: i64,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Result<HashMap<String, Vec<(DateTime<Utc>, f64)>>> {
    let mut values: HashMap<String, Vec<(DateTime<Utc>, f64)>> = HashMap::new();
    let period = i32::try_from(period).context("the window is too long")?;
    // GetMetricData takes up to 500 queries per call.
    for chunk in queries.chunks(500) {
        let mut token = None;
        loop {
            let page = client
                .get_metric_data()
                .set_metric_data_queries(Some(chunk.iter().map(|q| q.build(period)).collect()))
                .start_time(aws_smithy_time(start))
                .end_time(aws_smithy_time(end))
                .scan_by(aws_sdk_cloudwatch::types::ScanBy::TimestampAscending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(aws::sdk_error)
                .context("cannot read the stage's metrics (cloudwatch:GetMetricData)")?;
            for result in page.metric_data_results() {
                let entry = values
                    .entry(result.id().unwrap_or_default().to_owned())
                    .or_default();
                for (time, value) in result.timestamps().iter().zip(result.values()) {
                    if let Some(time) = DateTime::from_timestamp(time.secs(), 0) {
                        entry.push((time, *value));
                    }
                }
            }
            match page.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
    }
    for series in values.values_mut() {
        series.sort_by_key(|(time, _)| *time);
    }
    Ok(values)
}

fn aws_smithy_time(time: DateTime<Utc>) -> aws_sdk_cloudwatch::primitives::DateTime {
    aws_sdk_cloudwatch::primitives::DateTime::from_secs(time.timestamp())
}

/// The HTTP API's id: the first label of the `HttpApiUrl` output's host.
fn api_id(outputs: &StageOutputs) -> Option<String> {
    let url = outputs.get(Output::HttpApiUrl)?;
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    Some(host.split('.').next()?.to_owned())
}

/// Per function, the HTTP API and the dead-letter queue, over the window.
pub async fn metrics(
    config: &SdkConfig,
    stage: &str,
    outputs: &StageOutputs,
    (since, until): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Metrics> {
    let client = aws_sdk_cloudwatch::Client::new(config);
    // Periods are whole minutes; the window is stretched back to fit them.
    let seconds = (until - since).num_seconds().max(60);
    let minutes = |seconds: i64| (seconds + 59) / 60 * 60;
    let whole = minutes(seconds);
    let bucket = minutes((seconds + BUCKETS - 1) / BUCKETS);

    let lambda = |f: &FunctionSpec, i: usize, metric, stat, suffix: &str| Query {
        id: format!("f{i}{suffix}"),
        namespace: "AWS/Lambda",
        metric,
        dimension: ("FunctionName", f.physical_name(stage)),
        stat,
    };
    let mut totals = Vec::new();
    let mut series = Vec::new();
    for (i, f) in FUNCTIONS.iter().enumerate() {
        totals.push(lambda(f, i, "Invocations", "Sum", "calls"));
        totals.push(lambda(f, i, "Errors", "Sum", "errors"));
        totals.push(lambda(f, i, "Throttles", "Sum", "throttles"));
        totals.push(lambda(f, i, "Duration", "p50", "p50"));
        totals.push(lambda(f, i, "Duration", "p95", "p95"));
        totals.push(lambda(f, i, "Duration", "p99", "p99"));
        series.push(lambda(f, i, "Errors", "Sum", "errors"));
        series.push(lambda(f, i, "Duration", "p95", "p95"));
    }
    let api = api_id(outputs);
    if let Some(api) = &api {
        let query = |id: &str, metric, stat| Query {
            id: id.to_owned(),
            namespace: "AWS/ApiGateway",
            metric,
            dimension: ("ApiId", api.clone()),
            stat,
        };
        totals.push(query("apiCount", "Count", "Sum"));
        totals.push(query("api4xx", "4xx", "Sum"));
        totals.push(query("api5xx", "5xx", "Sum"));
        totals.push(query("apiP95", "Latency", "p95"));
    }
    series.push(Query {
        id: "deadLetters".into(),
        namespace: "AWS/SQS",
        metric: "ApproximateNumberOfMessagesVisible",
        dimension: ("QueueName", monitoring::dead_letter_queue_name(stage)),
        stat: "Maximum",
    });

    let total = fetch(
        &client,
        &totals,
        whole,
        (until - chrono::TimeDelta::seconds(whole), until),
    )
    .await?;
    let start = until - chrono::TimeDelta::seconds(bucket * BUCKETS);
    let over_time = fetch(&client, &series, bucket, (start, until)).await?;

    // No data points is "no data", not zero (and an empty f64 sum is -0).
    let sum = |id: &str| {
        total
            .get(id)
            .filter(|v| !v.is_empty())
            .map(|v| v.iter().map(|(_, x)| x).sum::<f64>())
    };
    // One period covers the window; if the service split it, the worst period stands.
    let worst = |id: &str| {
        total
            .get(id)
            .and_then(|v| v.iter().map(|(_, x)| *x).reduce(f64::max))
    };
    let buckets = |id: &str| -> Vec<Option<f64>> {
        let points = over_time.get(id);
        (0..BUCKETS)
            .map(|n| {
                let from = start + chrono::TimeDelta::seconds(bucket * n);
                let to = from + chrono::TimeDelta::seconds(bucket);
                points.and_then(|p| {
                    p.iter()
                        .filter(|(t, _)| *t >= from && *t < to)
                        .map(|(_, x)| *x)
                        .reduce(f64::max)
                })
            })
            .collect()
    };
    let functions = FUNCTIONS
        .iter()
        .enumerate()
        .map(|(i, f)| FunctionFigures {
            name: f.name.to_owned(),
            invocations: sum(&format!("f{i}calls")),
            errors: sum(&format!("f{i}errors")),
            throttles: sum(&format!("f{i}throttles")),
            p50_ms: worst(&format!("f{i}p50")),
            p95_ms: worst(&format!("f{i}p95")),
            p99_ms: worst(&format!("f{i}p99")),
            cold_starts: None,
            init_ms_average: None,
            errors_series: buckets(&format!("f{i}errors")),
            p95_series: buckets(&format!("f{i}p95")),
        })
        .collect();
    let http_api = api.map(|api_id| Api {
        api_id,
        requests: sum("apiCount").unwrap_or(0.0),
        client_errors: sum("api4xx").unwrap_or(0.0),
        server_errors: sum("api5xx").unwrap_or(0.0),
        p95_ms: worst("apiP95"),
        p95_target_ms: LATENCY_TARGET_MS,
    });
    let dead_letters = over_time
        .get("deadLetters")
        .and_then(|points| points.last())
        .map(|(_, value)| *value);
    Ok(Metrics {
        functions,
        http_api,
        dead_letters,
    })
}

/// Cold starts per function from Lambda's REPORT lines, which carry `Init Duration` only then.
pub async fn cold_starts(
    config: &SdkConfig,
    stage: &str,
    window: (DateTime<Utc>, DateTime<Utc>),
    functions: &mut [FunctionFigures],
) -> Result<()> {
    let mut reader = logs::Reader::new(config);
    for figures in functions.iter_mut() {
        let Some(f) = stacks::functions::function(&figures.name) else {
            continue;
        };
        let group = f.log_group_name(stage);
        let lines = reader
            .read(f, &group, Some("\"Init Duration\""), window)
            .await?;
        if reader.missing.contains(&group) {
            continue;
        }
        let inits: Vec<f64> = lines
            .iter()
            .filter(|line| line.raw.starts_with("REPORT"))
            .filter_map(|line| init_duration(&line.raw))
            .collect();
        figures.cold_starts = Some(inits.len() as u64);
        figures.init_ms_average =
            (!inits.is_empty()).then(|| inits.iter().sum::<f64>() / inits.len() as f64);
    }
    Ok(())
}

/// `Init Duration: 41.23 ms` of a REPORT line.
fn init_duration(report: &str) -> Option<f64> {
    let rest = report.split("Init Duration: ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

#[derive(Debug, Default, Serialize)]
pub struct Jobs {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
}

/// Jobs created since `since`, by state. The attribute names are those of `mumble_core::store::jobs::Job`
/// (serde, camelCase).
pub async fn jobs(
    config: &SdkConfig,
    stage: &stacks::Stage,
    outputs: &StageOutputs,
    since: DateTime<Utc>,
) -> Result<Option<Jobs>> {
    let Some(table) = outputs.get(Output::JobsTableName) else {
        return Ok(None);
    };
    let client = aws_sdk_dynamodb::Client::new(config);
    let mut jobs = Jobs::default();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .projection_expression("#status, createdAt")
            .expression_attribute_names("#status", "status")
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| {
                format!(
                    "cannot read the jobs of stage `{}` (dynamodb:Scan on {table})",
                    stage.name
                )
            })?;
        for item in page.items() {
            let text = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
            };
            let created = text("createdAt")
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            if created.is_none_or(|created| created < since) {
                continue;
            }
            match text("status").unwrap_or_default() {
                "queued" => jobs.queued += 1,
                "done" => jobs.done += 1,
                "failed" => jobs.failed += 1,
                _ => jobs.running += 1,
            }
        }
        match page.last_evaluated_key() {
            Some(key) if !key.is_empty() => start = Some(key.clone()),
            _ => break,
        }
    }
    Ok(Some(jobs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_duration_is_read_from_a_report_line() {
        let line = "REPORT RequestId: 1\tDuration: 3.10 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 41.23 ms\t";
        assert_eq!(init_duration(line), Some(41.23));
        assert_eq!(
            init_duration("REPORT RequestId: 1\tDuration: 3.10 ms"),
            None
        );
    }

    #[test]
    fn the_api_id_is_the_first_label_of_its_url() {
        let mut outputs = StageOutputs::default();
        outputs.stacks.insert(
            "mumble-dev-app".into(),
            [(
                "HttpApiUrl".to_owned(),
                "https://a1b2c3.execute-api.eu-west-1.amazonaws.com".to_owned(),
            )]
            .into(),
        );
        assert_eq!(api_id(&outputs).as_deref(), Some("a1b2c3"));
    }
}
