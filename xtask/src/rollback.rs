//! `cargo xtask rollback`: puts a stage back to one of its releases — its stacks' templates and
//! parameters (and with them the functions' code), and its site files — without building or
//! synthesizing, and records that as a release of its own ("rollback to 41").

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::Parameter;
use serde::Serialize;
use stacks::{Output, Stage};

use crate::cdn::{self, Invalidation};
use crate::cli::Rollback;
use crate::cloudformation::changeset::TemplateSource;
use crate::cloudformation::stack;
use crate::deploy::plan::{StackAction, StackResult};
use crate::deploy::{self, Apply, NewRelease, ReleaseTarget, code};
use crate::release::{self, Changes, Release, StackRecord};
use crate::site_sync::{self, SitePlan};
use crate::{aws, ui};

/// What a rollback puts back, shown before (`--dry-run`) and reported after.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub stage: String,
    /// The release the stage was at.
    pub from: u64,
    /// The release it is put back to.
    pub to: u64,
    /// What differs between the two, from the releases' records.
    pub changes: Changes,
    pub stacks: Vec<StackResult>,
    pub site: SitePlan,
    pub invalidation: Option<Invalidation>,
    /// The release recording the rollback (none for a dry run).
    pub release: Option<u64>,
    pub seconds: f64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let title = match self.release {
            Some(id) => format!(
                "stage {} rolled back from release {} to {} in {:.1}s (recorded as release {id})",
                self.stage, self.from, self.to, self.seconds
            ),
            None => format!(
                "rollback of stage {} from release {} to {} (dry run: nothing changed)",
                self.stage, self.from, self.to
            ),
        };
        writeln!(f, "{}", ui::bold(title))?;
        write!(f, "{}", self.changes)?;
        for stack in &self.stacks {
            let action = match stack.action {
                StackAction::Update if self.release.is_none() => "to roll back".to_owned(),
                StackAction::Update => format!("rolled back ({} changes)", stack.changes.0.len()),
                StackAction::Create => "created".to_owned(),
                StackAction::Unchanged | StackAction::Blocked => "unchanged".to_owned(),
            };
            writeln!(f, "  {}: {action}", stack.name)?;
        }
        writeln!(
            f,
            "  site files: {} restored, {} deleted, {} unchanged",
            self.site.upload.len(),
            self.site.delete.len(),
            self.site.unchanged
        )?;
        if let Some(invalidation) = &self.invalidation {
            writeln!(
                f,
                "  cdn: invalidation {} for {}",
                invalidation.id,
                invalidation.paths.join(" ")
            )?;
        }
        Ok(())
    }
}

struct Target {
    stage: Stage,
    config: SdkConfig,
}

impl ReleaseTarget for Target {
    fn stage(&self) -> &Stage {
        &self.stage
    }
    fn config(&self) -> &SdkConfig {
        &self.config
    }
}

impl Rollback {
    pub async fn run(self) -> Result<()> {
        if !self.yes && !self.dry_run && !ui::can_prompt() {
            bail!(
                "rollback asks for confirmation, and there is no terminal to ask on; \
                 pass `--yes` to roll back without asking (CI), or `--dry-run` to only see the plan"
            );
        }
        let stage = crate::stage::resolve(&self.stage.stage)?;
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        let target = Target { stage, config };
        let report = rollback(&target, &self).await?;
        ui::print(&report, self.output)
    }
}

/// Which release to go back to: `--to`, or the one before the current release.
fn choose(stage: &str, ids: &[u64], to: Option<u64>) -> Result<(u64, u64)> {
    let Some(&current) = ids.last() else {
        bail!(
            "stage `{stage}` has no releases yet; releases are recorded by `cargo xtask deploy --stage {stage}`"
        );
    };
    let wanted = match to {
        Some(id) => id,
        None => match ids.iter().rev().nth(1) {
            Some(&id) => id,
            None => bail!(
                "stage `{stage}` has one release ({current}); there is nothing before it to roll back to"
            ),
        },
    };
    if wanted == current {
        bail!("release {wanted} is the current release of stage `{stage}`; nothing to roll back");
    }
    if !ids.contains(&wanted) {
        let kept: Vec<String> = ids.iter().map(u64::to_string).collect();
        bail!(
            "stage `{stage}` has no release {wanted}; the releases kept are {} (see `cargo xtask releases --stage {stage}`)",
            kept.join(", ")
        );
    }
    Ok((current, wanted))
}

