//! `cargo xtask destroy`: deletes a stage's stacks in reverse order, after a typed confirmation.
//!
//! Buckets are emptied first (every version: they are versioned) because CloudFormation cannot
//! delete a bucket that holds objects. Protected stages are refused before anything is touched.

use anyhow::{Context, Result, bail};
use aws_sdk_s3::types::{Delete, ObjectIdentifier};

use crate::cli::Destroy;
use crate::cloudformation::{events, stack};
use crate::{aws, ui};

/// Bounds the wait for one stack's deletion (CloudFront distributions take the longest).
const DELETE_LIMIT: std::time::Duration = std::time::Duration::from_secs(45 * 60);

impl Destroy {
    pub async fn run(self) -> Result<()> {
        let stage = crate::stage::resolve(&self.stage.stage)?;
        if stage.protected {
            bail!(
                "stage `{}` is protected (`protected: true` in {}); destroy is refused. \
                 To really delete it, set `protected: false` for it there and deploy once (that lifts \
                 termination protection's reason to exist), then destroy",
                stage.name,
                stacks::settings::DEFAULT_PATH
            );
        }
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;

        let mut existing = Vec::new();
        for synth in stacks::synth(&stage).into_iter().rev() {
            let cfn = aws_sdk_cloudformation::Client::new(&stack::config_for(
                &config,
                &stage,
                &synth.region,
            ));
            if let Some(found) = stack::describe(&cfn, &synth.name).await? {
                existing.push((synth, cfn, found));
            }
        }
        if existing.is_empty() {
            ui::info(format!(
                "stage `{}` has no stacks; nothing to destroy",
                stage.name
            ));
            return Ok(());
        }
        ui::step(format!(
            "destroy stage {}: deletes these stacks and all their data",
            stage.name
        ));
        for (synth, _, _) in &existing {
            ui::info(&synth.name);
        }
        confirm(&stage.name, self.confirm.as_deref())?;

        for (synth, cfn, found) in existing {
            let stack_id = found.stack_id().unwrap_or(&synth.name).to_owned();
            if found.enable_termination_protection().unwrap_or(false) {
                bail!(
                    "stack {} has termination protection; turn it off in the CloudFormation console \
                     if you really mean to delete it",
                    synth.name
                );
            }
            let s3 = aws_sdk_s3::Client::new(&stack::config_for(&config, &stage, &synth.region));
            for bucket in stack::physical_ids(&cfn, &stack_id, "AWS::S3::Bucket").await? {
                empty_bucket(&s3, &bucket).await?;
            }
            ui::step(format!("deleting {}", synth.name));
            events::delete(&cfn, &stack_id, &synth.name, DELETE_LIMIT).await?;
        }
        ui::done(format!("stage {} destroyed", stage.name));
        Ok(())
    }
}

/// The operator types the stage name (or passes `--confirm STAGE` in a script).
fn confirm(stage: &str, given: Option<&str>) -> Result<()> {
    let typed = match given {
        Some(given) => given.to_owned(),
        None if ui::can_prompt() => {
            eprint!(
                "{} ",
                ui::bold(format!("type the stage name ({stage}) to delete it:"))
            );
            let mut answer = String::new();
            std::io::stdin()
                .read_line(&mut answer)
                .context("cannot read the answer")?;
            answer.trim().to_owned()
        }
        None => {
            bail!("destroy needs a typed confirmation; without a terminal pass `--confirm {stage}`")
        }
    };
    if typed != stage {
        bail!("the confirmation `{typed}` is not the stage name `{stage}`; nothing was deleted");
    }
    Ok(())
}

/// Deletes every object version and delete marker, so CloudFormation can delete the bucket.
async fn empty_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<()> {
    let mut deleted = 0;
    loop {
        let listing = match s3.list_object_versions().bucket(bucket).send().await {
            Ok(listing) => listing,
            Err(error) if aws::describe_error(&error).contains("NoSuchBucket") => return Ok(()),
            Err(error) => {
                return Err(anyhow::anyhow!(aws::describe_error(&error)))
                    .with_context(|| format!("cannot list the objects of {bucket}"));
            }
        };
        let versions = listing
            .versions()
            .iter()
            .map(|version| (version.key(), version.version_id()))
            .chain(
                listing
                    .delete_markers()
                    .iter()
                    .map(|marker| (marker.key(), marker.version_id())),
            );
        let objects = versions
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .key(key?)
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        if objects.is_empty() {
            break;
        }
        deleted += objects.len();
        s3.delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(objects))
                    .quiet(true)
                    .build()?,
            )
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| format!("cannot empty {bucket}"))?;
    }
    if deleted > 0 {
        ui::info(format!("emptied {bucket} ({deleted} object versions)"));
    }
    Ok(())
}
