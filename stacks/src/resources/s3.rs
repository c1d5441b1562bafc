//! S3 buckets (always private and encrypted) and bucket policies.

use serde::Serialize;

use crate::cfn::Expr;
use crate::cfn::iam::PolicyDocument;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Bucket {
    /// Not optional: every bucket Mumble creates blocks public access.
    pub public_access_block_configuration: PublicAccessBlock,
    pub bucket_encryption: BucketEncryption,
    pub ownership_controls: OwnershipControls,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versioning_configuration: Option<Versioning>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cors_configuration: Option<Cors>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_configuration: Option<Lifecycle>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_configuration: Option<Notifications>,
}

impl Bucket {
    /// A bucket no one outside the account can read: public access blocked, SSE-S3, ACLs disabled.
    pub fn private() -> Self {
        Bucket {
            public_access_block_configuration: PublicAccessBlock {
                block_public_acls: true,
                block_public_policy: true,
                ignore_public_acls: true,
                restrict_public_buckets: true,
            },
            bucket_encryption: BucketEncryption {
                server_side_encryption_configuration: vec![EncryptionRule {
                    server_side_encryption_by_default: EncryptionByDefault {
                        sse_algorithm: "AES256",
                    },
                    bucket_key_enabled: true,
                }],
            },
            ownership_controls: OwnershipControls {
                rules: vec![OwnershipRule {
                    object_ownership: "BucketOwnerEnforced",
                }],
            },
            versioning_configuration: None,
            cors_configuration: None,
            lifecycle_configuration: None,
            notification_configuration: None,
        }
    }

    pub fn versioned(mut self) -> Self {
        self.versioning_configuration = Some(Versioning { status: "Enabled" });
        self
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub block_public_policy: bool,
    pub ignore_public_acls: bool,
    pub restrict_public_buckets: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEncryption {
    pub server_side_encryption_configuration: Vec<EncryptionRule>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionRule {
    pub server_side_encryption_by_default: EncryptionByDefault,
    pub bucket_key_enabled: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct EncryptionByDefault {
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    pub rules: Vec<OwnershipRule>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipRule {
    pub object_ownership: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Versioning {
    pub status: &'static str,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cors {
    pub cors_rules: Vec<CorsRule>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CorsRule {
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<&'static str>,
    pub allowed_headers: Vec<&'static str>,
    pub exposed_headers: Vec<&'static str>,
    pub max_age: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lifecycle {
    pub rules: Vec<LifecycleRule>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    pub id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_in_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    /// Removes delete markers with no version left behind them (not with `expiration_in_days`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_object_delete_marker: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
}

impl LifecycleRule {
    pub fn new(id: &str) -> Self {
        LifecycleRule {
            id: id.to_owned(),
            status: "Enabled",
            prefix: None,
            expiration_in_days: None,
            noncurrent_version_expiration: None,
            expired_object_delete_marker: None,
            abort_incomplete_multipart_upload: None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NoncurrentVersionExpiration {
    pub noncurrent_days: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AbortIncompleteMultipartUpload {
    pub days_after_initiation: u32,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Notifications {
    pub event_bridge_configuration: EventBridgeConfiguration,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBridgeConfiguration {
    pub event_bridge_enabled: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketPolicy {
    pub bucket: Expr,
    pub policy_document: PolicyDocument,
}
