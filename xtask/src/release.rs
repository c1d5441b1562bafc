//! Releases: what each successful deploy (or rollback) put in place, kept as JSON in the stage's
//! artifacts bucket at `releases/{stage}/{id:06}.json`, so that a later deploy can tell what
//! changed without asking CloudFormation, and a rollback can put a stage back without building.
//!
//! A release names content-addressed keys only (artifacts and templates are never overwritten
//! and never deleted) and the S3 version ids of the site's files (the site bucket is versioned
//! and keeps old versions), so everything a retained release points to stays there.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::{Context, Result};
use aws_sdk_s3::Client;
use futures::TryStreamExt;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use stacks::Output;

use crate::{aws, tools, ui};

/// What made a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Deploy,
    /// `deploy --hotswap`: function code set directly, site synced, no change set.
    Hotswap,
    Rollback,
}

/// One stack as a release left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackRecord {
    pub name: String,
    pub region: String,
    /// `templates/{stack}/{sha256}.yaml` in the artifacts bucket.
    pub template_key: String,
    pub template_sha256: String,
    pub parameters: BTreeMap<String, String>,
    /// The stack's last update time after this release; any later change to the stack (from
    /// outside Mumble, or a failed deploy's rollback) shows as a different time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
}

/// One site file as a release published it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteObject {
    /// MD5 of the body, hex (the object's ETag).
    pub md5: String,
    /// The S3 version this release published (absent when the bucket was not versioned yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    pub id: u64,
    pub stage: String,
    /// RFC 3339, UTC.
    pub time: String,
    pub kind: Kind,
    /// For a rollback: the release it put back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<u64>,
    /// The ARN that made the release (sts:GetCallerIdentity).
    pub caller: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default)]
    pub dirty: bool,
    /// Function name → artifact key.
    pub functions: BTreeMap<String, String>,
    /// In deploy order.
    pub stacks: Vec<StackRecord>,
    /// Site path → content hash and version.
    pub site: BTreeMap<String, SiteObject>,
    pub outputs: IndexMap<String, BTreeMap<String, String>>,
    /// Stateful resources this release replaced or removed (`stack/LogicalId (Type)`): a
    /// protected stage never rolls back across them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<String>,
}

impl Release {
    pub fn stack(&self, name: &str) -> Option<&StackRecord> {
        self.stacks.iter().find(|stack| stack.name == name)
    }

    /// Whether two releases put the same things in place (ids, times and callers aside).
    pub fn same_content(&self, other: &Release) -> bool {
        self.functions == other.functions && self.stacks == other.stacks && self.site == other.site
    }

    /// Every object key this release points to in the artifacts bucket.
    pub fn artifact_keys(&self) -> BTreeSet<String> {
        self.functions
            .values()
            .cloned()
            .chain(self.stacks.iter().map(|stack| stack.template_key.clone()))
            .collect()
    }

    /// "deploy" or "rollback to 41".
    pub fn describe(&self) -> String {
        match (self.kind, self.rollback_to) {
            (Kind::Rollback, Some(to)) => format!("rollback to {to}"),
            (Kind::Rollback, None) => "rollback".to_owned(),
            (Kind::Deploy, _) => "deploy".to_owned(),
            (Kind::Hotswap, _) => "hotswap".to_owned(),
        }
    }
}

pub fn key(stage: &str, id: u64) -> String {
    format!("releases/{stage}/{id:06}.json")
}

fn prefix(stage: &str) -> String {
    format!("releases/{stage}/")
}

/// The stage's artifacts bucket, where its releases live (the bootstrap stack's output).
pub async fn artifacts_bucket(
    config: &aws_config::SdkConfig,
    stage: &stacks::Stage,
) -> Result<String> {
    let name = stage.stack_name(stacks::Part::Bootstrap);
    let cfn = aws_sdk_cloudformation::Client::new(config);
    crate::cloudformation::stack::describe(&cfn, &name)
        .await?
        .and_then(|found| crate::cloudformation::stack::outputs_of(&found).remove(Output::ArtifactsBucketName.name()))
        .with_context(|| {
            format!(
                "stage `{}` has no artifacts bucket (stack {name}), so no releases; deploy it first: \
                 `cargo xtask deploy --stage {}`",
                stage.name, stage.name
            )
        })
}

