//! Follows a stack operation: prints its events as they come and collects the failures.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::StackEvent;
use serde::Serialize;

use super::stack;
use crate::{aws, ui};

/// A resource that failed, with CloudFormation's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}) {}: {}",
            self.logical_id, self.resource_type, self.status, self.reason
        )
    }
}

/// How a stack operation ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: String,
    pub failures: Vec<Failure>,
}

/// The ids of the events the stack already has, so that `follow` shows only new ones.
pub async fn seen_events(cfn: &Client, stack_id: &str) -> Result<HashSet<String>> {
    let events = recent_events(cfn, stack_id, &HashSet::new()).await?;
    Ok(events
        .iter()
        .filter_map(|event| event.event_id.clone())
        .collect())
}

/// The stack's events, newest first, down to the first one already `seen` (a big stack writes
/// hundreds of events between two polls, more than one page). With nothing seen, one page: that
/// is the history `follow` needs to skip.
async fn recent_events(
    cfn: &Client,
    stack_id: &str,
    seen: &HashSet<String>,
) -> Result<Vec<StackEvent>> {
    let mut events = Vec::new();
    let mut next_token = None;
    loop {
        let page = cfn
            .describe_stack_events()
            .stack_name(stack_id)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| format!("cannot read the events of stack {stack_id}"))?;
        let page_events = page.stack_events.unwrap_or_default();
        let reached_seen = page_events
            .iter()
            .any(|event| event.event_id().is_some_and(|id| seen.contains(id)));
        events.extend(page_events);
        next_token = page.next_token;
        if reached_seen || next_token.is_none() || seen.is_empty() {
            return Ok(events);
        }
    }
}

/// Waits until the stack is no longer in progress, printing each new event, for at most `limit`.
pub async fn follow(
    cfn: &Client,
    stack_id: &str,
    name: &str,
    mut seen: HashSet<String>,
    limit: Duration,
) -> Result<Outcome> {
    let started = Instant::now();
    let bar = ui::progress(0, name);
    let mut failures = Vec::new();
    let mut delay = Duration::from_millis(250);
    loop {
        let status = match stack::describe(cfn, stack_id).await? {
            Some(found) => stack::status_of(&found),
            None => "DELETE_COMPLETE".to_owned(),
        };
        // Events are newest first; show them oldest first.
        let events = recent_events(cfn, stack_id, &seen)
            .await
            .unwrap_or_default();
        for event in events.iter().rev() {
            let Some(id) = event.event_id() else { continue };
            if !seen.insert(id.to_owned()) {
                continue;
            }
            let line = event_line(event);
            if ui::is_interactive() {
                bar.println(format!("    {line}"))
            } else {
                ui::info(line)
            }
            let event_status = event
                .resource_status()
                .map(|status| status.as_str())
                .unwrap_or_default();
            let is_the_stack = event.logical_resource_id() == Some(name);
            if event_status.ends_with("_FAILED") && !is_the_stack {
                failures.push(Failure {
                    logical_id: event.logical_resource_id().unwrap_or_default().to_owned(),
                    resource_type: event.resource_type().unwrap_or_default().to_owned(),
                    status: event_status.to_owned(),
                    reason: event
                        .resource_status_reason()
                        .unwrap_or("no reason given")
                        .to_owned(),
                });
            }
        }
        bar.set_message(format!("{name} {status}"));
        if !stack::is_in_progress(&status) {
            bar.finish_and_clear();
            return Ok(Outcome { status, failures });
        }
        if started.elapsed() > limit {
            bar.finish_and_clear();
            bail!(
                "stack {name} is still {status} after {} minutes; it goes on in CloudFormation: \
                 watch it in the console, then run the command again",
                limit.as_secs() / 60
            );
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn event_line(event: &StackEvent) -> String {
    let time = event
        .timestamp()
        .and_then(|time| chrono::DateTime::from_timestamp(time.secs(), 0))
        .map(|time| time.format("%H:%M:%S").to_string())
        .unwrap_or_default();
    let status = event
        .resource_status()
        .map(|status| status.as_str())
        .unwrap_or_default();
    let painted = if status.ends_with("_FAILED") {
        ui::red(status)
    } else if status.ends_with("_COMPLETE") && !status.contains("ROLLBACK") {
        ui::green(status)
    } else {
        ui::yellow(status)
    };
    let mut line = format!(
        "{time} {painted} {} {}",
        event.logical_resource_id().unwrap_or_default(),
        ui::dim(event.resource_type().unwrap_or_default())
    );
    if let Some(reason) = event
        .resource_status_reason()
        .filter(|reason| !reason.is_empty())
    {
        line.push_str(&format!(" {}", ui::dim(reason)));
    }
    line
}

/// Deletes a stack and follows its events until it is gone; when it cannot be deleted, says which
/// resources kept it.
pub async fn delete(cfn: &Client, stack_id: &str, name: &str, limit: Duration) -> Result<()> {
    let seen = seen_events(cfn, stack_id).await?;
    cfn.delete_stack()
        .stack_name(stack_id)
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot delete stack {name}"))?;
    let outcome = follow(cfn, stack_id, name, seen, limit).await?;
    if outcome.status != "DELETE_COMPLETE" {
        for failure in &outcome.failures {
            ui::error(failure);
        }
        bail!(
            "stack {name} could not be deleted ({}); see the reasons above",
            outcome.status
        );
    }
    Ok(())
}
