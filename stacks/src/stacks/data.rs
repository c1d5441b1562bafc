//! The stage's data: four DynamoDB tables and the media bucket (audio, images, thumbnails).

use mumble_contract::{Output, Table};

use super::output;
use crate::cfn::iam::{PolicyDocument, deny_insecure_transport};
use crate::cfn::{Expr, Resource, Template};
use crate::resources::dynamodb;
use crate::resources::s3::{
    AbortIncompleteMultipartUpload, Bucket, BucketPolicy, Cors, CorsRule, EventBridgeConfiguration,
    Lifecycle, LifecycleRule, NoncurrentVersionExpiration, Notifications,
};
use crate::settings::Stage;

/// Key prefixes whose objects users delete themselves (images and their thumbnails).
const DELETED_BY_USERS: [&str; 2] = ["images/", "thumbnails/"];
/// How long a version a user deleted is kept: a day, in case an operator must undo a mistake.
pub const USER_DELETED_VERSION_DAYS: u32 = 1;

pub fn template(stage: &Stage) -> Template {
    let mut t = Template::new(format!("Mumble {}: tables and media bucket", stage.name));
    for table in Table::ALL {
        let mut properties = dynamodb::Table::of(table);
        properties.deletion_protection_enabled = stage.protected;
        let id = t.add(
            table.logical_id(),
            Resource::new(properties).stateful(stage.protected),
        );
        output(&mut t, stage, table.name_output(), Expr::r#ref(&id));
        output(&mut t, stage, table.arn_output(), Expr::get_att(&id, "Arn"));
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
    output(&mut t, stage, Output::MediaBucketName, Expr::r#ref(&bucket));
    output(
        &mut t,
        stage,
        Output::MediaBucketArn,
        Expr::get_att(&bucket, "Arn"),
    );
    t
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
    // Once its last noncurrent version expired, a delete marker is all that is left of a file;
    // S3 lists and bills it until a rule removes it.
    noncurrent.expired_object_delete_marker = Some(true);
    let mut rules = vec![audio, noncurrent];
    // A picture the user deleted should be gone, not kept as a version for weeks.
    for prefix in DELETED_BY_USERS {
        let mut deleted = LifecycleRule::new(&format!(
            "ForgetDeleted{}",
            prefix[..1].to_uppercase() + prefix[1..].trim_end_matches('/')
        ));
        deleted.prefix = Some(prefix.into());
        deleted.noncurrent_version_expiration = Some(NoncurrentVersionExpiration {
            noncurrent_days: USER_DELETED_VERSION_DAYS,
        });
        rules.push(deleted);
    }
    bucket.lifecycle_configuration = Some(Lifecycle { rules });
    // New images reach the image processor through EventBridge, so the rule (and the function)
    // live in the app stack and this stack never refers to it.
    bucket.notification_configuration = Some(Notifications {
        event_bridge_configuration: EventBridgeConfiguration {
            event_bridge_enabled: true,
        },
    });
    bucket
}
