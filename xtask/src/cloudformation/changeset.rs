//! Change sets: what CloudFormation would do to a stack, and how that reads to a person.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, Tag};
use serde::Serialize;

use crate::{aws, ui};

/// CloudFormation's limit for a template passed inline; larger ones go through S3.
pub const INLINE_TEMPLATE_LIMIT: usize = 51_200;
/// Creating a change set takes seconds; this bound only catches a stuck service.
const CREATE_LIMIT: Duration = Duration::from_secs(5 * 60);

/// Resource types whose replacement loses data: replacing them in a protected stage needs
/// `--allow-replacement`.
const STATEFUL_TYPES: [&str; 3] = [
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::Cognito::UserPool",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Add,
    Modify,
    Remove,
    Import,
    Dynamic,
}

/// One resource's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    pub action: Action,
    pub logical_id: String,
    pub resource_type: String,
    /// `True` or `Conditional` when CloudFormation replaces (or may replace) the resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

impl ResourceChange {
    pub fn replaces(&self) -> bool {
        self.replacement
            .as_deref()
            .is_some_and(|value| value == "True" || value == "Conditional")
    }

    pub fn loses_data(&self) -> bool {
        (self.replaces() || self.action == Action::Remove)
            && STATEFUL_TYPES.contains(&self.resource_type.as_str())
    }
}

/// A stack's changes, rendered as `+` add, `~` modify, `-` remove, with replacements loud.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Changes(pub Vec<ResourceChange>);

impl Changes {
    /// The resources of `stack` this change replaces or removes with their data, as
    /// `stack/LogicalId (Type)`: what a release records and a protected rollback refuses to cross.
    pub fn data_losses<'a>(&'a self, stack: &'a str) -> impl Iterator<Item = String> + 'a {
        self.0
            .iter()
            .filter(|change| change.loses_data())
            .map(move |change| format!("{stack}/{} ({})", change.logical_id, change.resource_type))
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id_width = self
            .0
            .iter()
            .map(|change| change.logical_id.len())
            .max()
            .unwrap_or(0);
        let type_width = self
            .0
            .iter()
            .map(|change| change.resource_type.len())
            .max()
            .unwrap_or(0);
        for change in &self.0 {
            let (sign, paint): (&str, fn(String) -> String) = match change.action {
                Action::Add => ("+", |text| ui::green(text)),
                Action::Remove => ("-", |text| ui::red(text)),
                Action::Modify | Action::Dynamic => ("~", |text| ui::yellow(text)),
                Action::Import => ("<", |text| ui::green(text)),
            };
            let mut line = format!(
                "{sign} {:<id_width$}  {:<type_width$}",
                change.logical_id, change.resource_type
            );
            match change.replacement.as_deref() {
                Some("True") => line
                    .push_str("  !! REPLACEMENT (new physical resource; the old one is deleted)"),
                Some("Conditional") => {
                    line.push_str("  !! MAY BE REPLACED (depends on values known at deploy time)")
                }
                _ => {}
            }
            writeln!(f, "    {}", paint(line.trim_end().to_owned()))?;
        }
        Ok(())
    }
}

/// Refuses changes that would replace or remove a table, bucket or user pool in a protected stage.
pub fn check_replacements(
    stack: &str,
    changes: &Changes,
    protected: bool,
    allowed: bool,
) -> Result<()> {
    if !protected || allowed {
        return Ok(());
    }
    let losing: Vec<String> = changes
        .0
        .iter()
        .filter(|change| change.loses_data())
        .map(|change| format!("{} ({})", change.logical_id, change.resource_type))
        .collect();
    if losing.is_empty() {
        return Ok(());
    }
    bail!(
        "stack {stack} would replace or remove {} in a protected stage; if that is really meant, \
         deploy again with `--allow-replacement`",
        losing.join(", ")
    )
}

