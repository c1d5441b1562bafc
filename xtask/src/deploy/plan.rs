//! What a deploy would do (`--dry-run`, `cargo xtask diff`) and what it did: both print as text
//! for people and serialize as JSON for CI.
//!
//! One file over 500 lines: the plan's types and the code that makes them change together, and a
//! fifth of the file is their tests.

use std::fmt;

use serde::Serialize;

use crate::cdn::Invalidation;
use crate::cloudformation::changeset::{Action, Changes};
use crate::cost::CostChange;
use crate::site_sync::SitePlan;
use crate::ui;
use std::sync::Arc;

use anyhow::{Context, Result};
use aws_sdk_cloudformation::types::ChangeSetType;
use stacks::{FUNCTIONS, Output, Part};

use super::Target;
use super::apply::{StackSource, Start, parameters, start_for, template_source};
use super::artifacts::missing_artifacts;
use super::site::site_config;
use crate::cloudformation::{changeset, stack};
use crate::outputs::StageOutputs;
use crate::site_sync::{self, SiteFile};
use crate::{cdn, cost};
use changeset::Prepared;

/// What happens (or happened) to one stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StackAction {
    Create,
    Update,
    Unchanged,
    /// The stack cannot be deployed as it is (e.g. stuck in UPDATE_ROLLBACK_FAILED).
    Blocked,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackPlan {
    pub name: String,
    pub action: StackAction,
    pub changes: Changes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Artifacts by S3 key: the ones to upload and how many are there already.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ArtifactsPlan {
    pub upload: Vec<String>,
    pub present: usize,
}

/// The read-only plan of a deploy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub stage: String,
    pub artifacts: ArtifactsPlan,
    pub stacks: Vec<StackPlan>,
    pub site: SitePlan,
    pub invalidate: Vec<String>,
    /// The monthly cost change of the stacks' changes at the stage's usage profile (`None` when
    /// it could not be estimated; the plan says why).
    pub cost: Option<CostChange>,
    /// The functions whose `live` alias CodeDeploy will move gradually, in a stage that shifts
    /// traffic; `None` when the deploy moves no alias that way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<TrafficPlan>,
}

/// The gradual moves of `live` a deploy will start: CodeDeploy's configuration and the functions.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficPlan {
    pub deployment_config: String,
    /// Minutes from the start of a move until all traffic is on the new version.
    pub minutes: u32,
    pub functions: Vec<String>,
}

impl TrafficPlan {
    /// The functions whose published version the app stack's update replaces, when the stage
    /// shifts traffic gradually. A stack being created gets its aliases at once.
    fn of(stage: &stacks::Stage, stacks: &[StackPlan]) -> Option<TrafficPlan> {
        let deployment_config = stage.traffic_shifting.deployment_config()?;
        let app = stacks
            .iter()
            .find(|stack| stack.name == stage.stack_name(Part::App))
            .filter(|stack| stack.action == StackAction::Update)?;
        let functions: Vec<String> = FUNCTIONS
            .iter()
            .filter(|function| {
                let version = function.version_logical_id();
                app.changes.0.iter().any(|change| {
                    change.logical_id == version && !matches!(change.action, Action::Remove)
                })
            })
            .map(|function| function.name.to_owned())
            .collect();
        (!functions.is_empty()).then(|| TrafficPlan {
            deployment_config,
            minutes: stage.traffic_shifting.total_seconds() / 60,
            functions,
        })
    }
}

