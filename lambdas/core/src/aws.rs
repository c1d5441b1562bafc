//! The AWS SDK configuration and clients, built once per cold start in `main`.

use aws_config::{BehaviorVersion, SdkConfig};

/// The shared SDK configuration: region and credentials from the Lambda environment, and
/// `AWS_ENDPOINT_URL` when set (the local emulator in tests and `cargo xtask dev`).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

/// S3 with path-style addressing when a custom endpoint is set, because the emulator on
/// 127.0.0.1 cannot serve virtual-hosted bucket names.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub fn ssm_client(sdk: &SdkConfig) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(sdk)
}
