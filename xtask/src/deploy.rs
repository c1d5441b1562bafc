//! `cargo xtask deploy` and `cargo xtask diff`: artifacts, stacks, site, CDN — in that order.
//! This module checks what a deploy needs and runs the steps; each step is a module beside it
//! (`artifacts`, `apply` for the stacks, `site`), as is the plan (`plan`), the hotswap and the
//! following of CodeDeploy's traffic shifting (`traffic`).

mod apply;
mod artifacts;
pub mod code;
mod hotswap;
pub mod plan;
mod site;
mod traffic;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use sha2::{Digest, Sha256};
use stacks::{Output, Part, Stage};

use crate::build::{self, Artifact};
use crate::cli::{AwsArgs, Deploy, Sources};
use crate::cloudformation::{changeset, stack};
use crate::outputs::StageOutputs;
use crate::release::{self, Release, StackRecord};
use crate::{aws, tools, ui};
pub use apply::{Apply, apply_stack, template_key};
use apply::{
    StackSource, deploy_stack, is_in_place, parameter_map, parameters, stack_sources,
    upload_template,
};
use artifacts::upload_artifacts;
use changeset::Changes;
use plan::plan;
use plan::{Plan, Report, StackAction, StackResult};
use site::sync_site;

/// Everything a deploy needs, checked before any side effect.
struct Target {
    stage: Stage,
    config: SdkConfig,
    stacks: Vec<StackSource>,
    artifacts: Vec<Artifact>,
    site_dir: PathBuf,
    /// The caller is the stage's GitHub deploy role, which may only act through the
    /// CloudFormation role (otherwise an administrator, who deploys the bootstrap stack as itself).
    as_deploy_role: bool,
}

