//! `cargo xtask deploy` and `cargo xtask diff`: artifacts, stacks, site, CDN — in that order.

pub mod code;
mod hotswap;
pub mod plan;
mod traffic;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{ChangeSetType, Parameter};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use stacks::cfn::ParameterSource;
use stacks::{Output, Part, Stage};

use crate::build::{self, Artifact};
use crate::cli::{AwsArgs, Deploy, Sources};
use crate::cloudformation::{changeset, events, stack};
use crate::outputs::StageOutputs;
use crate::release::{self, Release, StackRecord};
use crate::site_sync::{self, SiteFile};
use crate::{aws, cdn, cost, tools, ui};
use changeset::{Changes, Prepared, TemplateSource};
use plan::{ArtifactsPlan, Plan, Report, StackAction, StackPlan, StackResult};

/// How many artifacts upload at once (each is a few MB).
const PARALLEL_ARTIFACT_UPLOADS: usize = 4;

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
        replaced.extend(
            result
                .changes
                .0
                .iter()
                .filter(|change| change.loses_data())
                .map(|change| {
                    format!(
                        "{}/{} ({})",
                        synth.name, change.logical_id, change.resource_type
                    )
                }),
        );
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

/// Steps 6–7: the site synced by content (its manifest recorded with S3 versions), and the
/// changed paths invalidated.
async fn sync_site(
    target: &Target,
    s3: &aws_sdk_s3::Client,
    outputs: &StageOutputs,
    previous: Option<&Release>,
    wait: bool,
) -> Result<(
    site_sync::SitePlan,
    BTreeMap<String, release::SiteObject>,
    Option<cdn::Invalidation>,
)> {
    let stage = &target.stage;
    ui::step("syncing the site");
    let bucket = outputs.require(stage, Output::SiteBucketName)?;
    let files = site_sync::local_files(&target.site_dir, vec![site_config(target, outputs)?])?;
    let remote = site_sync::remote_etags(s3, &bucket).await?;
    let site = site_sync::plan(&files, &remote);
    let versions = site_sync::apply(s3, &bucket, &files, &site).await?;
    ui::info(format!(
        "{} uploaded, {} deleted, {} unchanged",
        site.upload.len(),
        site.delete.len(),
        site.unchanged
    ));
    let manifest = site_sync::manifest(
        s3,
        &bucket,
        &files,
        versions,
        previous.map(|release| &release.site),
    )
    .await?;
    let paths = cdn::invalidation_paths(site.upload.iter().chain(&site.delete));
    let invalidation = if paths.is_empty() {
        None
    } else {
        ui::step("invalidating the CDN");
        let distribution_id = outputs.require(stage, Output::DistributionId)?;
        let cloudfront = aws_sdk_cloudfront::Client::new(&target.config);
        Some(cdn::invalidate(&cloudfront, &distribution_id, &paths, wait).await?)
    };
    Ok((site, manifest, invalidation))
}

/// Whether a stack is exactly as a release recorded it: same template and parameters, in a
/// settled state, and not updated since (by hand, or by a failed deploy that rolled back).
///
/// The release, not the stack, is compared: after a hotswap the stack still lists the code keys
/// it was last deployed with, while the functions run the ones the release names.
fn is_in_place(
    record: &StackRecord,
    sha256: &str,
    parameters: &[Parameter],
    found: Option<&aws_sdk_cloudformation::types::Stack>,
) -> bool {
    let Some(found) = found else {
        return false;
    };
    let settled = matches!(
        stack::status_of(found).as_str(),
        "CREATE_COMPLETE" | "UPDATE_COMPLETE"
    );
    settled
        && record.template_sha256 == sha256
        && record.parameters == parameter_map(parameters)
        && record.updated == stack::updated_of(found)
}

