//! Steps 4–5 of a deploy, one stack at a time: its template and parameters, whether the last
//! release already has them in place, its change set, the confirmation, the execution and its
//! events. `rollback` applies recorded templates through the same [`apply_stack`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{ChangeSetType, Parameter};
use sha2::{Digest, Sha256};
use stacks::cfn::ParameterSource;
use stacks::{Output, Part, Stage};

use super::plan::{StackAction, StackResult};
use super::{Target, confirm, timeout, traffic};
use crate::build::Artifact;
use crate::cli::Deploy;
use crate::cloudformation::{changeset, events, stack};
use crate::outputs::StageOutputs;
use crate::release::StackRecord;
use crate::{aws, ui};
use changeset::{Changes, Prepared, TemplateSource};

/// Where a template lives in the artifacts bucket: named by its content, so it never changes.
pub fn template_key(stack: &str, sha256: &str) -> String {
    format!("templates/{stack}/{sha256}.yaml")
}

/// Uploads a template under its content-addressed key unless it is there already.
pub(crate) async fn upload_template(
    target: &Target,
    bucket: &str,
    key: &str,
    body: &str,
) -> Result<()> {
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
pub(crate) async fn object_exists(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<bool> {
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
pub(crate) struct StackSource {
    pub(crate) name: String,
    pub(crate) part: Part,
    pub(crate) region: String,
    pub(crate) body: String,
    pub(crate) document: serde_json::Value,
    pub(crate) parameters: Vec<(String, ParameterSource)>,
}

/// The stage's stacks in deploy order: synthesized, or read from `{dir}/{stack}.yaml`.
pub(crate) fn stack_sources(
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
pub(crate) enum Start {
    Create,
    Update,
    /// A failed first create left the stack in ROLLBACK_COMPLETE; it can only be deleted.
    DeleteThenCreate {
        stack_id: String,
    },
}

pub(crate) fn start_for(
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
pub(crate) async fn deploy_stack(
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

/// The template inline, or uploaded to the artifacts bucket when it is over CloudFormation's
/// inline limit.
pub(crate) async fn template_source(
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
pub(crate) fn parameters(
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

pub(crate) fn parameter_map(parameters: &[Parameter]) -> BTreeMap<String, String> {
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

/// Whether a stack is exactly as a release recorded it: same template and parameters, in a
/// settled state, and not updated since (by hand, or by a failed deploy that rolled back).
///
/// The release, not the stack, is compared: after a hotswap the stack still lists the code keys
/// it was last deployed with, while the functions run the ones the release names.
pub(crate) fn is_in_place(
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