impl Plan {
    pub fn changes_anything(&self) -> bool {
        !self.artifacts.upload.is_empty()
            || self
                .stacks
                .iter()
                .any(|stack| stack.action != StackAction::Unchanged)
            || !self.site.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", ui::bold(format!("plan for stage {}", self.stage)))?;
        writeln!(
            f,
            "  artifacts: {} to upload, {} already there",
            self.artifacts.upload.len(),
            self.artifacts.present
        )?;
        for key in &self.artifacts.upload {
            writeln!(f, "    {}", ui::green(format!("+ {key}")))?;
        }
        for stack in &self.stacks {
            let action = match stack.action {
                StackAction::Create => ui::green("create"),
                StackAction::Update => ui::yellow("update"),
                StackAction::Unchanged => ui::dim("no changes"),
                StackAction::Blocked => ui::red("blocked"),
            };
            writeln!(f, "  stack {}: {action}", stack.name)?;
            if let Some(note) = &stack.note {
                writeln!(f, "    {note}")?;
            }
            write!(f, "{}", stack.changes)?;
        }
        writeln!(
            f,
            "  site: {} to upload, {} to delete, {} unchanged",
            self.site.upload.len(),
            self.site.delete.len(),
            self.site.unchanged
        )?;
        for key in &self.site.upload {
            writeln!(f, "    {}", ui::green(format!("+ {key}")))?;
        }
        for key in &self.site.delete {
            writeln!(f, "    {}", ui::red(format!("- {key}")))?;
        }
        if self.invalidate.is_empty() {
            writeln!(f, "  cdn: nothing to invalidate")?;
        } else {
            writeln!(f, "  cdn: invalidate {}", self.invalidate.join(" "))?;
        }
        if let Some(traffic) = &self.traffic {
            writeln!(
                f,
                "  traffic: CodeDeploy moves live of {} to the new version gradually ({}, \
                 {} minutes each); their error or throttle alarm rolls a move back",
                traffic.functions.join(", "),
                traffic.deployment_config,
                traffic.minutes
            )?;
        }
        if let Some(cost) = &self.cost {
            write!(f, "{cost}")?;
        }
        if !self.changes_anything() {
            writeln!(
                f,
                "{}",
                ui::dim("nothing to deploy: the stage is up to date")
            )?;
        }
        Ok(())
    }
}

/// What one stack's deploy did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackResult {
    pub name: String,
    pub action: StackAction,
    pub changes: Changes,
}

/// What a deploy did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub stage: String,
    pub site_url: Option<String>,
    pub api_url: Option<String>,
    /// Artifact keys uploaded by this deploy.
    pub artifacts_uploaded: Vec<String>,
    pub stacks: Vec<StackResult>,
    /// Site keys uploaded (`upload`) and deleted (`delete`).
    pub site: SitePlan,
    pub invalidation: Option<Invalidation>,
    /// The release this deploy recorded (`cargo xtask releases`); none when nothing changed.
    pub release: Option<u64>,
    pub seconds: f64,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}",
            ui::bold(format!(
                "stage {} deployed in {:.1}s",
                self.stage, self.seconds
            ))
        )?;
        if let Some(url) = &self.site_url {
            writeln!(f, "  site: {url}")?;
        }
        if let Some(url) = &self.api_url {
            writeln!(f, "  api:  {url}")?;
        }
        writeln!(f, "  artifacts uploaded: {}", self.artifacts_uploaded.len())?;
        for stack in &self.stacks {
            let action = match stack.action {
                StackAction::Create => "created".to_owned(),
                StackAction::Update => format!("updated ({} changes)", stack.changes.0.len()),
                StackAction::Unchanged | StackAction::Blocked => "unchanged".to_owned(),
            };
            writeln!(f, "  {}: {action}", stack.name)?;
        }
        writeln!(
            f,
            "  site files: {} uploaded, {} deleted, {} unchanged",
            self.site.upload.len(),
            self.site.delete.len(),
            self.site.unchanged
        )?;
        match &self.invalidation {
            Some(invalidation) => writeln!(
                f,
                "  cdn: invalidation {} ({}) for {}",
                invalidation.id,
                invalidation.status,
                invalidation.paths.join(" ")
            )?,
            None => writeln!(f, "  cdn: nothing to invalidate")?,
        }
        match self.release {
            Some(id) => writeln!(f, "  release: {id}")?,
            None => writeln!(f, "  release: none (nothing changed)")?,
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Making the plan: what each stack, artifact and site file would become.

/// The read-only plan: what `deploy` would upload, change and invalidate. Stacks that exist get
/// a real change set (created, read, deleted) so replacements are exactly what CloudFormation
/// would do; stacks that do not exist yet list their template's resources as additions.
pub(super) async fn plan(target: &Target) -> Result<Plan> {
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
                SitePlan {
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
        traffic: TrafficPlan::of(stage, &stacks),
        stacks,
        site,
        invalidate,
        cost,
    })
}

/// The monthly cost of the templates to deploy against the ones deployed (a stack not deployed
/// costs nothing yet), both at the stage's usage profile and list prices.
pub(super) async fn cost_change(target: &Target) -> Result<CostChange> {
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
    Ok(CostChange::between(
        &inputs.estimate(&deployed)?,
        &inputs.estimate(&planned)?,
    ))
}

