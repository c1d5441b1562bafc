//! `cargo xtask synth`: a stage's CloudFormation templates, one YAML file per stack.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use stacks::settings::Stage;

use crate::{tools, ui};

/// CloudFormation accepts templates up to this size inline; larger ones must come from S3.
pub const INLINE_TEMPLATE_LIMIT: usize = 51_200;

/// One template written to disk.
#[derive(Debug, Clone)]
pub struct Written {
    pub stack: String,
    /// The region CloudFormation deploys it to.
    pub region: String,
    pub path: PathBuf,
    pub resources: usize,
    pub outputs: usize,
    pub bytes: usize,
}

impl Written {
    /// `mumble-prod-data  14 resources  10 outputs  9.1 KB`, noting the inline limit when passed.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{:<22} {:>3} resources {:>3} outputs {:>6.1} KB",
            self.stack,
            self.resources,
            self.outputs,
            self.bytes as f64 / 1024.0
        );
        if self.bytes > INLINE_TEMPLATE_LIMIT {
            line.push_str(&format!(
                " (over CloudFormation's {INLINE_TEMPLATE_LIMIT}-byte inline limit: deploy uploads it to S3)"
            ));
        }
        line
    }
}

/// Synthesizes every stack of `stage` into `out/{stack-name}.yaml`, removing templates of this
/// stage left there by an earlier run (e.g. a certificate stack the stage no longer has).
pub fn write_stage(stage: &Stage, out: &Path) -> Result<Vec<Written>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let stacks = stacks::synth(stage);
    let mut written = Vec::with_capacity(stacks.len());
    for stack in &stacks {
        let yaml = stack.template.to_yaml();
        let path = out.join(format!("{}.yaml", stack.name));
        std::fs::write(&path, &yaml).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(Written {
            stack: stack.name.clone(),
            region: stack.region.clone(),
            path,
            resources: stack.template.resources.len(),
            outputs: stack.template.outputs.len(),
            bytes: yaml.len(),
        });
    }
    remove_stale(stage, out, &written)?;
    Ok(written)
}

fn remove_stale(stage: &Stage, out: &Path, written: &[Written]) -> Result<()> {
    let prefix = format!("mumble-{}-", stage.name);
    let entries =
        std::fs::read_dir(out).with_context(|| format!("cannot list {}", out.display()))?;
    for entry in entries {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let ours = name.starts_with(&prefix) && name.ends_with(".yaml");
        if ours && !written.iter().any(|template| template.path == path) {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove the stale template {}", path.display()))?;
        }
    }
    Ok(())
}

/// Where `synth` writes when `--out` is not given.
pub fn default_out(stage: &str) -> PathBuf {
    tools::target_dir().join("synth").join(stage)
}

impl crate::cli::Synth {
    pub fn run(self) -> Result<()> {
        let stage = self.stage.resolve()?;
        let out = self.out.unwrap_or_else(|| default_out(&stage.name));
        let started = std::time::Instant::now();
        let written = write_stage(&stage, &out)?;
        for template in &written {
            ui::info(template.summary());
            println!("{}", template.path.display());
        }
        ui::done(format!(
            "{} templates for stage {} in {} ({})",
            written.len(),
            stage.name,
            out.display(),
            ui::duration(started.elapsed())
        ));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_templates_are_flagged_for_upload() {
        let mut template = Written {
            stack: "mumble-dev-app".into(),
            region: "us-east-1".into(),
            path: PathBuf::from("x.yaml"),
            resources: 120,
            outputs: 6,
            bytes: 40_000,
        };
        assert!(!template.summary().contains("S3"));
        template.bytes = INLINE_TEMPLATE_LIMIT + 1;
        assert!(template.summary().contains("deploy uploads it to S3"));
    }
}
