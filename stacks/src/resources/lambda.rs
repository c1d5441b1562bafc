//! Lambda functions, invoke permissions and asynchronous invocation settings.

use indexmap::IndexMap;
use serde::Serialize;

use crate::cfn::Expr;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Function {
    pub function_name: String,
    pub description: String,
    pub runtime: &'static str,
    pub handler: &'static str,
    pub architectures: Vec<&'static str>,
    pub memory_size: u32,
    pub timeout: u32,
    pub role: Expr,
    pub code: Code,
    pub environment: Environment,
    pub tracing_config: TracingConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Code {
    pub s3_bucket: Expr,
    pub s3_key: Expr,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    pub variables: IndexMap<&'static str, Expr>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TracingConfig {
    pub mode: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Permission {
    pub function_name: Expr,
    pub action: &'static str,
    pub principal: &'static str,
    pub source_arn: Expr,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventInvokeConfig {
    pub function_name: Expr,
    pub qualifier: &'static str,
    pub maximum_retry_attempts: u32,
    pub maximum_event_age_in_seconds: u32,
    pub destination_config: DestinationConfig,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationConfig {
    pub on_failure: Destination,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Destination {
    pub destination: Expr,
}

/// A published, immutable version of a function's code and configuration.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    pub function_name: Expr,
    /// Create-only: a new value replaces the resource, which publishes a new version.
    pub description: Expr,
}

/// A name that points at a version (`live`: what every caller invokes).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alias {
    pub function_name: Expr,
    pub function_version: Expr,
    pub name: &'static str,
    pub description: String,
}
