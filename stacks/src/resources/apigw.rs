//! API Gateway v2: HTTP and WebSocket APIs, authorizers, integrations, routes, stages.

use serde::Serialize;

use crate::cfn::Expr;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Api {
    pub name: String,
    pub description: String,
    pub protocol_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_selection_expression: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<Cors>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_methods: Vec<&'static str>,
    pub allow_headers: Vec<&'static str>,
    pub max_age: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Authorizer {
    pub api_id: Expr,
    pub name: String,
    pub authorizer_type: &'static str,
    pub identity_source: Vec<&'static str>,
    pub jwt_configuration: JwtConfiguration,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct JwtConfiguration {
    pub audience: Vec<Expr>,
    pub issuer: Expr,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Integration {
    pub api_id: Expr,
    pub integration_type: &'static str,
    pub integration_uri: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload_format_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_in_millis: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    pub api_id: Expr,
    pub route_key: String,
    pub target: Expr,
    pub authorization_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_name: Option<String>,
    /// `$default` makes a WebSocket route two-way: the function's reply goes back to the client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_response_selection_expression: Option<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteResponse {
    pub api_id: Expr,
    pub route_id: Expr,
    pub route_response_key: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stage {
    pub api_id: Expr,
    pub stage_name: String,
    pub auto_deploy: bool,
    pub default_route_settings: RouteSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log_settings: Option<AccessLogSettings>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteSettings {
    pub throttling_burst_limit: u32,
    pub throttling_rate_limit: f64,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLogSettings {
    pub destination_arn: Expr,
    pub format: String,
}