fn parameter_map(parameters: &[Parameter]) -> BTreeMap<String, String> {
    parameters
        .iter()
        .map(|parameter| {
            (
                parameter.parameter_key().unwrap_or_default().to_owned(),
                parameter.parameter_value().unwrap_or_default().to_owned(),
            )
        })
        .collect()
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

/// Where a template lives in the artifacts bucket: named by its content, so it never changes.
pub fn template_key(stack: &str, sha256: &str) -> String {
    format!("templates/{stack}/{sha256}.yaml")
}

/// Uploads a template under its content-addressed key unless it is there already.
async fn upload_template(target: &Target, bucket: &str, key: &str, body: &str) -> Result<()> {
    let config = stack::config_for(&target.config, &target.stage, &target.stage.region);
    let s3 = aws_sdk_s3::Client::new(&config);
    if object_exists(&s3, bucket, key).await? {
        return Ok(());
    }
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/yaml")
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot upload the template {key} to {bucket}"))?;
    Ok(())
}

/// HeadObject: whether the key is in the bucket.
async fn object_exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<bool> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|error| error.is_not_found()) =>
        {
            Ok(false)
        }
        Err(error) => Err(anyhow::anyhow!(aws::describe_error(&error)))
            .with_context(|| format!("cannot check {key} in {bucket}")),
    }
}

/// One stack to deploy: its template as text (what CloudFormation gets) and as a document (to
/// list its resources), and where each of its parameters comes from.
struct StackSource {
    name: String,
    part: Part,
    region: String,
    body: String,
    document: serde_json::Value,
    parameters: Vec<(String, ParameterSource)>,
}

/// The stage's stacks in deploy order: synthesized, or read from `{dir}/{stack}.yaml`.
fn stack_sources(
    stage: &Stage,
    templates_dir: Option<&std::path::Path>,
) -> Result<Vec<StackSource>> {
    stacks::synth(stage)
        .into_iter()
        .map(|synth| {
            let body = match templates_dir {
                None => synth.template.to_yaml(),
                Some(dir) => {
                    let path = dir.join(format!("{}.yaml", synth.name));
                    std::fs::read_to_string(&path).with_context(|| {
                        format!(
                            "cannot read {}; write the templates with `cargo xtask synth --stage {} --out {}`",
                            path.display(),
                            stage.name,
                            dir.display()
                        )
                    })?
                }
            };
            let document: serde_json::Value = serde_norway::from_str(&body)
                .with_context(|| format!("the template of {} is not valid YAML", synth.name))?;
            let parameters: Vec<_> = synth
                .template
                .parameters
                .iter()
                .map(|(name, parameter)| (name.clone(), parameter.source))
                .collect();
            // A reviewed template must take the parameters this version of Mumble fills.
            let declared: BTreeSet<&String> = document["Parameters"]
                .as_object()
                .map(|declared| declared.keys().collect())
                .unwrap_or_default();
            let expected: BTreeSet<&String> =
                parameters.iter().map(|(name, _)| name).collect();
            if declared != expected {
                bail!(
                    "the template of {} declares the parameters {declared:?}, but this version of Mumble fills {expected:?}; write the templates again with `cargo xtask synth --stage {}`",
                    synth.name,
                    stage.name
                );
            }
            Ok(StackSource { name: synth.name, part: synth.part, region: synth.region, body, document, parameters })
        })
        .collect()
}

/// How a stack's change set is created, decided from the stack's current state.
enum Start {
    Create,
    Update,
    /// A failed first create left the stack in ROLLBACK_COMPLETE; it can only be deleted.
    DeleteThenCreate {
        stack_id: String,
    },
}

