//! One CloudFormation stack: its state, outputs, and waiting for it to settle.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::Stack;

use crate::aws;

/// The SDK config for a stack: the command's config, moved to the stack's region when it lives
/// elsewhere (the certificate stack is always in us-east-1).
pub fn config_for(config: &SdkConfig, stage: &stacks::Stage, stack_region: &str) -> SdkConfig {
    if stack_region == stage.region {
        config.clone()
    } else {
        aws::in_region(config, stack_region)
    }
}

/// The stack, or `None` when there is no such stack.
pub async fn describe(cfn: &Client, name: &str) -> Result<Option<Stack>> {
    match cfn.describe_stacks().stack_name(name).send().await {
        Ok(output) => Ok(output.stacks.unwrap_or_default().into_iter().next()),
        Err(error)
            if error.code() == Some("ValidationError")
                && error
                    .message()
                    .is_some_and(|m| m.contains("does not exist")) =>
        {
            Ok(None)
        }
        Err(error) => Err(anyhow::anyhow!(aws::describe_error(&error)))
            .with_context(|| format!("cannot describe stack {name}")),
    }
}

pub fn status_of(stack: &Stack) -> String {
    stack
        .stack_status()
        .map(|status| status.as_str().to_owned())
        .unwrap_or_default()
}

pub fn outputs_of(stack: &Stack) -> BTreeMap<String, String> {
    stack
        .outputs()
        .iter()
        .filter_map(|output| {
            Some((
                output.output_key()?.to_owned(),
                output.output_value()?.to_owned(),
            ))
        })
        .collect()
}

/// When the stack last changed (its last update, else its creation), as seconds since the epoch.
pub fn updated_of(stack: &Stack) -> Option<String> {
    stack
        .last_updated_time()
        .or(stack.creation_time())
        .map(|time| format!("{}.{:09}", time.secs(), time.subsec_nanos()))
}

/// A status CloudFormation is still working on.
pub fn is_in_progress(status: &str) -> bool {
    status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS"
}

/// The physical ids of the stack's resources of one type (e.g. its buckets).
pub async fn physical_ids(cfn: &Client, name: &str, resource_type: &str) -> Result<Vec<String>> {
    let pages: Vec<_> = cfn
        .list_stack_resources()
        .stack_name(name)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot list the resources of stack {name}"))?;
    Ok(pages
        .into_iter()
        .flat_map(|page| page.stack_resource_summaries.unwrap_or_default())
        .filter(|resource| resource.resource_type() == Some(resource_type))
        .filter_map(|resource| resource.physical_resource_id().map(str::to_owned))
        .collect())
}

/// The template the stack runs now, as CloudFormation keeps it (what the cost change compares
/// against).
pub async fn template_body(cfn: &Client, name: &str) -> Result<String> {
    let output = cfn
        .get_template()
        .stack_name(name)
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot read the deployed template of stack {name}"))?;
    output
        .template_body
        .with_context(|| format!("CloudFormation returned no template for stack {name}"))
}
