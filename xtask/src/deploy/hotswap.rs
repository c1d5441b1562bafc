//! `deploy --hotswap`: when only function code and site files changed since the last release,
//! the changed functions get their new code directly and the site is synced — no change set.
//! Anything else (a template, a parameter other than a code key, a stack changed since) falls
//! back to a full deploy, and says why. Unprotected stages only.
//!
//! The release records the hotswapped code keys as the app stack's parameters, so a later full
//! deploy with the same code finds the stack in place and creates no change set.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use stacks::Output;

use super::apply::{parameter_map, parameters};
use super::artifacts::upload_artifacts;
use super::plan::{Report, StackAction, StackResult};
use super::site::sync_site;
use super::{NewRelease, Target, code};
use crate::cloudformation::stack;
use crate::outputs::StageOutputs;
use crate::release::{self, Release, StackRecord};
use crate::ui;

/// What the hotswap would change, or why it cannot.
enum Decision {
    /// Function name → new artifact key.
    Hotswap {
        previous: Box<Release>,
        functions: BTreeMap<String, String>,
    },
    FullDeploy(String),
}

/// Hotswaps, or returns `None` after saying why a full deploy is needed instead.
pub async fn run(target: &Target, wait: bool) -> Result<Option<Report>> {
    let started = Instant::now();
    let stage = &target.stage;
    let (previous, functions) = match decide(target).await? {
        Decision::Hotswap {
            previous,
            functions,
        } => (*previous, functions),
        Decision::FullDeploy(reason) => {
            ui::warn(format!(
                "cannot hotswap: {reason}; deploying in full instead"
            ));
            return Ok(None);
        }
    };
    ui::step(format!(
        "hotswapping stage {} ({} function(s), site)",
        stage.name,
        functions.len()
    ));
    let outputs = StageOutputs {
        stacks: previous.outputs.clone(),
    };
    let bucket = outputs.require(stage, Output::ArtifactsBucketName)?;
    let changed: Vec<_> = target
        .artifacts
        .iter()
        .filter(|artifact| functions.contains_key(&artifact.function))
        .cloned()
        .collect();
    let artifacts_uploaded =
        upload_artifacts(&target.config, &bucket, &changed, &previous.artifact_keys()).await?;
    for (function, key) in &functions {
        let spec = stacks::functions::function(function)
            .with_context(|| format!("no function named {function}"))?;
        code::update(
            &target.config,
            &spec.physical_name(&stage.name),
            &bucket,
            key,
        )
        .await?;
    }

    let s3 = aws_sdk_s3::Client::new(&target.config);
    let (site, manifest, invalidation) =
        sync_site(target, &s3, &outputs, Some(&previous), wait).await?;

    let app = stage.stack_name(stacks::Part::App);
    let records: Vec<StackRecord> = previous
        .stacks
        .iter()
        .map(|record| {
            let mut record = record.clone();
            if record.name == app {
                for (function, key) in &functions {
                    if let Some(spec) = stacks::functions::function(function) {
                        record
                            .parameters
                            .insert(spec.code_key_parameter(), key.clone());
                    }
                }
            }
            record
        })
        .collect();
    let mut all_functions = previous.functions.clone();
    all_functions.extend(functions.clone());
    let release = super::record_release(
        target,
        &outputs,
        Some(&previous),
        NewRelease {
            kind: release::Kind::Hotswap,
            rollback_to: None,
            functions: all_functions,
            stacks: records,
            site: manifest,
            replaced: Vec::new(),
        },
    )
    .await?;
    ui::done(format!(
        "stage {} hotswapped in {}",
        stage.name,
        ui::duration(started.elapsed())
    ));
    Ok(Some(Report {
        stage: stage.name.clone(),
        site_url: outputs.get(Output::SiteUrl).map(str::to_owned),
        api_url: outputs.get(Output::HttpApiUrl).map(str::to_owned),
        artifacts_uploaded,
        stacks: previous
            .stacks
            .iter()
            .map(|record| StackResult {
                name: record.name.clone(),
                action: StackAction::Unchanged,
                changes: Default::default(),
            })
            .collect(),
        site,
        invalidation,
        release,
        seconds: started.elapsed().as_secs_f64(),
    }))
}

/// Compares the synthesized stacks and the built artifacts with the last release.
async fn decide(target: &Target) -> Result<Decision> {
    let stage = &target.stage;
    let bootstrap = stage.stack_name(stacks::Part::Bootstrap);
    let Some(bucket) = stack::describe(&target.cfn_in(&stage.region), &bootstrap)
        .await?
        .and_then(|found| stack::outputs_of(&found).remove(Output::ArtifactsBucketName.name()))
    else {
        return Ok(Decision::FullDeploy(format!(
            "stage {} is not deployed yet",
            stage.name
        )));
    };
    let s3 = aws_sdk_s3::Client::new(&target.config);
    let Some(previous) = release::latest(&s3, &bucket, &stage.name).await? else {
        return Ok(Decision::FullDeploy(
            "the stage has no release to compare with".to_owned(),
        ));
    };
    let outputs = StageOutputs {
        stacks: previous.outputs.clone(),
    };
    let code_keys: Vec<String> = stacks::FUNCTIONS
        .iter()
        .map(|function| function.code_key_parameter())
        .collect();
    for synth in &target.stacks {
        let Some(record) = previous.stack(&synth.name) else {
            return Ok(Decision::FullDeploy(format!("stack {} is new", synth.name)));
        };
        let sha256 = hex::encode(Sha256::digest(synth.body.as_bytes()));
        if record.template_sha256 != sha256 {
            return Ok(Decision::FullDeploy(format!(
                "the template of {} changed",
                synth.name
            )));
        }
        let wanted = parameter_map(&parameters(synth, &outputs, &target.artifacts)?);
        let other = |map: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            map.iter()
                .filter(|(key, _)| !code_keys.contains(key))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect()
        };
        if other(&wanted) != other(&record.parameters) {
            return Ok(Decision::FullDeploy(format!(
                "the parameters of {} changed",
                synth.name
            )));
        }
        let found = stack::describe(&target.cfn(synth), &synth.name).await?;
        let in_place = found.as_ref().is_some_and(|found| {
            matches!(
                stack::status_of(found).as_str(),
                "CREATE_COMPLETE" | "UPDATE_COMPLETE"
            ) && record.updated == stack::updated_of(found)
        });
        if !in_place {
            return Ok(Decision::FullDeploy(format!(
                "stack {} changed since release {}",
                synth.name, previous.id
            )));
        }
    }
    let functions = target
        .artifacts
        .iter()
        .filter(|artifact| previous.functions.get(&artifact.function) != Some(&artifact.key))
        .map(|artifact| (artifact.function.clone(), artifact.key.clone()))
        .collect();
    Ok(Decision::Hotswap {
        previous: Box::new(previous),
        functions,
    })
}
