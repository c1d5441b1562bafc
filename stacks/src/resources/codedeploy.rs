//! CodeDeploy's application and deployment groups: how a protected stage's `live` aliases shift
//! traffic to a new version, stopped and rolled back by alarms.

use serde::Serialize;

use crate::cfn::Expr;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Application {
    pub application_name: String,
    pub compute_platform: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentGroup {
    pub application_name: Expr,
    pub deployment_group_name: String,
    pub service_role_arn: Expr,
    pub deployment_config_name: String,
    pub deployment_style: DeploymentStyle,
    pub alarm_configuration: AlarmConfiguration,
    pub auto_rollback_configuration: AutoRollbackConfiguration,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeploymentStyle {
    pub deployment_type: &'static str,
    pub deployment_option: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmConfiguration {
    pub enabled: bool,
    pub alarms: Vec<AlarmName>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmName {
    pub name: Expr,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AutoRollbackConfiguration {
    pub enabled: bool,
    pub events: Vec<&'static str>,
}