/// Reads several releases, a few at a time.
pub async fn read_many(
    s3: &Client,
    bucket: &str,
    stage: &str,
    ids: &[u64],
) -> Result<Vec<Release>> {
    use futures::StreamExt;
    futures::stream::iter(ids)
        .map(|id| read(s3, bucket, stage, *id))
        .buffered(8)
        .try_collect()
        .await
}

/// The ids of the stage's retained releases, oldest first.
pub async fn ids(s3: &Client, bucket: &str, stage: &str) -> Result<Vec<u64>> {
    let pages: Vec<_> = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix(stage))
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot list the releases of stage {stage} in {bucket}"))?;
    let mut ids: Vec<u64> = pages
        .into_iter()
        .flat_map(|page| page.contents.unwrap_or_default())
        .filter_map(|object| {
            object
                .key?
                .strip_prefix(&prefix(stage))?
                .strip_suffix(".json")?
                .parse()
                .ok()
        })
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

pub async fn read(s3: &Client, bucket: &str, stage: &str, id: u64) -> Result<Release> {
    let key = key(stage, id);
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(&key)
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot read release {id} ({key}) from {bucket}"))?;
    let body = object
        .body
        .collect()
        .await
        .with_context(|| format!("cannot read release {id} from {bucket}"))?;
    serde_json::from_slice(&body.into_bytes())
        .with_context(|| format!("release {id} ({key}) in {bucket} is not a release record"))
}

/// The newest release of the stage, if it has any.
pub async fn latest(s3: &Client, bucket: &str, stage: &str) -> Result<Option<Release>> {
    match ids(s3, bucket, stage).await?.last() {
        Some(&id) => Ok(Some(read(s3, bucket, stage, id).await?)),
        None => Ok(None),
    }
}

/// Stores the release, then deletes the oldest beyond `keep` (their artifacts, templates and site
/// versions stay: other releases may share them, and they cost little).
pub async fn write(s3: &Client, bucket: &str, release: &Release, keep: u32) -> Result<()> {
    let key = key(&release.stage, release.id);
    s3.put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("application/json")
        .body(serde_json::to_vec_pretty(release)?.into())
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot record release {} in {bucket}", release.id))?;
    let ids = ids(s3, bucket, &release.stage).await?;
    let excess = ids.len().saturating_sub(keep as usize);
    for id in &ids[..excess] {
        s3.delete_object()
            .bucket(bucket)
            .key(self::key(&release.stage, *id))
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| format!("cannot delete the old release {id} from {bucket}"))?;
    }
    Ok(())
}

/// Who is deploying: the caller's ARN, or `unknown` when STS does not say.
pub async fn caller(config: &aws_config::SdkConfig) -> String {
    match aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
    {
        Ok(identity) => identity.arn().unwrap_or("unknown").to_owned(),
        Err(error) => {
            ui::warn(format!(
                "cannot read the caller's identity for the release record: {}",
                aws::describe_error(&error)
            ));
            "unknown".to_owned()
        }
    }
}

/// The workspace's git commit and whether the tree has uncommitted changes (`None` outside git).
pub fn git_state() -> (Option<String>, bool) {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(tools::workspace_root())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"]);
    let dirty = commit.is_some()
        && git(&["status", "--porcelain"]).is_some_and(|status| !status.is_empty());
    (commit, dirty)
}

/// What changed from one release to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Changes {
    /// Functions whose artifact changed (or that are new).
    pub functions: Vec<String>,
    /// Stacks whose template or parameters changed (or that are new).
    pub stacks: Vec<String>,
    pub site_added: Vec<String>,
    pub site_changed: Vec<String>,
    pub site_removed: Vec<String>,
}