fn start_for(
    name: &str,
    stage: &Stage,
    found: Option<&aws_sdk_cloudformation::types::Stack>,
) -> Result<Start> {
    let Some(found) = found else {
        return Ok(Start::Create);
    };
    let status = stack::status_of(found);
    match status.as_str() {
        "REVIEW_IN_PROGRESS" => Ok(Start::Create),
        "ROLLBACK_COMPLETE" => Ok(Start::DeleteThenCreate {
            stack_id: found.stack_id().unwrap_or(name).to_owned(),
        }),
        "UPDATE_ROLLBACK_FAILED" => bail!(
            "stack {name} is in UPDATE_ROLLBACK_FAILED: CloudFormation could not roll back its last update; \
             run `cargo xtask recover --stage {}`, then deploy again",
            stage.name
        ),
        "ROLLBACK_FAILED" | "DELETE_FAILED" => bail!(
            "stack {name} is in {status} and cannot be updated; delete it (`cargo xtask destroy --stage {}`, \
             or in the CloudFormation console) and deploy again",
            stage.name
        ),
        busy if stack::is_in_progress(busy) => {
            bail!("stack {name} is busy ({busy}); wait until it finishes, then deploy again")
        }
        _ => Ok(Start::Update),
    }
}

/// Step 4 and 5 for one stack: change set, diff, confirmation, execution, events, failures.
async fn deploy_stack(
    target: &Target,
    synth: &StackSource,
    outputs: &StageOutputs,
    found: Option<&aws_sdk_cloudformation::types::Stack>,
    parameters: &[Parameter],
    flags: &Deploy,
) -> Result<StackResult> {
    let cfn = target.cfn(synth);
    let template = template_source(target, synth, outputs).await?;
    // Change sets run as the stage's CloudFormation role once the bootstrap stack made one (the
    // bootstrap stack itself reads it from its own outputs): a CI deploy role may only hand over
    // that role.
    // The CloudFormation role may not change the bootstrap roles or the boundary, so an
    // administrator deploys the bootstrap stack as itself.
    let own_outputs = found.map(stack::outputs_of).unwrap_or_default();
    let role = if synth.part == Part::Bootstrap && !target.as_deploy_role {
        None
    } else {
        outputs.get(Output::CloudFormationRoleArn).or_else(|| {
            own_outputs
                .get(Output::CloudFormationRoleArn.name())
                .map(String::as_str)
        })
    };
    apply_stack(
        &cfn,
        &target.stage,
        &synth.name,
        found,
        &template,
        parameters.to_vec(),
        role,
        &Apply {
            yes: flags.yes,
            allow_replacement: flags.allow_replacement,
            timeout: timeout(flags),
            verb: "deploy",
            config: Some(target.config.clone()),
        },
    )
    .await
}

/// How `apply_stack` asks and waits.
pub struct Apply {
    pub yes: bool,
    pub allow_replacement: bool,
    pub timeout: Duration,
    /// `deploy` or `rollback`, for the question and the messages.
    pub verb: &'static str,
    /// The stage's AWS configuration, to follow the CodeDeploy deployments an app stack update
    /// starts where the stage shifts traffic gradually; `None` does not follow them.
    pub config: Option<SdkConfig>,
}

