//! Route 53 record sets.

use serde::Serialize;

use crate::cfn::Expr;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecordSet {
    pub hosted_zone_id: String,
    pub name: String,
    #[serde(rename = "Type")]
    pub record_type: &'static str,
    pub alias_target: AliasTarget,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasTarget {
    #[serde(rename = "DNSName")]
    pub dns_name: Expr,
    pub hosted_zone_id: &'static str,
    pub evaluate_target_health: bool,
}