impl Changes {
    pub fn between(before: Option<&Release>, after: &Release) -> Changes {
        let empty = BTreeMap::new();
        let before_functions = before.map_or(&empty, |release| &release.functions);
        let functions = after
            .functions
            .iter()
            .filter(|(name, key)| before_functions.get(*name) != Some(key))
            .map(|(name, _)| name.clone())
            .collect();
        let stacks = after
            .stacks
            .iter()
            .filter(|stack| {
                before
                    .and_then(|release| release.stack(&stack.name))
                    .is_none_or(|old| {
                        old.template_sha256 != stack.template_sha256
                            || old.parameters != stack.parameters
                    })
            })
            .map(|stack| stack.name.clone())
            .collect();
        let empty_site = BTreeMap::new();
        let old_site = before.map_or(&empty_site, |release| &release.site);
        let mut changes = Changes {
            functions,
            stacks,
            ..Changes::default()
        };
        for (path, object) in &after.site {
            match old_site.get(path) {
                None => changes.site_added.push(path.clone()),
                Some(old) if old.md5 != object.md5 => changes.site_changed.push(path.clone()),
                Some(_) => {}
            }
        }
        changes.site_removed = old_site
            .keys()
            .filter(|path| !after.site.contains_key(*path))
            .cloned()
            .collect();
        changes
    }

    pub fn is_empty(&self) -> bool {
        self == &Changes::default()
    }
}

impl fmt::Display for Changes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "    {}", ui::dim("no changes"));
        }
        if !self.functions.is_empty() {
            writeln!(f, "    functions: {}", self.functions.join(", "))?;
        }
        if !self.stacks.is_empty() {
            writeln!(f, "    stacks: {}", self.stacks.join(", "))?;
        }
        let site: Vec<String> = self
            .site_added
            .iter()
            .map(|path| format!("+{path}"))
            .chain(self.site_changed.iter().map(|path| format!("~{path}")))
            .chain(self.site_removed.iter().map(|path| format!("-{path}")))
            .collect();
        if !site.is_empty() {
            writeln!(f, "    site: {}", site.join(" "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(id: u64, health: &str, template: &str, index: &str) -> Release {
        Release {
            id,
            stage: "alice".into(),
            time: "2026-11-30T00:00:00Z".into(),
            kind: Kind::Deploy,
            rollback_to: None,
            caller: "arn:aws:iam::123456789012:user/alice".into(),
            commit: None,
            dirty: false,
            functions: BTreeMap::from([
                ("health".into(), format!("lambdas/health/{health}.zip")),
                ("jobs".into(), "lambdas/jobs/1.zip".into()),
            ]),
            stacks: vec![StackRecord {
                name: "mumble-alice-data".into(),
                region: "us-east-1".into(),
                template_key: format!("templates/mumble-alice-data/{template}.yaml"),
                template_sha256: template.into(),
                parameters: BTreeMap::new(),
                updated: None,
            }],
            site: BTreeMap::from([
                (
                    "index.html".into(),
                    SiteObject {
                        md5: index.into(),
                        version_id: Some(format!("v-{index}")),
                    },
                ),
                (
                    "app.js".into(),
                    SiteObject {
                        md5: "js".into(),
                        version_id: Some("v-js".into()),
                    },
                ),
            ]),
            outputs: IndexMap::new(),
            replaced: Vec::new(),
        }
    }

    #[test]
    fn the_changes_name_each_function_stack_and_site_file_that_differs() {
        let one = release(1, "a", "t1", "i1");
        let mut two = release(2, "b", "t2", "i2");
        two.site.remove("app.js");
        two.site.insert(
            "new.css".into(),
            SiteObject {
                md5: "css".into(),
                version_id: None,
            },
        );
        let changes = Changes::between(Some(&one), &two);
        assert_eq!(changes.functions, ["health"]);
        assert_eq!(changes.stacks, ["mumble-alice-data"]);
        assert_eq!(changes.site_added, ["new.css"]);
        assert_eq!(changes.site_changed, ["index.html"]);
        assert_eq!(changes.site_removed, ["app.js"]);
        let text = changes.to_string();
        assert!(
            text.contains("site: +new.css ~index.html -app.js"),
            "{text}"
        );
    }

    #[test]
    fn the_first_release_changes_everything_and_an_equal_one_nothing() {
        let one = release(1, "a", "t1", "i1");
        let first = Changes::between(None, &one);
        assert_eq!(first.functions.len(), 2);
        assert_eq!(first.site_added.len(), 2);
        let again = release(2, "a", "t1", "i1");
        assert!(Changes::between(Some(&one), &again).is_empty());
        assert!(one.same_content(&again));
    }

    #[test]
    fn release_keys_sort_by_id() {
        assert_eq!(key("prod", 42), "releases/prod/000042.json");
        assert!(key("prod", 9) < key("prod", 10));
    }
}
