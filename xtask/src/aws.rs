//! The one place that turns `--profile`/`--region` and the environment into an AWS SDK config.
//!
//! The standard credential chain (environment, profiles, SSO, web identity/OIDC) and
//! `AWS_ENDPOINT_URL` are handled by aws-config itself, so an emulator needs nothing special here.

use anyhow::{Context, Result, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};

use crate::cli::AwsArgs;

/// The SDK config for a command: `--region` wins over the stage's region.
pub async fn sdk_config(args: &AwsArgs, stage_region: &str) -> SdkConfig {
    let region = args
        .region
        .clone()
        .unwrap_or_else(|| stage_region.to_owned());
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(region));
    if let Some(profile) = &args.profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// The same identity and endpoint in another region (the certificate stack lives in us-east-1).
pub fn in_region(config: &SdkConfig, region: &str) -> SdkConfig {
    if config
        .region()
        .is_some_and(|current| current.as_ref() == region)
    {
        return config.clone();
    }
    config
        .to_builder()
        .region(Region::new(region.to_owned()))
        .build()
}

/// The region a config talks to.
pub fn region(config: &SdkConfig) -> String {
    config
        .region()
        .map(|region| region.to_string())
        .unwrap_or_default()
}

/// Refuses to go on when the stage names an account and the credentials belong to another one.
pub async fn check_account(config: &SdkConfig, stage: &str, expected: Option<&str>) -> Result<()> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let identity = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .context("could not read the caller's identity (sts:GetCallerIdentity); check your AWS credentials or `--profile`")?;
    let actual = identity.account().unwrap_or_default();
    if actual != expected {
        bail!(
            "stage `{stage}` belongs to account {expected}, but these credentials are for account {actual}; \
             use the profile or role of account {expected} (`--profile NAME`)"
        );
    }
    Ok(())
}

/// The ARN the credentials act as, when STS says.
pub async fn caller_arn(config: &SdkConfig) -> Option<String> {
    let identity = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .ok()?;
    identity.arn().map(str::to_owned)
}

/// Cognito's JSON API endpoint as the SDK would call it: the configured endpoint override
/// (`AWS_ENDPOINT_URL`) when there is one, otherwise the regional public endpoint.
pub fn cognito_endpoint(config: &SdkConfig, region: &str) -> String {
    match config.endpoint_url() {
        Some(url) => format!("{}/", url.trim_end_matches('/')),
        None => format!("https://cognito-idp.{region}.amazonaws.com/"),
    }
}

/// A short text for an SDK error: the service's code and message when there is one.
pub fn describe_error<E>(error: &aws_sdk_s3::error::SdkError<E>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_s3::error::ProvideErrorMetadata;
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => format!("{}", aws_sdk_s3::error::DisplayErrorContext(error)),
    }
}

/// An SDK error as an `anyhow::Error` carrying the service's code and message.
pub fn sdk_error<E>(error: aws_sdk_s3::error::SdkError<E>) -> anyhow::Error
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    anyhow::anyhow!(describe_error(&error))
}
