//! Setting a function's code directly, outside CloudFormation: what a hotswap does, and what a
//! rollback does for every function whose code differs (a hotswapped function's code is not in
//! its stack's parameters, so a change set alone would not bring the old code back).
//!
//! Callers invoke each function's `live` alias, so new code reaches them only as a published
//! version the alias moves to: both are done here, as CloudFormation's version and alias do.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use aws_sdk_lambda::types::LastUpdateStatus;

use crate::{aws, ui};

/// Points the function at `key` in the artifacts bucket, waits until Lambda has taken it, then
/// publishes it as a version and moves `live` there.
pub async fn update(config: &SdkConfig, function: &str, bucket: &str, key: &str) -> Result<()> {
    let lambda = aws_sdk_lambda::Client::new(config);
    lambda
        .update_function_code()
        .function_name(function)
        .s3_bucket(bucket)
        .s3_key(key)
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot update the code of {function} to {key}"))?;
    let started = Instant::now();
    let mut delay = Duration::from_millis(100);
    loop {
        let configuration = lambda
            .get_function_configuration()
            .function_name(function)
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| format!("cannot read the state of {function}"))?;
        match configuration.last_update_status() {
            None | Some(LastUpdateStatus::Successful) => break,
            Some(LastUpdateStatus::Failed) => bail!(
                "Lambda could not take the new code of {function}: {}",
                configuration
                    .last_update_status_reason()
                    .unwrap_or("no reason given")
            ),
            _ if started.elapsed() > Duration::from_secs(120) => bail!(
                "{function} is still updating after 2 minutes; check it in the Lambda console"
            ),
            _ => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
    // The description is the code key, as the app stack's version has it.
    let version = lambda
        .publish_version()
        .function_name(function)
        .description(key)
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot publish a version of {function}"))?;
    let number = version
        .version()
        .with_context(|| format!("Lambda published a version of {function} without a number"))?;
    lambda
        .update_alias()
        .function_name(function)
        .name(stacks::functions::LIVE)
        .function_version(number)
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| {
            format!(
                "cannot move {function}:{} to version {number}",
                stacks::functions::LIVE
            )
        })?;
    ui::info(format!(
        "{function}: code is now {key}, live on version {number}"
    ));
    Ok(())
}