impl Target {
    /// Resolves the stage, checks the account, builds (or finds) the artifacts, synthesizes.
    async fn prepare(stage: &str, aws_args: &AwsArgs, sources: &Sources) -> Result<Target> {
        let stage = crate::stage::resolve(stage)?;
        let site_dir = sources
            .site
            .clone()
            .unwrap_or_else(|| tools::workspace_root().join("site"));
        if !site_dir.join("index.html").is_file() {
            bail!(
                "{} has no index.html; point `--site DIR` (or MUMBLE_SITE_DIR) at the site folder",
                site_dir.display()
            );
        }
        let config = aws::sdk_config(aws_args, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        if stage.protected && stage.ses_identity.is_none() {
            ui::warn(format!(
                "stage {} sends sign-up and password e-mails with Cognito's own sender, limited to \
                 about 50 a day; set `ses_identity` in stacks/stages.yaml to a verified SES identity",
                stage.name
            ));
        }
        let as_deploy_role = is_deploy_role(&config, &stage).await;
        let functions: Vec<&str> = stacks::FUNCTIONS
            .iter()
            .map(|function| function.name)
            .collect();
        let artifacts = match &sources.artifacts_dir {
            Some(dir) => build::collect(dir, &functions)?,
            None if sources.no_build => {
                build::collect(&build::default_artifacts_dir(), &functions)?
            }
            None => build::build(&stage, &functions)?.artifacts,
        };
        let stacks = stack_sources(&stage, sources.templates.as_deref())?;
        Ok(Target {
            stage,
            config,
            stacks,
            artifacts,
            site_dir,
            as_deploy_role,
        })
    }

    fn cfn(&self, stack: &StackSource) -> aws_sdk_cloudformation::Client {
        self.cfn_in(&stack.region)
    }

    fn cfn_in(&self, region: &str) -> aws_sdk_cloudformation::Client {
        aws_sdk_cloudformation::Client::new(&stack::config_for(&self.config, &self.stage, region))
    }
}

impl Deploy {
    pub async fn run(self) -> Result<()> {
        if !self.yes && !self.dry_run && !ui::can_prompt() {
            bail!(
                "deploy asks for confirmation, and there is no terminal to ask on; \
                 pass `--yes` to deploy without asking (CI), or `--dry-run` to only see the plan"
            );
        }
        if self.hotswap
            && crate::stage::load_settings()?
                .stage(&self.stage.stage)?
                .protected
        {
            bail!(
                "stage `{}` is protected; --hotswap would change its functions outside \
                 CloudFormation and past its traffic shifting. Deploy without --hotswap",
                self.stage.stage
            );
        }
        let target = Target::prepare(&self.stage.stage, &self.aws, &self.sources).await?;
        if self.dry_run {
            let plan = plan(&target).await?;
            return ui::print(&plan, self.output);
        }
        if self.hotswap
            && let Some(report) = hotswap::run(&target, self.wait).await?
        {
            return ui::print(&report, self.output);
        }
        let report = deploy(&target, &self).await?;
        ui::print(&report, self.output)
    }
}

/// A hotswap of prepared artifacts (`cargo xtask watch`): `None` when the change needs a full
/// deploy (the reason is shown as a warning).
pub async fn hotswap_only(
    stage: Stage,
    config: SdkConfig,
    artifacts: Vec<Artifact>,
    site_dir: PathBuf,
) -> Result<Option<Report>> {
    let stacks = stack_sources(&stage, None)?;
    let as_deploy_role = is_deploy_role(&config, &stage).await;
    let target = Target {
        stage,
        config,
        stacks,
        artifacts,
        site_dir,
        as_deploy_role,
    };
    hotswap::run(&target, false).await
}

/// Whether the caller is the stage's deploy role (CI), which hands every change set to the
/// stage's CloudFormation role, the bootstrap stack's included.
async fn is_deploy_role(config: &SdkConfig, stage: &Stage) -> bool {
    aws::caller_arn(config)
        .await
        .is_some_and(|arn| arn.contains(&format!(":assumed-role/mumble-{}-deploy/", stage.name)))
}

/// The plan of a deploy, without deploying: what `cargo xtask diff` shows.
pub async fn plan_only(stage: &str, aws_args: &AwsArgs, sources: &Sources) -> Result<Plan> {
    let target = Target::prepare(stage, aws_args, sources).await?;
    plan(&target).await
}

/// Steps 2–9: bootstrap, artifacts, stacks, site config, site sync, invalidation, release.
///
/// The last release says what is in place: a stack whose template and parameters are the ones
/// it recorded (and that nothing has updated since) gets no change set, and an artifact or
/// template it names is not looked for again. So a deploy with nothing changed only reads.
async fn deploy(target: &Target, flags: &Deploy) -> Result<Report> {
    let started = Instant::now();
    let stage = &target.stage;
    ui::step(format!(
        "deploying stage {} to {}",
        stage.name, stage.region
    ));
    let mut outputs = StageOutputs::default();
    let mut stacks = Vec::new();
    let mut records = Vec::new();
    let mut replaced = Vec::new();
    let mut artifacts_uploaded = Vec::new();
    let mut previous: Option<Release> = None;
    let s3 = aws_sdk_s3::Client::new(&target.config);
    for synth in &target.stacks {
        let cfn = target.cfn(synth);
        let before = stack::describe(&cfn, &synth.name).await?;
        if synth.part == Part::Bootstrap
            && let Some(bucket) = before.as_ref().and_then(|found| {
                stack::outputs_of(found).remove(Output::ArtifactsBucketName.name())
            })
        {
            previous = release::latest(&s3, &bucket, &stage.name).await?;
        }
        let parameters = parameters(synth, &outputs, &target.artifacts)?;
        let sha256 = hex::encode(Sha256::digest(synth.body.as_bytes()));
        let recorded = previous
            .as_ref()
            .and_then(|release| release.stack(&synth.name))
            .filter(|record| {
                !flags.force && is_in_place(record, &sha256, &parameters, before.as_ref())
            });
        let (result, found) = match (recorded, before) {
            (Some(record), Some(found)) => {
                ui::info(format!(
                    "{}: unchanged since release {} (template and parameters as recorded)",
                    synth.name,
                    previous.as_ref().map_or(0, |release| release.id)
                ));
                let result = StackResult {
                    name: synth.name.clone(),
                    action: StackAction::Unchanged,
                    changes: Changes::default(),
                };
                debug_assert_eq!(record.template_sha256, sha256);
                (result, found)
            }
            (_, before) => {
                let result =
                    deploy_stack(target, synth, &outputs, before.as_ref(), &parameters, flags)
                        .await?;
                let found = stack::describe(&cfn, &synth.name)
                    .await?
                    .context("the stack vanished after its deploy")?;
                (result, found)
            }
        };
        if stage.protected && !found.enable_termination_protection().unwrap_or(false) {
            cfn.update_termination_protection()
                .stack_name(&synth.name)
                .enable_termination_protection(true)
                .send()
                .await
                .map_err(aws::sdk_error)
                .with_context(|| {
                    format!("cannot turn on termination protection for {}", synth.name)
                })?;
            ui::info(format!("termination protection on for {}", synth.name));
        }
        outputs
            .stacks
            .insert(synth.name.clone(), stack::outputs_of(&found));
        let bucket = outputs.require(stage, Output::ArtifactsBucketName)?;
        let known = previous
            .as_ref()
            .map(Release::artifact_keys)
            .unwrap_or_default();
        if synth.part == Part::Bootstrap {
            artifacts_uploaded =
                upload_artifacts(&target.config, &bucket, &target.artifacts, &known).await?;
        }
        let template_key = template_key(&synth.name, &sha256);
        if !known.contains(&template_key) {
            upload_template(target, &bucket, &template_key, &synth.body).await?;
        }
        replaced.extend(result.changes.data_losses(&synth.name));
        records.push(StackRecord {
            name: synth.name.clone(),
            region: synth.region.clone(),
            template_key,
            template_sha256: sha256,
            parameters: parameter_map(&parameters),
            updated: stack::updated_of(&found),
        });
        stacks.push(result);
    }

    let (site, manifest, invalidation) =
        sync_site(target, &s3, &outputs, previous.as_ref(), flags.wait).await?;

    let functions = target
        .artifacts
        .iter()
        .map(|artifact| (artifact.function.clone(), artifact.key.clone()))
        .collect();
    let release = record_release(
        target,
        &outputs,
        previous.as_ref(),
        NewRelease {
            kind: release::Kind::Deploy,
            rollback_to: None,
            functions,
            stacks: records,
            site: manifest,
            replaced,
        },
    )
    .await?;

    let report = Report {
        stage: stage.name.clone(),
        site_url: outputs.get(Output::SiteUrl).map(str::to_owned),
        api_url: outputs.get(Output::HttpApiUrl).map(str::to_owned),
        artifacts_uploaded,
        stacks,
        site,
        invalidation,
        release,
        seconds: started.elapsed().as_secs_f64(),
    };
    ui::done(format!(
        "stage {} deployed in {}",
        stage.name,
        ui::duration(started.elapsed())
    ));
    Ok(report)
}

/// The parts of a release that a deploy or rollback decides; the rest is filled in here.
pub struct NewRelease {
    pub kind: release::Kind,
    pub rollback_to: Option<u64>,
    pub functions: BTreeMap<String, String>,
    pub stacks: Vec<StackRecord>,
    pub site: BTreeMap<String, release::SiteObject>,
    pub replaced: Vec<String>,
}

/// Records the stage as it now is, unless it is exactly the previous release (a deploy that
/// changed nothing writes nothing). Returns the new release's id.
pub async fn record_release(
    target_config: &impl ReleaseTarget,
    outputs: &StageOutputs,
    previous: Option<&Release>,
    new: NewRelease,
) -> Result<Option<u64>> {
    let stage = target_config.stage();
    let (commit, dirty) = release::git_state();
    let mut release = Release {
        id: previous.map_or(1, |release| release.id + 1),
        stage: stage.name.clone(),
        time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        kind: new.kind,
        rollback_to: new.rollback_to,
        caller: String::new(),
        commit,
        dirty,
        functions: new.functions,
        stacks: new.stacks,
        site: new.site,
        outputs: outputs.stacks.clone(),
        replaced: new.replaced,
    };
    if new.kind != release::Kind::Rollback
        && previous.is_some_and(|previous| previous.same_content(&release))
    {
        ui::info("nothing changed: no new release");
        return Ok(None);
    }
    release.caller = release::caller(target_config.config()).await;
    let bucket = outputs.require(stage, Output::ArtifactsBucketName)?;
    let s3 = aws_sdk_s3::Client::new(target_config.config());
    release::write(&s3, &bucket, &release, stage.release_retention).await?;
    ui::info(format!(
        "recorded release {} ({})",
        release.id,
        release.describe()
    ));
    Ok(Some(release.id))
}

/// What `record_release` needs of a command's resolved target.
pub trait ReleaseTarget {
    fn stage(&self) -> &Stage;
    fn config(&self) -> &SdkConfig;
}

impl ReleaseTarget for Target {
    fn stage(&self) -> &Stage {
        &self.stage
    }
    fn config(&self) -> &SdkConfig {
        &self.config
    }
}

pub(crate) fn timeout(flags: &Deploy) -> Duration {
    Duration::from_secs(flags.timeout.max(1) * 60)
}

/// Asks on the terminal; only `y` or `yes` goes on.
pub(crate) fn confirm(question: &str) -> Result<bool> {
    eprint!("{} [y/N] ", ui::bold(question));
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
