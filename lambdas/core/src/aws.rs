//! The AWS SDK configuration and clients, built once per cold start in `main`.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::config::{ConfigError, Env, vars};

/// The shared SDK configuration, from what Lambda puts in every function's environment: the
/// region (`AWS_REGION`), the execution role's credentials (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and `AWS_ENDPOINT_URL` when set (the SDK's own
/// variable; the local emulator in tests and `cargo xtask dev`). A missing region fails the cold
/// start naming the variable.
///
/// Not `aws_config::defaults()`: its provider chains (profile files, web identity through STS,
/// ECS, IMDS) never apply inside Lambda, yet they are linked into every function and consulted on
/// every cold start. Retries, timeouts and the credentials cache are the SDK clients' defaults;
/// settings only `aws_config` reads (profile files, `AWS_ENDPOINT_URL_<SERVICE>`,
/// `AWS_MAX_ATTEMPTS`) do not apply to the functions.
///
/// The HTTPS client is rustls on ring rather than the SDK's default aws-lc: the same TLS, about a
/// megabyte less in every function's zip.
pub fn sdk_config() -> Result<SdkConfig, ConfigError> {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(Env::require(vars::AWS_REGION)?))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(http_client);
    if let Some(endpoint) = Env::optional(vars::AWS_ENDPOINT_URL) {
        config = config.endpoint_url(endpoint);
    }
    Ok(config.build())
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
