//! `cargo xtask watch`: on every save, rebuild the functions whose code changed and hotswap them,
//! and sync the site's changed files — one line per change. Unprotected stages only; Ctrl-C stops.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};

use crate::build::{self, Artifact};
use crate::cli::Watch;
use crate::{aws, deploy, release, tools, ui};

/// What one burst of saves touched.
#[derive(Debug, Default, PartialEq, Eq)]
struct Change {
    functions: BTreeSet<&'static str>,
    site: bool,
}

/// Which functions and whether the site a set of changed paths concern. A change to the shared
/// library (core, contract) or the workspace's manifest or lockfile rebuilds every function;
/// nothing outside `lambdas/` does.
fn classify(root: &Path, site_dir: &Path, paths: &[PathBuf]) -> Change {
    let mut change = Change::default();
    let lambdas = root.join("lambdas");
    for path in paths {
        let hidden = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if path.starts_with(site_dir) {
            change.site |= !hidden;
            continue;
        }
        let rust = path.extension().is_some_and(|ext| ext == "rs")
            || path
                .file_name()
                .is_some_and(|name| name == "Cargo.toml" || name == "Cargo.lock");
        if !rust || path.components().any(|part| part.as_os_str() == "target") {
            continue;
        }
        let package = path
            .strip_prefix(&lambdas)
            .ok()
            .and_then(|relative| relative.components().next())
            .map(|part| part.as_os_str().to_string_lossy().into_owned());
        let function = package
            .as_deref()
            .and_then(|name| stacks::FUNCTIONS.iter().find(|f| f.name == name));
        let shared = package.is_some()
            || *path == root.join("Cargo.lock")
            || *path == root.join("Cargo.toml");
        match function {
            Some(function) => {
                change.functions.insert(function.name);
            }
            // lambdas/core, lambdas/contract and the workspace's manifest or lockfile: every
            // function is built from them.
            None if shared => {
                change
                    .functions
                    .extend(stacks::FUNCTIONS.iter().map(|function| function.name));
            }
            None => {}
        }
    }
    change
}

impl Watch {
    pub async fn run(self) -> Result<()> {
        let stage = crate::stage::resolve(&self.stage.stage)?;
        if stage.protected {
            bail!(
                "stage `{}` is protected; watch would change its functions outside CloudFormation. \
                 Deploy it with `cargo xtask deploy --stage {}`",
                stage.name,
                stage.name
            );
        }
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        let bucket = release::artifacts_bucket(&config, &stage).await?;
        let root = tools::workspace_root();
        let site_dir = self.site.clone().unwrap_or_else(|| root.join("site"));
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Vec<PathBuf>>();
        let mut debouncer = new_debouncer(
            Duration::from_millis(300),
            move |result: DebounceEventResult| {
                if let Ok(events) = result {
                    sender
                        .send(events.into_iter().map(|event| event.path).collect())
                        .ok();
                }
            },
        )
        .context("cannot watch files")?;
        for dir in [root.join("lambdas"), site_dir.clone()] {
            debouncer
                .watcher()
                .watch(&dir, RecursiveMode::Recursive)
                .with_context(|| format!("cannot watch {}", dir.display()))?;
        }
        ui::done(format!(
            "watching lambdas/ and {} for stage {} (Ctrl-C stops)",
            site_dir.display(),
            stage.name
        ));
        // One Ctrl-C listener for the whole session: a Ctrl-C that lands while a change is being
        // applied is not lost, and the change finishes before watch stops (a hotswap cut short
        // would leave functions updated without a release to roll back to).
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            let mut paths = tokio::select! {
                _ = &mut ctrl_c => {
                    eprintln!();
                    ui::info("stopped watching");
                    return Ok(());
                }
                Some(paths) = receiver.recv() => paths,
            };
            // Saves that land while a rebuild runs are taken together afterwards.
            while let Ok(more) = receiver.try_recv() {
                paths.extend(more);
            }
            let change = classify(root, &site_dir, &paths);
            if change == Change::default() {
                continue;
            }
            let time = chrono::Local::now().format("%H:%M:%S");
            let started = Instant::now();
            let applying = Box::pin(apply(&stage, &config, &bucket, &site_dir, &change));
            tokio::pin!(applying);
            let mut stopping = false;
            let result = loop {
                tokio::select! {
                    result = &mut applying => break result,
                    _ = &mut ctrl_c, if !stopping => {
                        eprintln!();
                        ui::info("stopping once the change in progress is applied");
                        stopping = true;
                    }
                }
            };
            match result {
                Ok(line) => eprintln!("{time} {line} ({})", ui::duration(started.elapsed())),
                Err(error) => ui::error(format!("{time} {error:#}")),
            }
            if stopping {
                ui::info("stopped watching");
                return Ok(());
            }
        }
    }
}

