//! The release profile's panic strategy, measured both ways on one function (`panic = "abort"`
//! is what `Cargo.toml` chose; this keeps the choice checked against `unwind`).

use std::fs::{self};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use stacks::Stage;

use super::*;
use crate::{build, tools, ui};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PanicStrategy {
    Abort,
    Unwind,
}

impl PanicStrategy {
    fn as_str(self) -> &'static str {
        match self {
            PanicStrategy::Abort => "abort",
            PanicStrategy::Unwind => "unwind",
        }
    }

    fn other(self) -> PanicStrategy {
        match self {
            PanicStrategy::Abort => PanicStrategy::Unwind,
            PanicStrategy::Unwind => PanicStrategy::Abort,
        }
    }
}

/// The strategy `cargo lambda build --release` builds with: the root manifest's
/// `[profile.release] panic`, or `abort` when it sets none, because cargo-lambda then adds
/// `--config profile.release.panic="abort"` (its "release optimizations"; checked for 1.9.2).
pub(super) fn release_panic_strategy(manifest: &str) -> PanicStrategy {
    let mut in_release = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_release = line == "[profile.release]";
            continue;
        }
        if !in_release {
            continue;
        }
        if let Some((key, value)) = line.split_once('=')
            && key.trim() == "panic"
        {
            let value = value
                .split('#')
                .next()
                .unwrap_or_default()
                .trim()
                .trim_matches(['"', '\'']);
            return if value == "unwind" {
                PanicStrategy::Unwind
            } else {
                PanicStrategy::Abort
            };
        }
    }
    PanicStrategy::Abort
}

pub(super) fn production_panic_strategy() -> Result<PanicStrategy> {
    let path = tools::workspace_root().join("Cargo.toml");
    let manifest =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(release_panic_strategy(&manifest))
}

/// One build of the probe function.
pub(super) struct Variant {
    pub(super) strategy: PanicStrategy,
    pub(super) zip: u64,
    pub(super) binary: u64,
    pub(super) subject: Subject,
}

/// Builds the probe alone with each panic strategy, cold-starts both builds interleaved, and
/// reports sizes and cold starts of each, abort first. Both are built alone, and the same way, so
/// that they differ in the strategy only: built with the other functions, the probe would get the
/// features they turn on in shared crates (mumble-core's `services`, for one).
pub(super) async fn compare_panic_strategies(
    api: &RuntimeApi,
    stage: &Stage,
    built: Variant,
    runs: usize,
) -> Result<Vec<Row>> {
    let mut variants = Vec::new();
    for strategy in [built.strategy, built.strategy.other()] {
        let zip = build_with_panic(stage, PANIC_PROBE, strategy)?;
        let dir = bench_dir()
            .join(format!("panic-{}", strategy.as_str()))
            .join(PANIC_PROBE);
        let (binary_path, binary) = unpack_bootstrap(&zip, &dir)?;
        // Sized as `cargo xtask build` packs its zips, so both sides are compared alike.
        let zip_size = build::reproducible_zip(&fs::read(&zip)?)?.len() as u64;
        variants.push(Variant {
            strategy,
            zip: zip_size,
            binary,
            subject: Subject {
                binary: binary_path,
                ..built.subject.clone()
            },
        });
    }

    ui::info(format!(
        "{runs} cold starts each of {PANIC_PROBE} with panic=abort and panic=unwind"
    ));
    variants.sort_by_key(|variant| variant.strategy != PanicStrategy::Abort);
    let subjects: Vec<Subject> = variants
        .iter()
        .map(|variant| variant.subject.clone())
        .collect();
    let measured = measure(api, &subjects, runs).await;
    let release = production_panic_strategy()?;
    let mut rows = Vec::new();
    for (variant, measurement) in variants.iter().zip(&measured) {
        let origin = if variant.strategy == release {
            "the release profile's strategy, built alone"
        } else {
            "the other strategy, built alone"
        };
        let what = format!("{PANIC_PROBE} panic={}", variant.strategy.as_str());
        rows.push(Row::new(
            format!("{what} zip ({origin})"),
            megabytes(variant.zip),
            "MB",
        ));
        rows.push(Row::new(
            format!("{what} binary"),
            megabytes(variant.binary),
            "MB",
        ));
        let cold = measurement.row(&variant.subject, runs);
        rows.push(Row {
            name: cold.name.replacen(PANIC_PROBE, &what, 1),
            ..cold
        });
    }
    Ok(rows)
}

/// Builds one function with `strategy` in its own profile (`lambda-{strategy}`, inheriting
/// release), so neither the release artifacts nor `target/lambda/` are touched; cached by cargo
/// like any profile. Returns the zip.
pub(super) fn build_with_panic(
    stage: &Stage,
    function: &str,
    strategy: PanicStrategy,
) -> Result<PathBuf> {
    let tools = tools::ensure()?;
    let profile = format!("lambda-{}", strategy.as_str());
    let lambda_dir = bench_dir().join(format!("build-{profile}"));
    let started = Instant::now();
    ui::step(format!(
        "building {function} with panic={} (cargo lambda, profile {profile})",
        strategy.as_str()
    ));
    // A custom profile skips cargo-lambda's release optimizations; besides the panic strategy
    // the only one not already in the inherited profile is the target CPU, given here as
    // cargo-lambda 1.9.2 gives it to `--release` builds.
    let target_cpu = match stage.architecture {
        Architecture::X86_64 => "haswell",
        Architecture::Arm64 => "neoverse-n1",
    };
    let status = Command::new("cargo")
        .current_dir(tools::workspace_root())
        .env("PATH", tools.path_env())
        .args([
            "lambda",
            "build",
            "--output-format",
            "zip",
            "--profile",
            &profile,
        ])
        .args([
            "--config",
            &format!("profile.{profile}.inherits=\"release\""),
        ])
        .args([
            "--config",
            &format!("profile.{profile}.panic=\"{}\"", strategy.as_str()),
        ])
        .args([
            "--config",
            &format!("build.rustflags=[\"-C\", \"target-cpu={target_cpu}\"]"),
        ])
        .arg(if stage.architecture == Architecture::Arm64 {
            "--arm64"
        } else {
            "--x86-64"
        })
        .arg("--lambda-dir")
        .arg(&lambda_dir)
        .args(["--package", function])
        .stdout(std::io::stderr())
        .status()
        .context("could not run `cargo lambda build`")?;
    if !status.success() {
        bail!(
            "`cargo lambda build --profile {profile}` failed ({status}); see the compiler output above"
        );
    }
    ui::done(format!("built in {}", ui::duration(started.elapsed())));
    Ok(lambda_dir.join(function).join("bootstrap.zip"))
}
