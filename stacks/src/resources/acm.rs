//! ACM certificates.

use serde::Serialize;

use crate::cfn::Expr;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Certificate {
    pub domain_name: String,
    pub validation_method: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domain_validation_options: Vec<DomainValidationOption>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DomainValidationOption {
    pub domain_name: String,
    pub hosted_zone_id: Expr,
}
