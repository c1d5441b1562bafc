//! CloudFront distributions, origin access control and response-headers policies.

use serde::Serialize;

use crate::cfn::Expr;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Distribution {
    pub distribution_config: DistributionConfig,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfig {
    pub enabled: bool,
    pub comment: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    pub default_root_object: &'static str,
    pub http_version: &'static str,
    #[serde(rename = "IPV6Enabled")]
    pub ipv6_enabled: bool,
    pub price_class: &'static str,
    pub origins: Vec<Origin>,
    pub default_cache_behavior: CacheBehavior,
    pub custom_error_responses: Vec<CustomErrorResponse>,
    pub viewer_certificate: ViewerCertificate,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Origin {
    pub id: &'static str,
    pub domain_name: Expr,
    pub origin_access_control_id: Expr,
    pub s3_origin_config: S3OriginConfig,
}

/// With origin access control the (legacy) origin access identity stays empty.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3OriginConfig {
    pub origin_access_identity: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheBehavior {
    pub target_origin_id: &'static str,
    pub viewer_protocol_policy: &'static str,
    pub allowed_methods: Vec<&'static str>,
    pub cached_methods: Vec<&'static str>,
    pub compress: bool,
    pub cache_policy_id: &'static str,
    pub response_headers_policy_id: Expr,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomErrorResponse {
    pub error_code: u16,
    pub response_code: u16,
    pub response_page_path: &'static str,
    #[serde(rename = "ErrorCachingMinTTL")]
    pub error_caching_min_ttl: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ViewerCertificate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_front_default_certificate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acm_certificate_arn: Option<Expr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl_support_method: Option<&'static str>,
    pub minimum_protocol_version: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessControl {
    pub origin_access_control_config: OriginAccessControlConfig,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessControlConfig {
    pub name: String,
    pub description: String,
    pub origin_access_control_origin_type: &'static str,
    pub signing_behavior: &'static str,
    pub signing_protocol: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseHeadersPolicy {
    pub response_headers_policy_config: ResponseHeadersPolicyConfig,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseHeadersPolicyConfig {
    pub name: String,
    pub comment: String,
    pub security_headers_config: SecurityHeadersConfig,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityHeadersConfig {
    pub strict_transport_security: StrictTransportSecurity,
    pub content_security_policy: ContentSecurityPolicy,
    pub content_type_options: Override,
    pub frame_options: FrameOptions,
    pub referrer_policy: ReferrerPolicy,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StrictTransportSecurity {
    pub access_control_max_age_sec: u32,
    pub include_subdomains: bool,
    pub preload: bool,
    pub r#override: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContentSecurityPolicy {
    pub content_security_policy: Expr,
    pub r#override: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Override {
    pub r#override: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FrameOptions {
    pub frame_option: &'static str,
    pub r#override: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReferrerPolicy {
    pub referrer_policy: &'static str,
    pub r#override: bool,
}