/// Rebuilds what changed and hotswaps it; returns the line to show.
async fn apply(
    stage: &stacks::Stage,
    config: &aws_config::SdkConfig,
    bucket: &str,
    site_dir: &Path,
    change: &Change,
) -> Result<String> {
    let s3 = aws_sdk_s3::Client::new(config);
    let latest = release::latest(&s3, bucket, &stage.name)
        .await?
        .with_context(|| {
            format!(
                "stage `{}` has no release yet; deploy it once with `cargo xtask deploy --stage {}`",
                stage.name, stage.name
            )
        })?;
    let names: Vec<&str> = change.functions.iter().copied().collect();
    let built = if names.is_empty() {
        Vec::new()
    } else {
        ui::quiet(|| build::build(stage, &names)).map(|manifest| manifest.artifacts)?
    };
    // The functions not rebuilt keep the code the last release names (nothing to upload).
    let mut artifacts = built;
    for (function, key) in &latest.functions {
        if !artifacts
            .iter()
            .any(|artifact| &artifact.function == function)
        {
            artifacts.push(Artifact {
                function: function.clone(),
                key: key.clone(),
                size: 0,
                path: PathBuf::new(),
            });
        }
    }
    let report = ui::quiet_async(Box::pin(deploy::hotswap_only(
        stage.clone(),
        config.clone(),
        artifacts,
        site_dir.to_owned(),
    )))
    .await?;
    let Some(report) = report else {
        bail!(
            "this change needs a full deploy (see above): `cargo xtask deploy --stage {}`",
            stage.name
        );
    };
    let functions: Vec<&str> = report
        .artifacts_uploaded
        .iter()
        .filter_map(|key| key.split('/').nth(1))
        .collect();
    let mut parts = Vec::new();
    if !names.is_empty() {
        parts.push(if functions.is_empty() {
            format!("rebuilt {}: code unchanged", names.join(", "))
        } else {
            format!("hotswapped {}", functions.join(", "))
        });
    }
    if change.site || !report.site.is_empty() {
        let mut files: Vec<String> = report.site.upload.clone();
        files.extend(report.site.delete.iter().map(|key| format!("-{key}")));
        parts.push(if files.is_empty() {
            "site unchanged".to_owned()
        } else {
            format!("site: {}", files.join(" "))
        });
    }
    if let Some(id) = report.release {
        parts.push(format!("release {id}"));
    }
    Ok(parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_is_mapped_to_its_function_the_library_to_all_and_the_site_to_the_site() {
        let root = Path::new("/w");
        let site = Path::new("/w/site");
        let one = classify(
            root,
            site,
            &[PathBuf::from("/w/lambdas/health/src/main.rs")],
        );
        assert_eq!(one.functions, BTreeSet::from(["health"]));
        assert!(!one.site);
        let core = classify(root, site, &[PathBuf::from("/w/lambdas/core/src/lib.rs")]);
        assert_eq!(core.functions.len(), stacks::FUNCTIONS.len());
        let contract = classify(
            root,
            site,
            &[PathBuf::from("/w/lambdas/contract/src/iam.rs")],
        );
        assert_eq!(contract.functions.len(), stacks::FUNCTIONS.len());
        let lockfile = classify(root, site, &[PathBuf::from("/w/Cargo.lock")]);
        assert_eq!(lockfile.functions.len(), stacks::FUNCTIONS.len());
        let page = classify(root, site, &[PathBuf::from("/w/site/index.html")]);
        assert_eq!((page.functions.len(), page.site), (0, true));
        let noise = classify(
            root,
            site,
            &[
                PathBuf::from("/w/lambdas/health/README.md"),
                PathBuf::from("/w/xtask/local-gateway/src/main.rs"),
                PathBuf::from("/w/site/.index.html.swp"),
            ],
        );
        assert_eq!(noise, Change::default());
    }
}