/// The template, inline or (above CloudFormation's limit) as an S3 URL.
#[derive(Debug, Clone)]
pub enum TemplateSource {
    Body(String),
    Url(String),
}

/// A change set ready to execute, or nothing to do.
#[derive(Debug)]
pub enum Prepared {
    NoChanges,
    Ready {
        id: String,
        stack_id: String,
        changes: Changes,
    },
}

/// Creates a change set and waits until CloudFormation has worked it out. A change set with no
/// changes is deleted and reported as `NoChanges`. With `role_arn`, CloudFormation makes the
/// changes as that role rather than as the caller (the bootstrap stack's CloudFormation role,
/// which is all a CI deploy role may hand over).
pub async fn create(
    cfn: &Client,
    stack: &str,
    kind: ChangeSetType,
    template: &TemplateSource,
    parameters: Vec<Parameter>,
    role_arn: Option<&str>,
    stage: &str,
) -> Result<Prepared> {
    let name = format!("mumble-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S-%6f"));
    let mut request = cfn
        .create_change_set()
        .stack_name(stack)
        .change_set_name(&name)
        .change_set_type(kind.clone())
        .set_parameters(Some(parameters))
        .set_role_arn(role_arn.map(str::to_owned))
        // CloudFormation passes stack tags on to the resources; the bootstrap roles' policies tell
        // stages apart by it where AWS names resources by id.
        .tags(Tag::builder().key(stacks::STAGE_TAG).value(stage).build())
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .capabilities(Capability::CapabilityAutoExpand)
        .description("cargo xtask deploy");
    request = match template {
        TemplateSource::Body(body) => request.template_body(body),
        TemplateSource::Url(url) => request.template_url(url),
    };
    let created = request
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot create a change set for stack {stack}"))?;
    let id = created
        .id()
        .context("CloudFormation returned no change set id")?
        .to_owned();
    let stack_id = created.stack_id().unwrap_or(stack).to_owned();

    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        let mut changes = Vec::new();
        let mut next_token = None;
        let mut status;
        let mut reason;
        loop {
            let page = cfn
                .describe_change_set()
                .change_set_name(&id)
                .stack_name(&stack_id)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(aws::sdk_error)
                .with_context(|| format!("cannot read change set {name} of stack {stack}"))?;
            status = page.status().cloned();
            reason = page.status_reason().unwrap_or_default().to_owned();
            changes.extend(
                page.changes()
                    .iter()
                    .filter_map(|change| change.resource_change())
                    .map(to_change),
            );
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                break;
            }
        }
        match status {
            Some(ChangeSetStatus::CreateComplete) => {
                return Ok(Prepared::Ready {
                    id,
                    stack_id,
                    changes: Changes(changes),
                });
            }
            Some(ChangeSetStatus::Failed) => {
                if is_no_change(&reason) {
                    delete(cfn, &id, &stack_id).await?;
                    return Ok(Prepared::NoChanges);
                }
                delete(cfn, &id, &stack_id).await.ok();
                bail!("CloudFormation rejected the change set for stack {stack}: {reason}");
            }
            _ if started.elapsed() > CREATE_LIMIT => {
                bail!(
                    "the change set for stack {stack} is still being created after 5 minutes; try again later"
                )
            }
            _ => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(3));
            }
        }
    }
}

