//! `cargo xtask releases`: a stage's releases, newest first, each with what it changed.

use std::fmt;

use anyhow::Result;
use serde::Serialize;

use crate::cli::Releases;
use crate::release::{self, Changes};
use crate::{aws, ui};

/// One line of the list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: u64,
    pub time: String,
    /// `deploy` or `rollback to N`.
    pub what: String,
    pub caller: String,
    pub commit: Option<String>,
    pub dirty: bool,
    /// What changed from the release before; absent for the oldest one kept.
    pub changes: Option<Changes>,
    /// Stateful resources this release replaced or removed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct List(pub Vec<Entry>);

impl fmt::Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, entry) in self.0.iter().enumerate() {
            let commit = match &entry.commit {
                Some(commit) => format!(
                    "{}{}",
                    &commit[..commit.len().min(12)],
                    if entry.dirty { " (dirty)" } else { "" }
                ),
                None => "no commit".to_owned(),
            };
            let current = if index == 0 { "  (current)" } else { "" };
            writeln!(
                f,
                "{}",
                ui::bold(format!(
                    "{:>4}  {}  {}  {commit}  {}{current}",
                    entry.id, entry.time, entry.what, entry.caller
                ))
            )?;
            match &entry.changes {
                Some(changes) => write!(f, "{changes}")?,
                None => writeln!(f, "    {}", ui::dim("the oldest release kept"))?,
            }
            for resource in &entry.replaced {
                writeln!(f, "    {}", ui::red(format!("replaced {resource}")))?;
            }
        }
        Ok(())
    }
}

impl Releases {
    pub async fn run(self) -> Result<()> {
        let stage = crate::stage::resolve(&self.stage.stage)?;
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        let bucket = release::artifacts_bucket(&config, &stage).await?;
        let s3 = aws_sdk_s3::Client::new(&config);
        let ids = release::ids(&s3, &bucket, &stage.name).await?;
        if ids.is_empty() {
            ui::warn(format!(
                "stage `{}` has no releases yet; the next `cargo xtask deploy --stage {}` records one",
                stage.name, stage.name
            ));
        }
        let releases = release::read_many(&s3, &bucket, &stage.name, &ids).await?;
        let mut entries: Vec<Entry> = releases
            .iter()
            .enumerate()
            .map(|(index, release)| Entry {
                id: release.id,
                time: release.time.clone(),
                what: release.describe(),
                caller: release.caller.clone(),
                commit: release.commit.clone(),
                dirty: release.dirty,
                changes: index
                    .checked_sub(1)
                    .map(|before| Changes::between(Some(&releases[before]), release)),
                replaced: release.replaced.clone(),
            })
            .collect();
        entries.reverse();
        ui::print(&List(entries), self.output)
    }
}