/// One stack brought to a template and parameters through a change set: diff, replacement check,
/// confirmation, execution, events, failures.
#[allow(clippy::too_many_arguments)]
pub async fn apply_stack(
    cfn: &aws_sdk_cloudformation::Client,
    stage: &Stage,
    name: &str,
    found: Option<&aws_sdk_cloudformation::types::Stack>,
    template: &TemplateSource,
    parameters: Vec<Parameter>,
    role: Option<&str>,
    apply: &Apply,
) -> Result<StackResult> {
    let start = start_for(name, stage, found)?;
    let kind = match start {
        Start::Create => ChangeSetType::Create,
        Start::Update => ChangeSetType::Update,
        Start::DeleteThenCreate { stack_id } => {
            ui::warn(format!(
                "stack {name} is in ROLLBACK_COMPLETE after a failed first create; deleting it to create it again"
            ));
            events::delete(cfn, &stack_id, name, apply.timeout).await?;
            ChangeSetType::Create
        }
    };
    let (id, stack_id, changes) = match changeset::create(
        cfn,
        name,
        kind.clone(),
        template,
        parameters,
        role,
        &stage.name,
    )
    .await?
    {
        Prepared::NoChanges => {
            ui::info(format!("{name}: no changes"));
            return Ok(StackResult {
                name: name.to_owned(),
                action: StackAction::Unchanged,
                changes: Changes::default(),
            });
        }
        Prepared::Ready {
            id,
            stack_id,
            changes,
        } => (id, stack_id, changes),
    };
    let action = if kind == ChangeSetType::Create {
        StackAction::Create
    } else {
        StackAction::Update
    };
    ui::step(format!(
        "{} {name}",
        if action == StackAction::Create {
            "create"
        } else {
            "update"
        }
    ));
    eprint!("{changes}");
    if let Err(error) =
        changeset::check_replacements(name, &changes, stage.protected, apply.allow_replacement)
    {
        changeset::delete(cfn, &id, &stack_id).await.ok();
        return Err(error);
    }
    if !apply.yes && !confirm(&format!("{} these changes to {name}?", apply.verb))? {
        changeset::delete(cfn, &id, &stack_id).await.ok();
        bail!("{} cancelled; nothing was changed in {name}", apply.verb);
    }
    let seen = events::seen_events(cfn, &stack_id).await?;
    let shifting = apply
        .config
        .as_ref()
        .and_then(|config| traffic::Follower::for_stack(config, stage, name));
    let executed = changeset::execute(cfn, &id, &stack_id).await;
    let update = Box::pin(events::follow(cfn, &stack_id, name, seen, apply.timeout));
    let (outcome, stopped) = match &shifting {
        Some(follower) => Box::pin(follower.follow(update)).await,
        None => (update.await, Vec::new()),
    };
    let outcome = outcome?;
    for deployment in &stopped {
        ui::error(deployment);
    }
    if let Err(error) = &executed {
        ui::error(format!(
            "CloudFormation refused to execute the change set of {name}: {error:#}"
        ));
    }
    let succeeded = matches!(
        outcome.status.as_str(),
        "CREATE_COMPLETE" | "UPDATE_COMPLETE"
    ) && executed.is_ok();
    if !succeeded {
        for failure in &outcome.failures {
            ui::error(failure);
        }
        let mut reasons: Vec<String> = stopped.iter().map(ToString::to_string).collect();
        reasons.extend(outcome.failures.iter().map(ToString::to_string));
        if let Err(error) = executed {
            reasons.push(format!("{error:#}"));
        }
        let next = match outcome.status.as_str() {
            "ROLLBACK_COMPLETE" => "the next deploy deletes the rolled-back stack and creates it again; fix the cause first".to_owned(),
            "UPDATE_ROLLBACK_COMPLETE" => format!("the stack is back to its previous state; fix the cause and {} again", apply.verb),
            "UPDATE_ROLLBACK_FAILED" => format!("run `cargo xtask recover --stage {}`, then {} again", stage.name, apply.verb),
            _ => format!("see the events above, fix the cause and {} again", apply.verb),
        };
        bail!(
            "stack {name} failed ({}): {}; {next}",
            outcome.status,
            reasons.join("; ")
        );
    }
    if !stopped.is_empty() {
        let reasons: Vec<String> = stopped.iter().map(ToString::to_string).collect();
        bail!(
            "stack {name} was updated, but {}; fix the cause and {} again",
            reasons.join("; "),
            apply.verb
        );
    }
    Ok(StackResult {
        name: name.to_owned(),
        action,
        changes,
    })
}