/// CloudFormation's words for an empty change set.
fn is_no_change(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

fn to_change(change: &aws_sdk_cloudformation::types::ResourceChange) -> ResourceChange {
    use aws_sdk_cloudformation::types::ChangeAction;
    let action = match change.action() {
        Some(ChangeAction::Add) => Action::Add,
        Some(ChangeAction::Remove) => Action::Remove,
        Some(ChangeAction::Import) => Action::Import,
        Some(ChangeAction::Dynamic) => Action::Dynamic,
        _ => Action::Modify,
    };
    ResourceChange {
        action,
        logical_id: change.logical_resource_id().unwrap_or_default().to_owned(),
        resource_type: change.resource_type().unwrap_or_default().to_owned(),
        replacement: change
            .replacement()
            .map(|replacement| replacement.as_str().to_owned())
            .filter(|replacement| replacement != "False"),
    }
}

pub async fn delete(cfn: &Client, id: &str, stack_id: &str) -> Result<()> {
    cfn.delete_change_set()
        .change_set_name(id)
        .stack_name(stack_id)
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot delete change set {id}"))?;
    Ok(())
}

pub async fn execute(cfn: &Client, id: &str, stack_id: &str) -> Result<()> {
    cfn.execute_change_set()
        .change_set_name(id)
        .stack_name(stack_id)
        .send()
        .await
        .map_err(aws::sdk_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(action: Action, id: &str, kind: &str, replacement: Option<&str>) -> ResourceChange {
        ResourceChange {
            action,
            logical_id: id.into(),
            resource_type: kind.into(),
            replacement: replacement.map(str::to_owned),
        }
    }

    #[test]
    fn the_diff_marks_adds_modifies_removes_and_replacements() {
        let changes = Changes(vec![
            change(Action::Add, "JobsTable", "AWS::DynamoDB::Table", None),
            change(
                Action::Modify,
                "HealthFunction",
                "AWS::Lambda::Function",
                None,
            ),
            change(
                Action::Modify,
                "UsersTable",
                "AWS::DynamoDB::Table",
                Some("True"),
            ),
            change(
                Action::Modify,
                "Api",
                "AWS::ApiGatewayV2::Api",
                Some("Conditional"),
            ),
            change(Action::Remove, "OldTopic", "AWS::SNS::Topic", None),
        ]);
        let text = changes.to_string();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        assert_eq!(lines.len(), 5);
        assert!(lines[0].starts_with("+ JobsTable") && lines[0].contains("AWS::DynamoDB::Table"));
        assert!(lines[1].starts_with("~ HealthFunction") && !lines[1].contains("REPLACE"));
        assert!(lines[2].starts_with("~ UsersTable") && lines[2].contains("!! REPLACEMENT"));
        assert!(lines[3].contains("!! MAY BE REPLACED"));
        assert!(lines[4].starts_with("- OldTopic"));
    }

    #[test]
    fn replacing_a_table_in_a_protected_stage_needs_the_flag() {
        let changes = Changes(vec![change(
            Action::Modify,
            "UsersTable",
            "AWS::DynamoDB::Table",
            Some("True"),
        )]);
        let error = check_replacements("mumble-prod-data", &changes, true, false)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("UsersTable") && error.contains("--allow-replacement"),
            "{error}"
        );
        assert!(check_replacements("mumble-prod-data", &changes, true, true).is_ok());
        assert!(check_replacements("mumble-dev-data", &changes, false, false).is_ok());
    }

    #[test]
    fn replacing_a_function_is_not_guarded() {
        let changes = Changes(vec![change(
            Action::Modify,
            "HealthFunction",
            "AWS::Lambda::Function",
            Some("True"),
        )]);
        assert!(check_replacements("mumble-prod-app", &changes, true, false).is_ok());
    }

    #[test]
    fn removing_a_bucket_in_a_protected_stage_is_guarded_too() {
        let changes = Changes(vec![change(
            Action::Remove,
            "MediaBucket",
            "AWS::S3::Bucket",
            None,
        )]);
        assert!(check_replacements("mumble-prod-data", &changes, true, false).is_err());
    }

    #[test]
    fn the_json_diff_names_action_and_replacement() {
        let changes = Changes(vec![change(
            Action::Modify,
            "UsersTable",
            "AWS::DynamoDB::Table",
            Some("True"),
        )]);
        let json = serde_json::to_value(&changes).unwrap();
        assert_eq!(json[0]["action"], "modify");
        assert_eq!(json[0]["replacement"], "True");
    }
}
