//! The one place `--stage NAME` becomes a checked [`Stage`], before any command has a side effect.

use std::path::PathBuf;

use anyhow::Result;
use stacks::settings::{DEFAULT_PATH, Settings, Stage};

use crate::{tools, ui};

/// The personal stage the checks synthesize alongside the file's stages, standing for all of them.
pub const PERSONAL_EXAMPLE: &str = "alice";

/// Names another stages file than `stacks/stages.yaml`: the tests' own stages (a protected
/// stage with traffic shifting, under a name no other test uses).
pub const STAGES_FILE_ENV: &str = "MUMBLE_STAGES_FILE";

/// `stacks/stages.yaml` in the workspace root, or the file `MUMBLE_STAGES_FILE` names.
pub fn settings_path() -> PathBuf {
    std::env::var_os(STAGES_FILE_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| tools::workspace_root().join(DEFAULT_PATH))
}

/// Every stage of the settings file, each checked. The errors name the file, the field and the fix.
pub fn load_settings() -> Result<Settings> {
    Ok(Settings::load(settings_path())?)
}

/// Resolves a stage name (from `--stage`) into its checked settings. A name not in the file is a
/// personal stage copying `dev`; say so, since it may also be a typo.
pub fn resolve(name: &str) -> Result<Stage> {
    let settings = load_settings()?;
    let stage = settings.stage(name)?;
    if stage.personal {
        ui::info(format!(
            "`{name}` is a personal stage (settings copied from dev; stages in {DEFAULT_PATH}: {})",
            settings.names().collect::<Vec<_>>().join(", ")
        ));
    }
    tracing::debug!(?stage, "stage resolved");
    Ok(stage)
}

/// Every stage of the file plus one personal stage: what the template checks and benches cover.
pub fn all_with_personal() -> Result<Vec<Stage>> {
    let settings = load_settings()?;
    let mut stages = settings
        .names()
        .map(|name| settings.stage(name))
        .collect::<Result<Vec<_>, _>>()?;
    stages.push(settings.stage(PERSONAL_EXAMPLE)?);
    Ok(stages)
}

impl crate::cli::StageArg {
    /// The checked stage this flag names.
    pub fn resolve(&self) -> Result<Stage> {
        resolve(&self.stage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_stage_name_is_refused_with_the_rule() {
        let error = resolve("Prod!").unwrap_err().to_string();
        assert!(error.contains("Prod!"), "{error}");
        assert!(error.contains("a-z"), "{error}");
    }

    #[test]
    fn every_stage_in_the_file_resolves_and_a_personal_stage_copies_dev() {
        let stages = all_with_personal().unwrap();
        let personal = stages.last().unwrap();
        assert_eq!(personal.name, PERSONAL_EXAMPLE);
        assert!(personal.personal && !personal.protected);
        assert!(
            stages
                .iter()
                .any(|stage| stage.name == "prod" && stage.protected)
        );
    }
}
