//! IAM roles, managed policies and OIDC identity providers.

use serde::Serialize;

use crate::cfn::Expr;
use crate::cfn::iam::PolicyDocument;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    pub description: String,
    pub assume_role_policy_document: PolicyDocument,
    pub policies: Vec<InlinePolicy>,
    /// The stage's boundary: the most any role the stacks make may do, whatever its policies say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<Expr>,
}

/// A customer managed policy (the stage's permissions boundary).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ManagedPolicy {
    pub managed_policy_name: String,
    pub description: String,
    pub policy_document: PolicyDocument,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    pub policy_name: String,
    pub policy_document: PolicyDocument,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OidcProvider {
    pub url: &'static str,
    pub client_id_list: Vec<&'static str>,
}