/// In a protected stage, a rollback may not cross a release that replaced or removed a table,
/// bucket or user pool: the old resource's data does not come back with the old template.
fn check_crossing(stage: &Stage, crossed: &[Release], to: u64) -> Result<()> {
    if !stage.protected {
        return Ok(());
    }
    let replaced: Vec<String> = crossed
        .iter()
        .flat_map(|release| {
            release
                .replaced
                .iter()
                .map(move |resource| format!("{resource} in release {}", release.id))
        })
        .collect();
    if replaced.is_empty() {
        return Ok(());
    }
    bail!(
        "stage `{}` is protected, and rolling back to release {to} would cross the replacement of {}; \
         its data would not come back with the old template. Fix forward with `cargo xtask deploy`, \
         or roll back to release {} or later",
        stage.name,
        replaced.join(", "),
        crossed
            .iter()
            .filter(|release| !release.replaced.is_empty())
            .map(|release| release.id)
            .max()
            .unwrap_or(to)
    )
}

async fn rollback(target: &Target, flags: &Rollback) -> Result<Report> {
    let started = Instant::now();
    let stage = &target.stage;
    let bucket = release::artifacts_bucket(&target.config, stage).await?;
    let s3 = aws_sdk_s3::Client::new(&target.config);
    let ids = release::ids(&s3, &bucket, &stage.name).await?;
    let (from, to) = choose(&stage.name, &ids, flags.to)?;
    let crossed_ids: Vec<u64> = ids.iter().copied().filter(|id| *id > to).collect();
    let crossed = release::read_many(&s3, &bucket, &stage.name, &crossed_ids).await?;
    check_crossing(stage, &crossed, to)?;
    let current = crossed.last().context("the current release is missing")?;
    let wanted = release::read(&s3, &bucket, &stage.name, to).await?;
    let changes = Changes::between(Some(current), &wanted);
    ui::step(format!(
        "rolling back stage {} from release {from} to release {to} ({}, {})",
        stage.name,
        wanted.describe(),
        wanted.time
    ));

    // The stacks whose template or parameters differ, or that changed since the current release.
    let mut to_apply = Vec::new();
    let mut stacks = Vec::new();
    for record in &wanted.stacks {
        let cfn = cfn_for(target, record);
        let found = stack::describe(&cfn, &record.name).await?;
        let in_place = found.as_ref().is_some_and(|found| {
            current.stack(&record.name).is_some_and(|now| {
                now.template_sha256 == record.template_sha256
                    && now.parameters == record.parameters
                    && now.updated == stack::updated_of(found)
            })
        });
        if in_place {
            stacks.push(unchanged(&record.name));
        } else {
            to_apply.push((record, found));
        }
    }
    let site_bucket = current
        .outputs
        .values()
        .find_map(|outputs| outputs.get(Output::SiteBucketName.name()))
        .cloned()
        .context("the current release has no SiteBucketName output")?;
    let remote = site_sync::remote_etags(&s3, &site_bucket).await?;
    let site = site_sync::restore_plan(&wanted.site, &remote);

    if flags.dry_run {
        stacks.extend(to_apply.iter().map(|(record, _)| StackResult {
            name: record.name.clone(),
            action: StackAction::Update,
            changes: Default::default(),
        }));
        return Ok(Report {
            stage: stage.name.clone(),
            from,
            to,
            changes,
            stacks,
            site,
            invalidation: None,
            release: None,
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    let role = current
        .outputs
        .values()
        .find_map(|outputs| outputs.get(Output::CloudFormationRoleArn.name()))
        .cloned();
    let region = aws::region(&target.config);
    let mut replaced = Vec::new();
    for (record, found) in &to_apply {
        let cfn = cfn_for(target, record);
        let template = TemplateSource::Url(format!(
            "https://{bucket}.s3.{region}.amazonaws.com/{}",
            record.template_key
        ));
        let parameters = record
            .parameters
            .iter()
            .map(|(key, value)| {
                Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build()
            })
            .collect();
        let result = deploy::apply_stack(
            &cfn,
            stage,
            &record.name,
            found.as_ref(),
            &template,
            parameters,
            role.as_deref(),
            &Apply {
                yes: flags.yes,
                allow_replacement: false,
                timeout: Duration::from_secs(flags.timeout.max(1) * 60),
                verb: "roll back",
                config: Some(target.config.clone()),
            },
        )
        .await?;
        replaced.extend(result.changes.data_losses(&record.name));
        stacks.push(result);
    }

    // The code of each function that differs, set directly: after a hotswap the app stack's
    // parameters do not name the code its functions run, so the change set may have had none.
    for (function, key) in &wanted.functions {
        if current.functions.get(function) == Some(key) {
            continue;
        }
        let Some(spec) = stacks::functions::function(function) else {
            ui::warn(format!(
                "release {to} names a function `{function}` this version of Mumble does not have; skipped"
            ));
            continue;
        };
        code::update(
            &target.config,
            &spec.physical_name(&stage.name),
            &bucket,
            key,
        )
        .await?;
    }

    // The stacks as they now are: outputs and update times for the new release.
    let mut outputs = crate::outputs::StageOutputs::default();
    let mut records = Vec::new();
    for record in &wanted.stacks {
        let cfn = cfn_for(target, record);
        let found = stack::describe(&cfn, &record.name)
            .await?
            .with_context(|| format!("stack {} vanished during the rollback", record.name))?;
        outputs
            .stacks
            .insert(record.name.clone(), stack::outputs_of(&found));
        records.push(StackRecord {
            updated: stack::updated_of(&found),
            ..record.clone()
        });
    }

    if !site.is_empty() {
        ui::step("restoring the site");
    }
    let manifest =
        site_sync::restore(&s3, &site_bucket, &wanted.site, Some(&current.site), &site).await?;
    let invalidation =
        cdn::invalidate_changes(&target.config, stage, &outputs, &site, false).await?;

    let release = deploy::record_release(
        target,
        &outputs,
        Some(current),
        NewRelease {
            kind: release::Kind::Rollback,
            rollback_to: Some(to),
            functions: wanted.functions.clone(),
            stacks: records,
            site: manifest,
            replaced,
        },
    )
    .await?;
    ui::done(format!(
        "stage {} is back at release {to} ({})",
        stage.name,
        ui::duration(started.elapsed())
    ));
    Ok(Report {
        stage: stage.name.clone(),
        from,
        to,
        changes,
        stacks,
        site,
        invalidation,
        release,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn cfn_for(target: &Target, record: &StackRecord) -> aws_sdk_cloudformation::Client {
    aws_sdk_cloudformation::Client::new(&stack::config_for(
        &target.config,
        &target.stage,
        &record.region,
    ))
}

fn unchanged(name: &str) -> StackResult {
    StackResult {
        name: name.to_owned(),
        action: StackAction::Unchanged,
        changes: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_default_is_the_release_before_the_current_one() {
        assert_eq!(choose("alice", &[3, 4, 7], None).unwrap(), (7, 4));
        assert_eq!(choose("alice", &[3, 4, 7], Some(3)).unwrap(), (7, 3));
    }

    #[test]
    fn a_release_that_is_current_missing_or_alone_is_refused_with_the_fix() {
        let alone = choose("alice", &[5], None).unwrap_err().to_string();
        assert!(alone.contains("nothing before it"), "{alone}");
        let current = choose("alice", &[4, 5], Some(5)).unwrap_err().to_string();
        assert!(current.contains("is the current release"), "{current}");
        let missing = choose("alice", &[4, 5], Some(2)).unwrap_err().to_string();
        assert!(
            missing.contains("no release 2") && missing.contains("4, 5"),
            "{missing}"
        );
        let none = choose("alice", &[], None).unwrap_err().to_string();
        assert!(none.contains("no releases yet"), "{none}");
    }

    fn stage(protected: bool) -> Stage {
        let settings = stacks::Settings::load(
            crate::tools::workspace_root().join(stacks::settings::DEFAULT_PATH),
        )
        .unwrap();
        let mut stage = settings.stage("prod").unwrap();
        stage.protected = protected;
        stage
    }

    fn replacing(id: u64, resource: Option<&str>) -> Release {
        Release {
            id,
            stage: "prod".into(),
            time: String::new(),
            kind: release::Kind::Deploy,
            rollback_to: None,
            caller: String::new(),
            commit: None,
            dirty: false,
            functions: BTreeMap::new(),
            stacks: Vec::new(),
            site: BTreeMap::new(),
            outputs: Default::default(),
            replaced: resource.into_iter().map(str::to_owned).collect(),
        }
    }

    #[test]
    fn a_protected_stage_refuses_to_cross_a_replaced_table_and_names_it() {
        let crossed = [
            replacing(
                8,
                Some("mumble-prod-data/UsersTable (AWS::DynamoDB::Table)"),
            ),
            replacing(9, None),
        ];
        let error = check_crossing(&stage(true), &crossed, 7)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("UsersTable (AWS::DynamoDB::Table) in release 8")
                && error.contains("release 8 or later"),
            "{error}"
        );
        assert!(check_crossing(&stage(false), &crossed, 7).is_ok());
        assert!(check_crossing(&stage(true), &crossed[1..], 8).is_ok());
    }
}
