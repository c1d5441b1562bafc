//! The stage's data: four DynamoDB tables and the media bucket (audio, images, thumbnails).

use super::export_name;
use crate::Part;
use crate::cfn::iam::{PolicyDocument, deny_insecure_transport};
use crate::cfn::{Expr, Output, Resource, Template};
use crate::functions::Table;
use crate::resources::dynamodb;
use crate::resources::s3::{
    AbortIncompleteMultipartUpload, Bucket, BucketPolicy, Cors, CorsRule, EventBridgeConfiguration,
    Lifecycle, LifecycleRule, NoncurrentVersionExpiration, Notifications,
};
use crate::settings::Stage;

/// The attribute holding each expiring item's epoch-seconds deadline.
pub const TTL_ATTRIBUTE: &str = "expiresAt";

pub fn template(stage: &Stage) -> Template {
    let mut t = Template::new(format!("Mumble {}: tables and media bucket", stage.name));
    for table in Table::ALL {
        let mut properties = match table {
            Table::Users => dynamodb::Table::new("userId", None),
            Table::Images => dynamodb::Table::new("imageId", Some("createdAt")).index(
                "UserIndex",
                "userId",
                Some("createdAt"),
            ),
            Table::Jobs => dynamodb::Table::new("jobId", None).ttl(TTL_ATTRIBUTE),
            Table::Connections => dynamodb::Table::new("connectionId", None)
                .index("UserIndex", "userId", None)
                .ttl(TTL_ATTRIBUTE),
        };
        properties.deletion_protection_enabled = stage.protected;
        let id = t.add(
            table.output_prefix(),
            Resource::new(properties).stateful(stage.protected),
        );
        let label = id.trim_end_matches("Table").to_lowercase();
        export(
            &mut t,
            stage,
            &format!("{id}Name"),
            &format!("Name of the {label} table"),
            Expr::r#ref(&id),
        );
        export(
            &mut t,
            stage,
            &format!("{id}Arn"),
            &format!("ARN of the {label} table"),
            Expr::get_att(&id, "Arn"),
        );
    }

    let bucket = t.add(
        "MediaBucket",
        Resource::new(media_bucket(stage)).stateful(stage.protected),
    );
    t.add(
        "MediaBucketPolicy",
        BucketPolicy {
            bucket: Expr::r#ref(&bucket),
            policy_document: PolicyDocument::new(vec![deny_insecure_transport(Expr::get_att(
                &bucket, "Arn",
            ))]),
        },
    );
    export(
        &mut t,
        stage,
        "MediaBucketName",
        "Name of the media bucket",
        Expr::r#ref(&bucket),
    );
    export(
        &mut t,
        stage,
        "MediaBucketArn",
        "ARN of the media bucket",
        Expr::get_att(&bucket, "Arn"),
    );
    t
}

fn export(t: &mut Template, stage: &Stage, name: &str, description: &str, value: Expr) {
    t.output(
        name,
        Output::new(description, value).exported_as(export_name(stage, Part::Data, name)),
    );
}

fn media_bucket(stage: &Stage) -> Bucket {
    let mut bucket = Bucket::private().versioned();
    // The browser uploads recordings straight to S3 with presigned PUT URLs.
    bucket.cors_configuration = Some(Cors {
        cors_rules: vec![CorsRule {
            allowed_origins: stage.cors_origins.clone(),
            allowed_methods: vec!["PUT", "GET", "HEAD"],
            allowed_headers: vec!["content-type", "x-amz-*"],
            exposed_headers: vec!["ETag"],
            max_age: 600,
        }],
    });
    let mut audio = LifecycleRule::new("ExpireRawAudio");
    audio.prefix = Some("audio/".into());
    audio.expiration_in_days = Some(stage.audio_retention_days);
    let mut noncurrent = LifecycleRule::new("ExpireNoncurrentVersions");
    noncurrent.noncurrent_version_expiration = Some(NoncurrentVersionExpiration {
        noncurrent_days: stage.noncurrent_version_expiry_days,
    });
    noncurrent.abort_incomplete_multipart_upload = Some(AbortIncompleteMultipartUpload {
        days_after_initiation: 1,
    });
    bucket.lifecycle_configuration = Some(Lifecycle {
        rules: vec![audio, noncurrent],
    });
    // New images reach the image processor through EventBridge, so the rule (and the function)
    // live in the app stack and this stack never refers to it.
    bucket.notification_configuration = Some(Notifications {
        event_bridge_configuration: EventBridgeConfiguration {
            event_bridge_enabled: true,
        },
    });
    bucket
}
