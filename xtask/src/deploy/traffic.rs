//! Following the CodeDeploy deployments an app stack update starts in a stage that shifts traffic
//! gradually (`traffic_shifting` in stages.yaml): per function, the percent of traffic on the new
//! version, the alarms watched and the time left; and when CodeDeploy stops a deployment, which
//! function and which alarm, so the deploy can say so and fail.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_codedeploy::primitives::DateTime;
use aws_sdk_codedeploy::types::{DeploymentInfo, TimeRange};
use stacks::functions::{FUNCTIONS, FunctionSpec, LIVE, codedeploy_application_name};
use stacks::{Part, Stage, TrafficShifting, monitoring};

use crate::{aws, ui};

/// How often a running deployment is read while the stack update goes on.
const POLL: Duration = Duration::from_secs(5);

/// A deployment CodeDeploy stopped or failed: the function whose traffic did not move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsuccessful {
    pub function: &'static str,
    pub deployment_id: String,
    /// `Stopped` or `Failed`.
    pub status: String,
    /// The function's rollback alarms that CodeDeploy's message names.
    pub alarms: Vec<String>,
    pub message: String,
}

impl fmt::Display for Unsuccessful {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = &self.deployment_id;
        let function = self.function;
        if self.alarms.is_empty() {
            write!(
                f,
                "traffic shifting of {function} {} (CodeDeploy deployment {id}): {}",
                self.status.to_lowercase(),
                self.message
            )
        } else {
            write!(
                f,
                "traffic shifting of {function} was stopped by alarm {} (CodeDeploy deployment {id}); \
                 CodeDeploy moved {function}:{LIVE} back to the previous version",
                self.alarms.join(", ")
            )
        }
    }
}

/// Reads the deployments of one stage's deployment groups.
pub struct Follower {
    codedeploy: aws_sdk_codedeploy::Client,
    lambda: aws_sdk_lambda::Client,
    stage: String,
    shifting: TrafficShifting,
    application: String,
    since: SystemTime,
}

/// What was last shown of one deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Shown {
    status: String,
    percent: u32,
    minutes_left: u32,
}

impl Follower {
    /// A follower for the update of `stack`, starting now; `None` unless it is the app stack of
    /// a stage that shifts traffic through CodeDeploy.
    pub fn for_stack(config: &SdkConfig, stage: &Stage, stack: &str) -> Option<Follower> {
        stage.traffic_shifting.deployment_config()?;
        if stack != stage.stack_name(Part::App) {
            return None;
        }
        Some(Follower {
            codedeploy: aws_sdk_codedeploy::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            stage: stage.name.clone(),
            shifting: stage.traffic_shifting,
            application: codedeploy_application_name(&stage.name),
            // A little before now: the clocks of this machine and of AWS differ slightly.
            since: SystemTime::now() - Duration::from_secs(5),
        })
    }

    /// Runs `update` (the stack update) and shows the deployments it starts until it ends;
    /// returns its result and the deployments CodeDeploy stopped or failed.
    pub async fn follow<T>(&self, update: impl Future<Output = T>) -> (T, Vec<Unsuccessful>) {
        let mut shown = BTreeMap::new();
        let mut warned = false;
        let mut update = std::pin::pin!(update);
        let result = loop {
            tokio::select! {
                result = &mut update => break result,
                () = tokio::time::sleep(POLL) => {
                    if let Err(error) = self.poll(&mut shown).await
                        && !warned
                    {
                        warned = true;
                        ui::warn(format!("cannot read the CodeDeploy deployments: {error:#}"));
                    }
                }
            }
        };
        // Once more: the last step (or, on the emulator, every step) ended with the update.
        match self.poll(&mut shown).await {
            Ok(unsuccessful) => (result, unsuccessful),
            Err(error) => {
                ui::warn(format!(
                    "cannot read the CodeDeploy deployments: {error:#}; see them in the CodeDeploy console (application {})",
                    self.application
                ));
                (result, Vec::new())
            }
        }
    }

    /// Reads every deployment started since the update began, shows what changed, and returns
    /// those that were stopped or failed.
    async fn poll(&self, shown: &mut BTreeMap<String, Shown>) -> anyhow::Result<Vec<Unsuccessful>> {
        let mut unsuccessful = Vec::new();
        for f in FUNCTIONS {
            for deployment in self.deployments(f).await? {
                let id = deployment.deployment_id().unwrap_or_default().to_owned();
                let status = deployment
                    .status()
                    .map(|status| status.as_str().to_owned())
                    .unwrap_or_default();
                let rollback = deployment
                    .creator()
                    .is_some_and(|creator| creator.as_str() == "codeDeployRollback");
                let percent = self.percent(f, &status).await;
                let now = Shown {
                    minutes_left: self.minutes_left(&deployment, &status),
                    status: status.clone(),
                    percent,
                };
                if shown.get(&id) != Some(&now) {
                    self.show(f, &id, &now, rollback);
                    shown.insert(id.clone(), now);
                }
                if !rollback && matches!(status.as_str(), "Stopped" | "Failed") {
                    let message = deployment
                        .error_information()
                        .and_then(|error| error.message())
                        .unwrap_or("no reason given")
                        .to_owned();
                    unsuccessful.push(Unsuccessful {
                        function: f.name,
                        deployment_id: id,
                        status,
                        alarms: named_alarms(&self.stage, f, &message),
                        message,
                    });
                }
            }
        }
        Ok(unsuccessful)
    }