fn timeout(flags: &Deploy) -> Duration {
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

/// The template inline, or uploaded to the artifacts bucket when it is over CloudFormation's
/// inline limit.
async fn template_source(
    target: &Target,
    synth: &StackSource,
    outputs: &StageOutputs,
) -> Result<TemplateSource> {
    let body = synth.body.clone();
    if body.len() <= changeset::INLINE_TEMPLATE_LIMIT {
        return Ok(TemplateSource::Body(body));
    }
    let bucket = outputs.require(&target.stage, Output::ArtifactsBucketName)?;
    let key = template_key(&synth.name, &hex::encode(Sha256::digest(body.as_bytes())));
    upload_template(target, &bucket, &key, &body).await?;
    let config = stack::config_for(&target.config, &target.stage, &target.stage.region);
    let region = aws::region(&config);
    Ok(TemplateSource::Url(format!(
        "https://{bucket}.s3.{region}.amazonaws.com/{key}"
    )))
}

/// The stack's parameters, filled from earlier stacks' outputs and the artifact keys.
fn parameters(
    synth: &StackSource,
    outputs: &StageOutputs,
    artifacts: &[Artifact],
) -> Result<Vec<Parameter>> {
    let mut filled = Vec::new();
    for (name, source) in &synth.parameters {
        let value = match source {
            ParameterSource::Output(output) => outputs.get(*output).map(str::to_owned),
            ParameterSource::CodeKey { function } => artifacts
                .iter()
                .find(|artifact| artifact.function == *function)
                .map(|artifact| artifact.key.clone()),
        };
        let Some(value) = value else {
            bail!(
                "stack {} needs parameter {name}, and no earlier stack or artifact provides it",
                synth.name
            );
        };
        filled.push(
            Parameter::builder()
                .parameter_key(name)
                .parameter_value(value)
                .build(),
        );
    }
    Ok(filled)
}

/// Uploads the artifacts whose key is not in the bucket yet; returns the uploaded keys.
/// Keys in `known` (named by the last release, so never deleted since) are not looked for.
async fn upload_artifacts(
    config: &SdkConfig,
    bucket: &str,
    artifacts: &[Artifact],
    known: &BTreeSet<String>,
) -> Result<Vec<String>> {
    let s3 = aws_sdk_s3::Client::new(config);
    let unknown: Vec<Artifact> = artifacts
        .iter()
        .filter(|artifact| !known.contains(&artifact.key))
        .cloned()
        .collect();
    let missing = missing_artifacts(&s3, bucket, &unknown).await?;
    if missing.is_empty() {
        ui::info(format!(
            "all {} artifacts are in {bucket} already",
            artifacts.len()
        ));
        return Ok(Vec::new());
    }
    ui::step(format!(
        "uploading {} artifact(s) to {bucket}",
        missing.len()
    ));
    let bar = ui::progress(missing.len() as u64, "uploading artifacts");
    futures::stream::iter(missing.iter())
        .map(|artifact| {
            let s3 = &s3;
            let bar = bar.clone();
            async move {
                let body = aws_sdk_s3::primitives::ByteStream::from_path(&artifact.path)
                    .await
                    .with_context(|| format!("cannot read {}", artifact.path.display()))?;
                s3.put_object()
                    .bucket(bucket)
                    .key(&artifact.key)
                    .content_type("application/zip")
                    .body(body)
                    .send()
                    .await
                    .map_err(aws::sdk_error)
                    .with_context(|| format!("cannot upload {} to {bucket}", artifact.key))?;
                bar.inc(1);
                if !ui::is_interactive() {
                    ui::info(format!(
                        "uploaded {} ({})",
                        artifact.key,
                        build::size_text(artifact.size)
                    ));
                }
                anyhow::Ok(())
            }
        })
        .buffer_unordered(PARALLEL_ARTIFACT_UPLOADS)
        .try_collect::<()>()
        .await?;
    bar.finish_and_clear();
    Ok(missing
        .into_iter()
        .map(|artifact| artifact.key.clone())
        .collect())
}

/// The artifacts whose key is not in the bucket (HeadObject each; a key never changes content).
async fn missing_artifacts<'a>(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    artifacts: &'a [Artifact],
) -> Result<Vec<&'a Artifact>> {
    let present = futures::stream::iter(artifacts)
        .map(|artifact| async move {
            anyhow::Ok((artifact, object_exists(s3, bucket, &artifact.key).await?))
        })
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?;
    let mut missing: Vec<&Artifact> = present
        .into_iter()
        .filter(|(_, there)| !there)
        .map(|(artifact, _)| artifact)
        .collect();
    missing.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(missing)
}

