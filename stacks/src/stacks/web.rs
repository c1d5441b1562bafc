//! The site: a private bucket served by CloudFront over HTTPS, with security headers and, when the
//! stage has a domain, its certificate and DNS records.

use mumble_contract::Output;

use super::{import, output};
use crate::cfn::iam::{PolicyDocument, Principal, Statement, deny_insecure_transport};
use crate::cfn::{Expr, Parameter, ParameterSource, Resource, Template};
use crate::resources::cloudfront::{
    CacheBehavior, ContentSecurityPolicy, CustomErrorResponse, Distribution, DistributionConfig,
    FrameOptions, Origin, OriginAccessControl, OriginAccessControlConfig, Override, ReferrerPolicy,
    ResponseHeadersPolicy, ResponseHeadersPolicyConfig, S3OriginConfig, SecurityHeadersConfig,
    StrictTransportSecurity, ViewerCertificate,
};
use crate::resources::route53::{AliasTarget, RecordSet};
use crate::resources::s3::{Bucket, BucketPolicy};
use crate::settings::Stage;

const SITE_BUCKET: &str = "SiteBucket";
const DISTRIBUTION: &str = "Distribution";

/// AWS's managed "CachingOptimized" cache policy.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/// The hosted zone id of every CloudFront distribution, for Route 53 alias records.
const CLOUDFRONT_ZONE: &str = "Z2FDTNDATAQYW2";

pub fn template(stage: &Stage) -> Template {
    let mut t = Template::new(format!("Mumble {}: site and CDN", stage.name));
    if stage.domain.is_some() {
        t.parameters.insert(
            "CertificateArn".into(),
            Parameter::string(
                ParameterSource::Output(Output::CertificateArn),
                "The site's certificate in us-east-1 (the cert stack's output)",
            )
            .pattern(
                "^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$",
                "an ACM certificate ARN in us-east-1",
            ),
        );
    }

    t.add(
        SITE_BUCKET,
        // Versioned: a release records the version of every site file, and a rollback copies
        // those versions back.
        Resource::new(Bucket::private().versioned()).stateful(stage.protected),
    );
    let oac = t.add(
        "OriginAccessControl",
        OriginAccessControl {
            origin_access_control_config: OriginAccessControlConfig {
                name: format!("mumble-{}-site", stage.name),
                description: "CloudFront signs its requests to the site bucket".into(),
                origin_access_control_origin_type: "s3",
                signing_behavior: "always",
                signing_protocol: "sigv4",
            },
        },
    );
    let headers = t.add("SecurityHeaders", security_headers(stage));
    t.add(
        DISTRIBUTION,
        Distribution {
            distribution_config: DistributionConfig {
                enabled: true,
                comment: format!("Mumble {} site", stage.name),
                aliases: stage.domain.iter().map(|d| d.name.clone()).collect(),
                default_root_object: "index.html",
                http_version: "http2and3",
                ipv6_enabled: true,
                price_class: "PriceClass_100",
                origins: vec![Origin {
                    id: "site",
                    domain_name: Expr::get_att(SITE_BUCKET, "RegionalDomainName"),
                    origin_access_control_id: Expr::get_att(&oac, "Id"),
                    s3_origin_config: S3OriginConfig {
                        origin_access_identity: "",
                    },
                }],
                default_cache_behavior: CacheBehavior {
                    target_origin_id: "site",
                    viewer_protocol_policy: "redirect-to-https",
                    allowed_methods: vec!["GET", "HEAD"],
                    cached_methods: vec!["GET", "HEAD"],
                    compress: true,
                    cache_policy_id: CACHING_OPTIMIZED,
                    response_headers_policy_id: Expr::r#ref(&headers),
                },
                // The site routes in the browser: unknown paths (403 from a private bucket, or 404)
                // get the app shell.
                custom_error_responses: [403, 404]
                    .into_iter()
                    .map(|error_code| CustomErrorResponse {
                        error_code,
                        response_code: 200,
                        response_page_path: "/index.html",
                        error_caching_min_ttl: 0,
                    })
                    .collect(),
                viewer_certificate: match stage.domain {
                    Some(_) => ViewerCertificate {
                        cloud_front_default_certificate: None,
                        acm_certificate_arn: Some(Expr::r#ref("CertificateArn")),
                        ssl_support_method: Some("sni-only"),
                        minimum_protocol_version: "TLSv1.2_2021",
                    },
                    None => ViewerCertificate {
                        cloud_front_default_certificate: Some(true),
                        acm_certificate_arn: None,
                        ssl_support_method: None,
                        minimum_protocol_version: "TLSv1",
                    },
                },
            },
        },
    );
    t.add(
        "SiteBucketPolicy",
        BucketPolicy {
            bucket: Expr::r#ref(SITE_BUCKET),
            policy_document: PolicyDocument::new(vec![
                Statement::allow(&["s3:GetObject"], vec![Expr::sub("${SiteBucket.Arn}/*")])
                    .sid("CloudFrontReadsSite")
                    .principal(Principal::service("cloudfront.amazonaws.com"))
                    .when(
                        "StringEquals",
                        "AWS:SourceArn",
                        Expr::sub(
                            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}",
                        ),
                    ),
                deny_insecure_transport(Expr::get_att(SITE_BUCKET, "Arn")),
            ]),
        },
    );

    if let Some(domain) = &stage.domain
        && let Some(zone) = &domain.hosted_zone_id
    {
        for (id, record_type) in [("SiteRecordIpv4", "A"), ("SiteRecordIpv6", "AAAA")] {
            t.add(
                id,
                RecordSet {
                    hosted_zone_id: zone.clone(),
                    name: domain.name.clone(),
                    record_type,
                    alias_target: AliasTarget {
                        dns_name: Expr::get_att(DISTRIBUTION, "DomainName"),
                        hosted_zone_id: CLOUDFRONT_ZONE,
                        evaluate_target_health: false,
                    },
                },
            );
        }
    }

    output(
        &mut t,
        stage,
        Output::SiteBucketName,
        Expr::r#ref(SITE_BUCKET),
    );
    output(
        &mut t,
        stage,
        Output::DistributionId,
        Expr::r#ref(DISTRIBUTION),
    );
    output(
        &mut t,
        stage,
        Output::DistributionDomainName,
        Expr::get_att(DISTRIBUTION, "DomainName"),
    );
    let site_url = match &stage.domain {
        Some(domain) => Expr::lit(format!("https://{}", domain.name)),
        None => Expr::sub("https://${Distribution.DomainName}"),
    };
    output(&mut t, stage, Output::SiteUrl, site_url);
    t
}

