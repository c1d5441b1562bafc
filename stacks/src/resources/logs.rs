//! CloudWatch Logs log groups and the metric filters that count lines in them.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    pub log_group_name: String,
    pub retention_in_days: u32,
}

/// Counts the log lines matching a pattern as a CloudWatch metric.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricFilter {
    pub log_group_name: crate::cfn::Expr,
    pub filter_pattern: String,
    pub metric_transformations: Vec<MetricTransformation>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricTransformation {
    pub metric_namespace: String,
    pub metric_name: &'static str,
    pub metric_value: &'static str,
}
