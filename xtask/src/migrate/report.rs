//! What a migration run did, per collection: the text report on stderr's neighbour stdout, the
//! same as JSON with `--output json`, and the rejects file (one JSON line per document not moved
//! as it was).

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use indexmap::IndexMap;
use serde::Serialize;

use super::source::Position;

#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionReport {
    /// Documents read from the dump.
    pub read: u64,
    /// Records written (created or changed).
    pub written: u64,
    /// Already in the stage as they are in the dump.
    pub skipped: u64,
    /// Not migrated; each one is in the rejects file with its reason.
    pub rejected: u64,
    /// Users whose e-mail differs from another's only in case: one account, their images follow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged: Option<u64>,
    /// Images soft-deleted in the old system and removed from the stage by this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_copied: Option<u64>,
    /// Images migrated as unavailable (file gone, unreadable, or only an expired URL); listed in
    /// the rejects file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_missing: Option<u64>,
}

#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub stage: String,
    pub dry_run: bool,
    pub collections: IndexMap<String, CollectionReport>,
    /// Where every rejected document and every unavailable image is listed.
    pub rejects_file: PathBuf,
    pub seconds: f64,
}

impl Report {
    pub fn collection(&mut self, name: &str) -> &mut CollectionReport {
        self.collections.entry(name.to_owned()).or_default()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "would write"
        } else {
            "written"
        };
        writeln!(
            f,
            "migration into stage {}{} ({:.1} s)",
            self.stage,
            if self.dry_run {
                " (dry run: nothing written)"
            } else {
                ""
            },
            self.seconds
        )?;
        for (name, c) in &self.collections {
            write!(
                f,
                "  {name:<7} read {}, {verb} {}, skipped as already there {}, rejected {}",
                c.read, c.written, c.skipped, c.rejected
            )?;
            if let Some(merged) = c.merged {
                write!(f, ", merged by e-mail {merged}")?;
            }
            if let Some(deleted) = c.deleted {
                write!(f, ", deleted {deleted}")?;
            }
            if let Some(copied) = c.files_copied {
                write!(f, ", files copied {copied}")?;
            }
            if let Some(missing) = c.files_missing {
                write!(f, ", files missing {missing}")?;
            }
            writeln!(f)?;
        }
        write!(
            f,
            "  rejects and unavailable images: {}",
            self.rejects_file.display()
        )
    }
}

/// One line of the rejects file.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    collection: &'a str,
    /// The document's `_id`, or its place in the file when it has none.
    id: &'a str,
    /// `rejected`: not migrated; `unavailable`: migrated without its picture.
    outcome: &'a str,
    reason: &'a str,
}

/// The rejects file, written as the run goes so nothing is lost if it stops.
pub struct Rejects {
    path: PathBuf,
    out: BufWriter<File>,
}

impl Rejects {
    pub fn create(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let out = File::create(path)
            .with_context(|| format!("cannot write the rejects file {}", path.display()))?;
        Ok(Rejects {
            path: path.to_owned(),
            out: BufWriter::new(out),
        })
    }

    pub fn rejected(
        &mut self,
        collection: &str,
        id: Option<&str>,
        at: Position,
        reason: &str,
    ) -> Result<()> {
        self.write(collection, id, at, "rejected", reason)
    }

    pub fn unavailable(&mut self, collection: &str, id: &str, reason: &str) -> Result<()> {
        self.write(
            collection,
            Some(id),
            Position::Line(0),
            "unavailable",
            reason,
        )
    }

    fn write(
        &mut self,
        collection: &str,
        id: Option<&str>,
        at: Position,
        outcome: &str,
        reason: &str,
    ) -> Result<()> {
        let place = at.to_string();
        let line = Line {
            collection,
            id: id.unwrap_or(&place),
            outcome,
            reason,
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    pub fn finish(mut self) -> Result<PathBuf> {
        self.out
            .flush()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(self.path)
    }
}
