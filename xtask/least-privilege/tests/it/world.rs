//! A fresh stage's data for one test: the four tables with the deployed key schemas, the media
//! bucket and the secret parameters, made by the administrator; each function then runs under
//! its own role against them.

use std::collections::HashMap;

use aws_config::SdkConfig;
use mumble_core::store::media::keys;
use mumble_core::store::{DynamoImages, ImageRecord, ImageStore};

use crate::enforced::{self, ACCOUNT, Enforcing, REGION};
use crate::role::{Names, Role, STAGE};

pub const ALICE: &str = "8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11";
pub const ALICE_AUDIO: &str =
    "audio/8f1c2a4e-0d6b-4f7e-9a51-3c2b1d0e9f11/0b5e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b.webm";

pub struct World {
    pub emulator: &'static Enforcing,
    pub admin: SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub s3: aws_sdk_s3::Client,
    pub images_table: String,
    pub jobs_table: String,
    pub connections_table: String,
    pub bucket: String,
    names: Names,
}

impl World {
    pub async fn new() -> World {
        let emulator = enforced::emulator().await;
        let admin = emulator.admin();
        let dynamodb = mumble_core::aws::dynamodb_client(&admin);
        let s3 = mumble_core::aws::s3_client(&admin);
        let users_table = mumble_testing::users_table(&dynamodb).await;
        let images_table = mumble_testing::images_table(&dynamodb).await;
        let jobs_table = mumble_testing::jobs_table(&dynamodb).await;
        let connections_table = mumble_testing::connections_table(&dynamodb).await;
        let bucket = mumble_testing::bucket(&s3).await;
        let mut exports = HashMap::new();
        let mut export = |output: &str, value: String| {
            exports.insert(format!("mumble-{STAGE}-data-{output}"), value);
        };
        for (prefix, table) in [
            ("UsersTable", &users_table),
            ("ImagesTable", &images_table),
            ("JobsTable", &jobs_table),
            ("ConnectionsTable", &connections_table),
        ] {
            export(&format!("{prefix}Name"), table.clone());
            export(
                &format!("{prefix}Arn"),
                format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"),
            );
        }
        export("MediaBucketName", bucket.clone());
        export("MediaBucketArn", format!("arn:aws:s3:::{bucket}"));
        World {
            emulator,
            admin,
            dynamodb,
            s3,
            images_table,
            jobs_table,
            connections_table,
            bucket,
            names: Names { exports },
        }
    }

    /// `function` under its synthesized role, against this world.
    pub async fn role(&self, function: &'static str) -> Role {
        Role::assume(self.emulator, &self.names, function).await
    }

    /// Stores the SecureString parameter named by the function's variable `var` (its name comes
    /// from the synthesized environment, as on AWS).
    pub async fn secret(&self, role: &Role, var: &str, value: &str) -> String {
        let name = role.env(var);
        aws_sdk_ssm::Client::new(&self.admin)
            .put_parameter()
            .name(&name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "put parameter {name}: {}",
                    aws_sdk_ssm::error::DisplayErrorContext(e)
                )
            });
        name
    }

    pub async fn put_object(&self, key: &str, bytes: Vec<u8>, content_type: &str) {
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .expect("put an object in the emulator");
    }

    pub async fn object(&self, key: &str) -> Option<Vec<u8>> {
        let output = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .ok()?;
        Some(output.body.collect().await.ok()?.into_bytes().to_vec())
    }

    /// Stores Alice's image record `image_id` (as the worker does), with a thumbnail key.
    pub async fn image_record(&self, image_id: &str) -> ImageRecord {
        let record = ImageRecord {
            image_key: keys::image(ALICE, image_id),
            thumbnail_key: Some(keys::thumbnail(ALICE, image_id)),
            created_at: "2026-11-26T10:00:00.000Z".to_owned(),
            user_id: ALICE.to_owned(),
            transcript: "雨".to_owned(),
            prompt: "rain".to_owned(),
            weather: None,
            location: None,
            job_id: None,
            width: None,
            height: None,
            bytes: None,
            dominant_color: None,
            offline: false,
            unavailable: false,
            image_id: image_id.to_owned(),
        };
        DynamoImages::new(self.dynamodb.clone(), &self.images_table)
            .put(&record)
            .await
            .unwrap();
        record
    }

    /// The function and alias the app stack's `WORKER_FUNCTION` names (`NAME:live`), so that
    /// `lambda:InvokeFunction` is checked against an alias that exists (moto runs no function;
    /// it answers the invocation).
    pub async fn worker_function(&self, qualified: &str) {
        let (name, alias) = qualified
            .split_once(':')
            .unwrap_or_else(|| panic!("WORKER_FUNCTION `{qualified}` names no alias"));
        let lambda = aws_sdk_lambda::Client::new(&self.admin);
        if lambda
            .get_alias()
            .function_name(name)
            .name(alias)
            .send()
            .await
            .is_ok()
        {
            return;
        }
        // The stand-in runs as the worker's own synthesized role, which Lambda must be able to find.
        let role = self.role("worker").await;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("bootstrap", zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        std::io::Write::write_all(&mut zip, b"#!/bin/sh\n").expect("zip body");
        let bytes = zip.finish().expect("a zip").into_inner();
        lambda
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
            .handler("bootstrap")
            .role(&role.arn)
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(bytes.into())
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "create function {name}: {}",
                    aws_sdk_lambda::error::DisplayErrorContext(e)
                )
            });
        let version = lambda
            .publish_version()
            .function_name(name)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "publish a version of {name}: {}",
                    aws_sdk_lambda::error::DisplayErrorContext(e)
                )
            });
        lambda
            .create_alias()
            .function_name(name)
            .name(alias)
            .function_version(version.version().unwrap_or("1"))
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "create alias {qualified}: {}",
                    aws_sdk_lambda::error::DisplayErrorContext(e)
                )
            });
    }
}