/// The site's runtime configuration, from the stacks' outputs (shape in the contracts).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SiteConfig {
    stage: String,
    region: String,
    api_url: String,
    web_socket_url: String,
    user_pool_id: String,
    user_pool_client_id: String,
    cognito_endpoint: String,
    /// `offline` makes the site ask for the words, since nothing transcribes the audio.
    providers: &'static str,
}

fn site_config(target: &Target, outputs: &StageOutputs) -> Result<SiteFile> {
    let stage = &target.stage;
    let region = aws::region(&target.config);
    let config = SiteConfig {
        stage: stage.name.clone(),
        api_url: outputs.require(stage, Output::HttpApiUrl)?,
        web_socket_url: outputs.require(stage, Output::WebSocketUrl)?,
        user_pool_id: outputs.require(stage, Output::UserPoolId)?,
        user_pool_client_id: outputs.require(stage, Output::UserPoolClientId)?,
        cognito_endpoint: aws::cognito_endpoint(&target.config, &region),
        region,
        providers: stage.providers.as_str(),
    };
    let body = serde_json::to_vec_pretty(&config)?;
    Ok(SiteFile {
        key: "config.json".to_owned(),
        body: Arc::new(body),
    })
}

/// The read-only plan: what `deploy` would upload, change and invalidate. Stacks that exist get
/// a real change set (created, read, deleted) so replacements are exactly what CloudFormation
/// would do; stacks that do not exist yet list their template's resources as additions.
async fn plan(target: &Target) -> Result<Plan> {
    let stage = &target.stage;
    ui::step(format!("planning stage {} (read-only)", stage.name));
    let current = crate::outputs::read(&target.config, stage).await?;

    let artifacts = match current.get(Output::ArtifactsBucketName) {
        Some(bucket) => {
            let s3 = aws_sdk_s3::Client::new(&target.config);
            let missing = missing_artifacts(&s3, bucket, &target.artifacts).await?;
            ArtifactsPlan {
                present: target.artifacts.len() - missing.len(),
                upload: missing
                    .into_iter()
                    .map(|artifact| artifact.key.clone())
                    .collect(),
            }
        }
        None => ArtifactsPlan {
            upload: target
                .artifacts
                .iter()
                .map(|artifact| artifact.key.clone())
                .collect(),
            present: 0,
        },
    };

    let mut stacks = Vec::new();
    for synth in &target.stacks {
        stacks.push(plan_stack(target, synth, &current).await?);
    }

    let site_files = match site_config(target, &current) {
        Ok(config) => vec![config],
        // Before the app stack exists there is no config to compare; it will be new anyway.
        Err(_) => vec![SiteFile {
            key: "config.json".to_owned(),
            body: Arc::new(Vec::new()),
        }],
    };
    let files = site_sync::local_files(&target.site_dir, site_files)?;
    let (site, invalidate) = match current.get(Output::SiteBucketName) {
        Some(bucket) => {
            let remote =
                site_sync::remote_etags(&aws_sdk_s3::Client::new(&target.config), bucket).await?;
            let site = site_sync::plan(&files, &remote);
            let paths = cdn::invalidation_paths(site.upload.iter().chain(&site.delete));
            (site, paths)
        }
        None => {
            let upload = files.iter().map(|file| file.key.clone()).collect();
            (
                site_sync::SitePlan {
                    upload,
                    ..Default::default()
                },
                Vec::new(),
            )
        }
    };
    let cost = match cost_change(target).await {
        Ok(change) => Some(change),
        Err(error) => {
            ui::warn(format!("cannot estimate the cost change: {error:#}"));
            None
        }
    };
    Ok(Plan {
        stage: stage.name.clone(),
        artifacts,
        stacks,
        site,
        invalidate,
        cost,
    })
}

