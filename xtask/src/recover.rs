//! `cargo xtask recover`: continues the rollback of a stack stuck in UPDATE_ROLLBACK_FAILED.
//!
//! The resources whose rollback failed are skipped (CloudFormation then treats them as rolled
//! back), and named, because they may now differ from the template and need a look.

use anyhow::{Context, Result, bail};

use crate::cli::Recover;
use crate::cloudformation::{events, stack};
use crate::{aws, ui};

const ROLLBACK_LIMIT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

impl Recover {
    pub async fn run(self) -> Result<()> {
        let stage = crate::stage::resolve(&self.stage.stage)?;
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        let mut recovered = 0;
        for synth in stacks::synth(&stage) {
            let cfn = aws_sdk_cloudformation::Client::new(&stack::config_for(
                &config,
                &stage,
                &synth.region,
            ));
            let Some(found) = stack::describe(&cfn, &synth.name).await? else {
                continue;
            };
            if stack::status_of(&found) != "UPDATE_ROLLBACK_FAILED" {
                continue;
            }
            let stack_id = found.stack_id().unwrap_or(&synth.name).to_owned();
            let skip = failed_resources(&cfn, &stack_id).await?;
            ui::step(format!("continuing the rollback of {}", synth.name));
            for (logical_id, reason) in &skip {
                ui::warn(format!(
                    "skipping {logical_id}: {reason}; check it by hand, it may differ from the template"
                ));
            }
            let seen = events::seen_events(&cfn, &stack_id).await?;
            cfn.continue_update_rollback()
                .stack_name(&stack_id)
                .set_resources_to_skip(Some(skip.iter().map(|(id, _)| id.clone()).collect()))
                .send()
                .await
                .map_err(aws::sdk_error)
                .with_context(|| format!("cannot continue the rollback of {}", synth.name))?;
            let outcome =
                events::follow(&cfn, &stack_id, &synth.name, seen, ROLLBACK_LIMIT).await?;
            if outcome.status != "UPDATE_ROLLBACK_COMPLETE" {
                for failure in &outcome.failures {
                    ui::error(failure);
                }
                bail!(
                    "the rollback of {} ended in {}; see the reasons above",
                    synth.name,
                    outcome.status
                );
            }
            ui::done(format!(
                "{} is back to UPDATE_ROLLBACK_COMPLETE; deploy again when the cause is fixed",
                synth.name
            ));
            recovered += 1;
        }
        if recovered == 0 {
            ui::info(format!(
                "no stack of stage `{}` is in UPDATE_ROLLBACK_FAILED; nothing to recover",
                stage.name
            ));
        }
        Ok(())
    }
}

/// The resources whose rollback failed, with CloudFormation's reason.
async fn failed_resources(
    cfn: &aws_sdk_cloudformation::Client,
    stack_id: &str,
) -> Result<Vec<(String, String)>> {
    let pages = cfn
        .list_stack_resources()
        .stack_name(stack_id)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot list the resources of {stack_id}"))?;
    Ok(pages
        .into_iter()
        .flat_map(|page| page.stack_resource_summaries.unwrap_or_default())
        .filter(|resource| {
            resource
                .resource_status()
                .is_some_and(|status| status.as_str() == "UPDATE_FAILED")
        })
        .map(|resource| {
            (
                resource
                    .logical_resource_id()
                    .unwrap_or_default()
                    .to_owned(),
                resource
                    .resource_status_reason()
                    .unwrap_or("no reason given")
                    .to_owned(),
            )
        })
        .collect())
}