pub(super) async fn plan_stack(
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
pub(crate) fn template_resources(template: &serde_json::Value) -> Changes {
    let resources = template["Resources"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    Changes(
        resources
            .into_iter()
            .map(|(logical_id, resource)| changeset::ResourceChange {
                action: Action::Add,
                logical_id,
                resource_type: resource["Type"].as_str().unwrap_or_default().to_owned(),
                replacement: None,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudformation::changeset::ResourceChange;

    fn plan() -> Plan {
        Plan {
            stage: "alice".into(),
            artifacts: ArtifactsPlan {
                upload: vec!["lambdas/health/abc.zip".into()],
                present: 10,
            },
            stacks: vec![
                StackPlan {
                    name: "mumble-alice-data".into(),
                    action: StackAction::Unchanged,
                    changes: Changes::default(),
                    note: None,
                },
                StackPlan {
                    name: "mumble-alice-app".into(),
                    action: StackAction::Update,
                    changes: Changes(vec![ResourceChange {
                        action: Action::Modify,
                        logical_id: "HealthFunction".into(),
                        resource_type: "AWS::Lambda::Function".into(),
                        replacement: None,
                    }]),
                    note: None,
                },
            ],
            site: SitePlan {
                upload: vec!["index.html".into()],
                delete: vec!["old.js".into()],
                unchanged: 3,
            },
            invalidate: vec!["/".into(), "/index.html".into(), "/old.js".into()],
            cost: None,
            traffic: None,
        }
    }

    fn app_update(stage: &str, action: StackAction, changed: &[&str]) -> Vec<StackPlan> {
        let changes = changed
            .iter()
            .map(|logical_id| ResourceChange {
                action: Action::Modify,
                logical_id: (*logical_id).into(),
                resource_type: "AWS::Lambda::Version".into(),
                replacement: Some("True".into()),
            })
            .collect();
        vec![StackPlan {
            name: format!("mumble-{stage}-app"),
            action,
            changes: Changes(changes),
            note: None,
        }]
    }

    #[test]
    fn a_stage_that_shifts_traffic_names_the_functions_whose_live_alias_moves() {
        let prod = crate::stage::resolve("prod").unwrap();
        let stacks = app_update("prod", StackAction::Update, &["WorkerVersion"]);
        let traffic = TrafficPlan::of(&prod, &stacks).expect("prod shifts traffic");
        assert_eq!(traffic.functions, ["worker"]);
        assert_eq!(
            traffic.deployment_config,
            "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        );
        assert_eq!(traffic.minutes, 5);

        // Created stacks get their aliases at once; dev moves them at once too.
        let created = app_update("prod", StackAction::Create, &["WorkerVersion"]);
        assert!(TrafficPlan::of(&prod, &created).is_none());
        let dev = crate::stage::resolve("dev").unwrap();
        let stacks = app_update("dev", StackAction::Update, &["WorkerVersion"]);
        assert!(TrafficPlan::of(&dev, &stacks).is_none());
    }

    #[test]
    fn the_plan_reads_as_text() {
        let text = plan().to_string();
        assert!(
            text.contains("artifacts: 1 to upload, 10 already there"),
            "{text}"
        );
        assert!(text.contains("+ lambdas/health/abc.zip"));
        assert!(text.contains("stack mumble-alice-data: no changes"));
        assert!(text.contains("stack mumble-alice-app: update"));
        assert!(text.contains("~ HealthFunction"));
        assert!(text.contains("site: 1 to upload, 1 to delete, 3 unchanged"));
        assert!(text.contains("- old.js"));
        assert!(text.contains("cdn: invalidate / /index.html /old.js"));
    }

    #[test]
    fn the_plan_serializes_for_ci() {
        let json = serde_json::to_value(plan()).unwrap();
        assert_eq!(json["stacks"][1]["action"], "update");
        assert_eq!(
            json["stacks"][1]["changes"][0]["logicalId"],
            "HealthFunction"
        );
        assert_eq!(json["site"]["delete"][0], "old.js");
        assert_eq!(json["invalidate"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn an_up_to_date_stage_says_so() {
        let mut plan = plan();
        plan.artifacts.upload.clear();
        plan.stacks
            .retain(|stack| stack.action == StackAction::Unchanged);
        plan.site = SitePlan {
            unchanged: 4,
            ..SitePlan::default()
        };
        plan.invalidate.clear();
        assert!(plan.to_string().contains("nothing to deploy"));
    }
}