    /// The function's deployments created since the update began, oldest first.
    async fn deployments(&self, f: &FunctionSpec) -> anyhow::Result<Vec<DeploymentInfo>> {
        let group = f.deployment_group_name(&self.stage);
        let ids: Vec<String> = self
            .codedeploy
            .list_deployments()
            .application_name(&self.application)
            .deployment_group_name(&group)
            .create_time_range(
                TimeRange::builder()
                    .start(DateTime::from(self.since))
                    .build(),
            )
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(aws::sdk_error)?;
        let mut deployments = Vec::new();
        for id in ids {
            let found = self
                .codedeploy
                .get_deployment()
                .deployment_id(&id)
                .send()
                .await
                .map_err(aws::sdk_error)?;
            if let Some(info) = found.deployment_info {
                deployments.push(info);
            }
        }
        deployments.sort_by_key(|d| d.create_time().map(|t| (t.secs(), t.subsec_nanos())));
        Ok(deployments)
    }

    /// Percent of the function's traffic on the new version: the weight `live` gives it while
    /// the deployment runs.
    async fn percent(&self, f: &FunctionSpec, status: &str) -> u32 {
        match status {
            "Succeeded" => 100,
            "Stopped" | "Failed" => 0,
            _ => {
                let alias = self
                    .lambda
                    .get_alias()
                    .function_name(f.physical_name(&self.stage))
                    .name(LIVE)
                    .send()
                    .await;
                alias
                    .ok()
                    .and_then(|alias| alias.routing_config)
                    .and_then(|routing| routing.additional_version_weights)
                    .and_then(|weights| weights.values().next().copied())
                    .map_or(0, |weight| (weight * 100.0).round() as u32)
            }
        }
    }

    fn minutes_left(&self, deployment: &DeploymentInfo, status: &str) -> u32 {
        if !matches!(status, "Created" | "Queued" | "InProgress" | "Ready") {
            return 0;
        }
        let started = deployment
            .start_time()
            .or(deployment.create_time())
            .and_then(|t| SystemTime::try_from(*t).ok())
            .unwrap_or_else(SystemTime::now);
        let elapsed = SystemTime::now()
            .duration_since(started)
            .unwrap_or_default()
            .as_secs();
        let total = u64::from(self.shifting.total_seconds());
        u32::try_from(total.saturating_sub(elapsed).div_ceil(60)).unwrap_or(u32::MAX)
    }

    fn show(&self, f: &FunctionSpec, id: &str, now: &Shown, rollback: bool) {
        let function = f.name;
        match (now.status.as_str(), rollback) {
            ("Succeeded", true) => ui::warn(format!(
                "{function}: CodeDeploy moved {LIVE} back to the previous version (deployment {id})"
            )),
            ("Succeeded", false) => ui::info(format!(
                "{function}: 100% on the new version (deployment {id}, {})",
                self.shifting
            )),
            ("Stopped" | "Failed", _) => ui::error(format!(
                "{function}: deployment {id} {}",
                now.status.to_lowercase()
            )),
            (status, _) => ui::info(format!(
                "{function}: {}% on the new version, watching {}, about {} min left ({status}, deployment {id})",
                now.percent,
                monitoring::rollback_alarm_names(&self.stage, f).join(" and "),
                now.minutes_left
            )),
        }
    }
}

/// The function's rollback alarms that CodeDeploy's message names ("... Activated alarms:
/// <mumble-prod-worker-errors>").
fn named_alarms(stage: &str, f: &FunctionSpec, message: &str) -> Vec<String> {
    monitoring::rollback_alarm_names(stage, f)
        .into_iter()
        .filter(|alarm| message.contains(alarm.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_deployment_names_the_function_and_its_alarm() {
        let worker = stacks::functions::function("worker").unwrap();
        let message = "One or more alarms have been activated according to the Amazon CloudWatch \
                       metrics you selected, and the affected deployments have been stopped. \
                       Activated alarms: <mumble-prod-worker-errors>";
        let alarms = named_alarms("prod", worker, message);
        assert_eq!(alarms, ["mumble-prod-worker-errors"]);
        let stopped = Unsuccessful {
            function: worker.name,
            deployment_id: "d-1".into(),
            status: "Stopped".into(),
            alarms,
            message: message.into(),
        };
        assert_eq!(
            stopped.to_string(),
            "traffic shifting of worker was stopped by alarm mumble-prod-worker-errors (CodeDeploy \
             deployment d-1); CodeDeploy moved worker:live back to the previous version"
        );
    }
}