/// HSTS, nosniff, frame-deny, and a content security policy that lets the page talk only to
/// itself, this stage's APIs, Cognito and the media bucket (presigned uploads and images).
fn security_headers(stage: &Stage) -> ResponseHeadersPolicy {
    let media = "https://${MediaBucket}.s3.${AWS::Region}.${AWS::URLSuffix}";
    let policy = Expr::sub_with(
        [
            "default-src 'self'".to_owned(),
            "script-src 'self'".to_owned(),
            "style-src 'self'".to_owned(),
            format!("img-src 'self' data: blob: {media}"),
            format!("media-src 'self' data: blob: {media}"),
            format!(
                "connect-src 'self' ${{HttpApi}} ${{WebSocket}} https://cognito-idp.${{AWS::Region}}.${{AWS::URLSuffix}} {media}"
            ),
            "font-src 'self'".to_owned(),
            "object-src 'none'".to_owned(),
            "base-uri 'self'".to_owned(),
            "form-action 'self'".to_owned(),
            "frame-ancestors 'none'".to_owned(),
        ]
        .join("; "),
        [
            ("HttpApi", import(stage, Output::HttpApiUrl)),
            ("WebSocket", import(stage, Output::WebSocketUrl)),
            ("MediaBucket", import(stage, Output::MediaBucketName)),
        ],
    );
    ResponseHeadersPolicy {
        response_headers_policy_config: ResponseHeadersPolicyConfig {
            name: format!("mumble-{}-security-headers", stage.name),
            comment: format!("Mumble {} security headers", stage.name),
            security_headers_config: SecurityHeadersConfig {
                strict_transport_security: StrictTransportSecurity {
                    access_control_max_age_sec: 63_072_000,
                    include_subdomains: true,
                    preload: false,
                    r#override: true,
                },
                content_security_policy: ContentSecurityPolicy {
                    content_security_policy: policy,
                    r#override: true,
                },
                content_type_options: Override { r#override: true },
                frame_options: FrameOptions {
                    frame_option: "DENY",
                    r#override: true,
                },
                referrer_policy: ReferrerPolicy {
                    referrer_policy: "strict-origin-when-cross-origin",
                    r#override: true,
                },
            },
        },
    }
}