/// The monthly cost of the templates to deploy against the ones deployed (a stack not deployed
/// costs nothing yet), both at the stage's usage profile and list prices.
async fn cost_change(target: &Target) -> Result<cost::CostChange> {
    let inputs = cost::Inputs::load(&target.stage, None, false)?;
    let mut deployed = Vec::new();
    for synth in &target.stacks {
        let cfn = target.cfn(synth);
        let Some(found) = stack::describe(&cfn, &synth.name).await? else {
            continue;
        };
        // A failed first create left nothing running; a stack under review has no template yet.
        if matches!(
            stack::status_of(&found).as_str(),
            "ROLLBACK_COMPLETE" | "REVIEW_IN_PROGRESS" | "DELETE_COMPLETE"
        ) {
            continue;
        }
        let body = stack::template_body(&cfn, &synth.name).await?;
        let document = serde_norway::from_str(&body).with_context(|| {
            format!(
                "the deployed template of {} is not valid YAML or JSON",
                synth.name
            )
        })?;
        deployed.push(cost::estimate::Template {
            stack: synth.name.clone(),
            document,
        });
    }
    let planned: Vec<cost::estimate::Template> = target
        .stacks
        .iter()
        .map(|synth| cost::estimate::Template {
            stack: synth.name.clone(),
            document: synth.document.clone(),
        })
        .collect();
    Ok(cost::CostChange::between(
        &inputs.estimate(&deployed)?,
        &inputs.estimate(&planned)?,
    ))
}

async fn plan_stack(
    target: &Target,
    synth: &StackSource,
    current: &StageOutputs,
) -> Result<StackPlan> {
    let cfn = target.cfn(synth);
    let found = stack::describe(&cfn, &synth.name).await?;
    let start = match start_for(&synth.name, &target.stage, found.as_ref()) {
        Ok(start) => start,
        Err(error) => {
            return Ok(StackPlan {
                name: synth.name.clone(),
                action: StackAction::Blocked,
                changes: Changes::default(),
                note: Some(format!("{error:#}")),
            });
        }
    };
    if !matches!(start, Start::Update) {
        let note = matches!(start, Start::DeleteThenCreate { .. }).then(|| {
            "in ROLLBACK_COMPLETE after a failed first create: deleted, then created again"
                .to_owned()
        });
        return Ok(StackPlan {
            name: synth.name.clone(),
            action: StackAction::Create,
            changes: template_resources(&synth.document),
            note,
        });
    }
    let template = template_source(target, synth, current).await?;
    let parameters = parameters(synth, current, &target.artifacts)?;
    match changeset::create(
        &cfn,
        &synth.name,
        ChangeSetType::Update,
        &template,
        parameters,
        current.get(Output::CloudFormationRoleArn),
        &target.stage.name,
    )
    .await?
    {
        Prepared::NoChanges => Ok(StackPlan {
            name: synth.name.clone(),
            action: StackAction::Unchanged,
            changes: Changes::default(),
            note: None,
        }),
        Prepared::Ready {
            id,
            stack_id,
            changes,
        } => {
            changeset::delete(&cfn, &id, &stack_id).await?;
            Ok(StackPlan {
                name: synth.name.clone(),
                action: StackAction::Update,
                changes,
                note: None,
            })
        }
    }
}

/// Every resource of a template, as additions.
fn template_resources(template: &serde_json::Value) -> Changes {
    let resources = template["Resources"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    Changes(
        resources
            .into_iter()
            .map(|(logical_id, resource)| changeset::ResourceChange {
                action: changeset::Action::Add,
                logical_id,
                resource_type: resource["Type"].as_str().unwrap_or_default().to_owned(),
                replacement: None,
            })
            .collect(),
    )
}
