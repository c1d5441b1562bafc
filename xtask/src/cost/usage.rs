//! The usage profile (`xtask/cost/usage.yaml`): a month of Mumble in numbers, per stage, with
//! `--usage FILE` on top.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the defaults live, for messages.
pub const PATH: &str = "xtask/cost/usage.yaml";
const TEXT: &str = include_str!("../../cost/usage.yaml");

/// Numbers by function or table name.
pub type ByName = BTreeMap<String, f64>;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    pub monthly_active_users: f64,
    pub pictures_per_user: f64,
    pub recording_seconds: f64,
    pub visits_per_user: f64,
    pub gallery_views_per_user: f64,
    pub images_kept_per_user: f64,
    pub invocations: Invocations,
    pub duration_ms: ByName,
    pub picture: Picture,
    pub gallery_view: GalleryView,
    pub visit: Visit,
    pub storage: Storage,
    pub logs: Logs,
    pub operations: Operations,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Invocations {
    pub per_picture: ByName,
    pub per_visit: ByName,
    pub per_gallery_view: ByName,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Picture {
    pub websocket_minutes: f64,
    pub websocket_messages: f64,
    pub dynamodb_writes: ByName,
    pub dynamodb_reads: ByName,
    pub audio_kilobytes_per_second: f64,
    pub image_kilobytes: f64,
    pub thumbnail_kilobytes: f64,
    pub s3_writes: f64,
    pub s3_reads: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GalleryView {
    pub dynamodb_reads: ByName,
    pub thumbnails: f64,
    pub images_opened: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    pub dynamodb_reads: ByName,
    pub site_requests: f64,
    pub site_kilobytes: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    pub image_item_kilobytes: f64,
    pub user_item_kilobytes: f64,
    pub job_item_kilobytes: f64,
    pub artifacts_megabytes: f64,
    pub site_megabytes: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Logs {
    pub kilobytes_per_invocation: f64,
    pub kilobytes_per_access_log_entry: f64,
    pub compression: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Operations {
    pub cdn_invalidation_paths: f64,
    pub alarm_notifications: f64,
    pub dead_letters: f64,
}

impl Usage {
    /// The profile of `stage` (a personal stage takes dev's section), with `file` on top.
    pub fn load(stage: &str, personal: bool, file: Option<&Path>) -> Result<Usage> {
        let defaults = parse(TEXT, Path::new(PATH))?;
        let mut value = profile_for(&defaults, stage, personal, Path::new(PATH))?;
        let mut source = PATH.to_owned();
        if let Some(file) = file {
            let text = std::fs::read_to_string(file).with_context(|| {
                format!(
                    "cannot read the usage file {}; pass an existing file to `--usage`",
                    file.display()
                )
            })?;
            let overrides = parse(&text, file)?;
            merge(&mut value, profile_for(&overrides, stage, personal, file)?);
            source = file.display().to_string();
        }
        let usage = from_value(value, &source)?;
        usage.check(&source)?;
        Ok(usage)
    }

    /// The same profile at another number of monthly active users (what the break-even varies).
    pub fn with_users(&self, users: f64) -> Usage {
        Usage {
            monthly_active_users: users,
            ..self.clone()
        }
    }

    /// Every function named must exist, and every function needs a duration.
    fn check(&self, source: &str) -> Result<()> {
        let known: Vec<&str> = stacks::FUNCTIONS.iter().map(|f| f.name).collect();
        let named = [
            ("invocations.per_picture", &self.invocations.per_picture),
            ("invocations.per_visit", &self.invocations.per_visit),
            (
                "invocations.per_gallery_view",
                &self.invocations.per_gallery_view,
            ),
            ("duration_ms", &self.duration_ms),
        ];
        for (field, map) in named {
            if let Some(unknown) = map.keys().find(|name| !known.contains(&name.as_str())) {
                bail!(
                    "{source}: field `{field}.{unknown}`: no function is called `{unknown}`; use one of {}",
                    known.join(", ")
                );
            }
        }
        if let Some(missing) = known
            .iter()
            .find(|name| !self.duration_ms.contains_key(**name))
        {
            bail!(
                "{source}: field `duration_ms` has no `{missing}`; add its duration in milliseconds"
            );
        }
        let tables: Vec<String> = stacks::functions::Table::ALL
            .iter()
            .map(|table| table_name(*table))
            .collect();
        let by_table = [
            ("picture.dynamodb_writes", &self.picture.dynamodb_writes),
            ("picture.dynamodb_reads", &self.picture.dynamodb_reads),
            (
                "gallery_view.dynamodb_reads",
                &self.gallery_view.dynamodb_reads,
            ),
            ("visit.dynamodb_reads", &self.visit.dynamodb_reads),
        ];
        for (field, map) in by_table {
            if let Some(unknown) = map.keys().find(|name| !tables.contains(name)) {
                bail!(
                    "{source}: field `{field}.{unknown}`: no table is called `{unknown}`; use one of {}",
                    tables.join(", ")
                );
            }
        }
        Ok(())
    }
}

/// A table's name in the profile: `images` for the images table.
pub fn table_name(table: stacks::functions::Table) -> String {
    table.label().to_owned()
}

fn parse(text: &str, path: &Path) -> Result<Value> {
    let value: Value = serde_norway::from_str(text).map_err(|error| {
        anyhow::anyhow!(
            "{}: {error}; it must be YAML shaped like {PATH}",
            path.display()
        )
    })?;
    if !value.is_object() {
        bail!(
            "{}: expected a map of fields like {PATH}, found {value}",
            path.display()
        );
    }
    check_numbers(&value, "", path)?;
    Ok(value)
}

/// Every number must be a count, size or rate: finite and not negative.
fn check_numbers(value: &Value, at: &str, path: &Path) -> Result<()> {
    match value {
        Value::Number(number) if number.as_f64().is_none_or(|n| !n.is_finite() || n < 0.0) => {
            bail!(
                "{}: field `{at}` is {number}; give a number of 0 or more",
                path.display()
            )
        }
        Value::Object(map) => {
            for (key, inner) in map {
                let at = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                check_numbers(inner, &at, path)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The file's fields without `stages:`, with the stage's section merged on top.
fn profile_for(file: &Value, stage: &str, personal: bool, path: &Path) -> Result<Value> {
    let mut base = file.clone();
    let stages = base
        .as_object_mut()
        .and_then(|map| map.remove("stages"))
        .unwrap_or(Value::Null);
    if !(stages.is_null() || stages.is_object()) {
        bail!(
            "{}: field `stages` must map stage names to fields to override",
            path.display()
        );
    }
    let section = stages
        .get(stage)
        .or_else(|| personal.then(|| stages.get("dev")).flatten());
    if let Some(section) = section {
        merge(&mut base, section.clone());
    }
    Ok(base)
}

/// Deep merge: maps field by field, anything else replaced.
fn merge(base: &mut Value, top: Value) {
    match (base, top) {
        (Value::Object(base), Value::Object(top)) => {
            for (key, value) in top {
                match base.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, top) => *base = top,
    }
}

fn from_value(value: Value, source: &str) -> Result<Usage> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        anyhow::anyhow!(
            "{source}: field `{field}`: {}; see {PATH} for every field and its unit",
            error.inner()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        file
    }

    #[test]
    fn stages_take_their_section_and_personal_stages_take_devs() {
        let prod = Usage::load("prod", false, None).unwrap();
        let dev = Usage::load("dev", false, None).unwrap();
        let alice = Usage::load("alice", true, None).unwrap();
        assert_eq!(prod.monthly_active_users, 300.0);
        assert_eq!(dev.monthly_active_users, 10.0);
        assert_eq!(alice.monthly_active_users, dev.monthly_active_users);
        // Only the overridden field differs.
        assert_eq!(dev.pictures_per_user, prod.pictures_per_user);
    }

    #[test]
    fn a_usage_file_overrides_single_fields_and_its_own_stage_sections() {
        let file = write(
            "pictures_per_user: 20\npicture:\n  image_kilobytes: 900\nstages:\n  prod:\n    monthly_active_users: 1000\n",
        );
        let usage = Usage::load("prod", false, Some(file.path())).unwrap();
        assert_eq!(usage.pictures_per_user, 20.0);
        assert_eq!(usage.picture.image_kilobytes, 900.0);
        assert_eq!(usage.monthly_active_users, 1000.0);
        // Fields the file does not name keep the defaults.
        assert_eq!(usage.picture.thumbnail_kilobytes, 40.0);
    }

    #[test]
    fn a_bad_usage_file_names_the_file_the_field_and_the_fix() {
        let typo = write("picture:\n  image_kb: 900\n");
        let error = format!(
            "{:#}",
            Usage::load("prod", false, Some(typo.path())).unwrap_err()
        );
        assert!(
            error.contains(&typo.path().display().to_string()),
            "{error}"
        );
        assert!(error.contains("picture"), "{error}");
        assert!(error.contains("image_kb"), "{error}");
        assert!(
            error.contains("image_kilobytes"),
            "the fix lists the right name: {error}"
        );

        let negative = write("monthly_active_users: -5\n");
        let error = format!(
            "{:#}",
            Usage::load("prod", false, Some(negative.path())).unwrap_err()
        );
        assert!(error.contains("`monthly_active_users`"), "{error}");
        assert!(error.contains("0 or more"), "{error}");

        let wrong_type = write("visits_per_user: often\n");
        let error = format!(
            "{:#}",
            Usage::load("prod", false, Some(wrong_type.path())).unwrap_err()
        );
        assert!(error.contains("`visits_per_user`"), "{error}");

        let function = write("duration_ms:\n  wroker: 100\n");
        let error = format!(
            "{:#}",
            Usage::load("prod", false, Some(function.path())).unwrap_err()
        );
        assert!(error.contains("duration_ms.wroker"), "{error}");
        assert!(
            error.contains("worker"),
            "the fix lists the functions: {error}"
        );

        let missing = Path::new("/nonexistent/usage.yaml");
        let error = format!(
            "{:#}",
            Usage::load("prod", false, Some(missing)).unwrap_err()
        );
        assert!(error.contains("/nonexistent/usage.yaml"), "{error}");
    }

    #[test]
    fn every_function_of_the_stacks_has_a_duration() {
        let usage = Usage::load("prod", false, None).unwrap();
        for function in stacks::FUNCTIONS {
            assert!(
                usage.duration_ms.contains_key(function.name),
                "{PATH}: duration_ms has no {}",
                function.name
            );
        }
    }
}
