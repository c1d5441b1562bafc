//! `cargo xtask build`: every Lambda as a zip named by the SHA-256 of its content.
//!
//! cargo-lambda's zip is not reproducible: it stamps each entry with the time of the build, so
//! rebuilding unchanged code gives a different archive (checked with cargo-lambda 1.9.2). The
//! binary inside is reproducible, so after the build each zip is rewritten with its entries in
//! name order, a fixed timestamp (1980-01-01, the zip epoch) and their original permissions.
//! Hashing that archive gives the same key for the same code, and what is hashed is exactly
//! what is uploaded.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cli::{Build, OutputFormat};
use crate::{tools, ui};

/// Where `cargo lambda build` leaves its zips, and where the manifest goes.
pub fn default_artifacts_dir() -> PathBuf {
    tools::target_dir().join("lambda")
}

/// One function's deployable zip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub function: String,
    /// The S3 key: `lambdas/{function}/{sha256}.zip`.
    pub key: String,
    pub size: u64,
    #[serde(skip)]
    pub path: PathBuf,
}

/// `target/lambda/manifest.json`: what a build produced, for people and CI.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub artifacts: Vec<Artifact>,
}

impl Build {
    pub async fn run(self) -> Result<()> {
        let stage = crate::stage::resolve(&self.stage)?;
        let functions = selected_functions(&self.function)?;
        let manifest = build(&stage, &functions)?;
        match self.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&manifest)?),
            OutputFormat::Text => {
                for artifact in &manifest.artifacts {
                    println!(
                        "{:<16} {:>10}  {}",
                        artifact.function,
                        size_text(artifact.size),
                        artifact.key
                    );
                }
            }
        }
        Ok(())
    }
}

/// The functions to build: all of them, or the ones named (each checked against the stacks).
pub fn selected_functions(names: &[String]) -> Result<Vec<&'static str>> {
    let all: Vec<&'static str> = stacks::FUNCTIONS
        .iter()
        .map(|function| function.name)
        .collect();
    if names.is_empty() {
        return Ok(all);
    }
    names
        .iter()
        .map(|name| {
            all.iter()
                .copied()
                .find(|known| known == name)
                .with_context(|| {
                    format!(
                        "there is no function `{name}`; the functions are: {}",
                        all.join(", ")
                    )
                })
        })
        .collect()
}

/// Builds `functions` in one cargo-lambda pass for the stage's architecture, makes each zip
/// reproducible, and writes the manifest.
pub fn build(stage: &stacks::settings::Stage, functions: &[&str]) -> Result<Manifest> {
    let tools = tools::ensure()?;
    let started = std::time::Instant::now();
    ui::step(format!(
        "building {} lambda{} for {} (cargo lambda, release)",
        functions.len(),
        if functions.len() == 1 { "" } else { "s" },
        stage.architecture.as_str()
    ));
    let mut command = Command::new("cargo");
    command
        .current_dir(tools::workspace_root())
        .env("PATH", tools.path_env())
        .args(["lambda", "build", "--release", "--output-format", "zip"]);
    if stage.architecture == stacks::settings::Architecture::Arm64 {
        command.arg("--arm64");
    } else {
        command.arg("--x86-64");
    }
    for function in functions {
        command.args(["--package", function]);
    }
    // Compiler output is progress, not data: it goes to stderr so `--output json` stays clean.
    let status = command
        .stdout(std::io::stderr())
        .status()
        .context("could not run `cargo lambda build`")?;
    if !status.success() {
        bail!("`cargo lambda build` failed ({status}); see the compiler output above");
    }
    let dir = default_artifacts_dir();
    for function in functions {
        let zip = dir.join(function).join("bootstrap.zip");
        make_reproducible(&zip)?;
    }
    let manifest = Manifest {
        artifacts: collect(&dir, functions)?,
    };
    write_manifest(&dir, &manifest)?;
    ui::done(format!("built in {}", ui::duration(started.elapsed())));
    Ok(manifest)
}

/// Reads `{dir}/{function}/bootstrap.zip` for each function and names it by its SHA-256.
pub fn collect(dir: &Path, functions: &[&str]) -> Result<Vec<Artifact>> {
    functions
        .iter()
        .map(|function| {
            let path = dir.join(function).join("bootstrap.zip");
            let bytes = std::fs::read(&path).with_context(|| {
                format!(
                    "no artifact for `{function}` at {}; run `cargo xtask build` (or drop `--no-build`)",
                    path.display()
                )
            })?;
            Ok(Artifact {
                function: (*function).to_owned(),
                key: artifact_key(function, &bytes),
                size: bytes.len() as u64,
                path,
            })
        })
        .collect()
}

pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    let path = dir.join("manifest.json");
    let text = serde_json::to_string_pretty(manifest)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// `lambdas/{function}/{sha256-hex}.zip`.
pub fn artifact_key(function: &str, zip: &[u8]) -> String {
    format!(
        "lambdas/{function}/{}.zip",
        hex::encode(Sha256::digest(zip))
    )
}

/// Rewrites a zip in place so that the same files always give the same bytes.
fn make_reproducible(path: &Path) -> Result<()> {
    let original =
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let normalized = reproducible_zip(&original)
        .with_context(|| format!("cannot re-pack {}", path.display()))?;
    if normalized != original {
        std::fs::write(path, normalized)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The same entries, sorted by name, with a fixed timestamp and their permissions kept.
pub fn reproducible_zip(original: &[u8]) -> Result<Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(original))?;
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index)?;
        let name = entry.name()?.into_owned();
        let mode = entry.unix_mode().unwrap_or(0o644);
        let mut content = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut content)?;
        entries.push((name, mode, content));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, mode, content) in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(mode & 0o777);
        writer.start_file(name, options)?;
        writer.write_all(&content)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// `1.2 MB`, `340 kB`.
pub fn size_text(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.0} kB", bytes as f64 / 1e3),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(name: &str, content: &[u8], time: zip::DateTime) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .last_modified_time(time)
            .unix_permissions(0o755);
        writer.start_file(name, options).unwrap();
        writer.write_all(content).unwrap();
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn zips_built_at_different_times_get_the_same_key() {
        let morning = zip::DateTime::from_date_and_time(2026, 11, 26, 9, 0, 0).unwrap();
        let evening = zip::DateTime::from_date_and_time(2026, 11, 26, 21, 30, 0).unwrap();
        let first = zip_with("bootstrap", b"binary", morning);
        let second = zip_with("bootstrap", b"binary", evening);
        assert_ne!(first, second, "the inputs differ only by timestamp");
        let first = reproducible_zip(&first).unwrap();
        let second = reproducible_zip(&second).unwrap();
        assert_eq!(
            artifact_key("health", &first),
            artifact_key("health", &second)
        );
        assert_eq!(
            reproducible_zip(&first).unwrap(),
            first,
            "re-packing is idempotent"
        );
    }

    #[test]
    fn different_code_gets_a_different_key() {
        let time = zip::DateTime::default();
        let one = reproducible_zip(&zip_with("bootstrap", b"one", time)).unwrap();
        let two = reproducible_zip(&zip_with("bootstrap", b"two", time)).unwrap();
        assert_ne!(artifact_key("health", &one), artifact_key("health", &two));
    }

    #[test]
    fn the_executable_bit_survives() {
        let repacked =
            reproducible_zip(&zip_with("bootstrap", b"x", zip::DateTime::default())).unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(repacked)).unwrap();
        assert_eq!(
            archive.by_index(0).unwrap().unix_mode().unwrap() & 0o777,
            0o755
        );
    }
}
