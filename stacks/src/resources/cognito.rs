//! Cognito user pools and app clients.

use serde::Serialize;

use crate::cfn::Expr;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPool {
    pub user_pool_name: String,
    pub username_attributes: Vec<&'static str>,
    pub auto_verified_attributes: Vec<&'static str>,
    pub username_configuration: UsernameConfiguration,
    pub policies: UserPoolPolicies,
    pub schema: Vec<SchemaAttribute>,
    pub account_recovery_setting: AccountRecoverySetting,
    pub verification_message_template: VerificationMessageTemplate,
    pub admin_create_user_config: AdminCreateUserConfig,
    pub deletion_protection: &'static str,
    /// `OPTIONAL`: each user may turn on a second factor. Left out for CloudFormation's default,
    /// `OFF`, which YAML 1.1 readers (CloudFormation's among them) would take for `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_configuration: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enabled_mfas: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_configuration: Option<EmailConfiguration>,
}

/// Mail sent through a verified SES identity instead of Cognito's own, limited sender.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmailConfiguration {
    pub email_sending_account: &'static str,
    pub source_arn: Expr,
    pub from: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsernameConfiguration {
    pub case_sensitive: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolPolicies {
    pub password_policy: PasswordPolicy,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    pub minimum_length: u32,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    pub temporary_password_validity_days: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaAttribute {
    pub name: &'static str,
    pub attribute_data_type: &'static str,
    pub required: bool,
    pub mutable: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountRecoverySetting {
    pub recovery_mechanisms: Vec<RecoveryOption>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecoveryOption {
    pub name: &'static str,
    pub priority: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerificationMessageTemplate {
    pub default_email_option: &'static str,
    pub email_subject: String,
    pub email_message: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminCreateUserConfig {
    pub allow_admin_create_user_only: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolClient {
    pub client_name: String,
    pub user_pool_id: Expr,
    pub generate_secret: bool,
    pub explicit_auth_flows: Vec<&'static str>,
    pub prevent_user_existence_errors: &'static str,
    pub enable_token_revocation: bool,
    pub supported_identity_providers: Vec<&'static str>,
    pub access_token_validity: u32,
    pub id_token_validity: u32,
    pub refresh_token_validity: u32,
    pub token_validity_units: TokenValidityUnits,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenValidityUnits {
    pub access_token: &'static str,
    pub id_token: &'static str,
    pub refresh_token: &'static str,
}
