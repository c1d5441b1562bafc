//! The deploy engine's benchmarks against the emulator: a no-op redeploy, a site sync of a
//! 1,000-file site in which one file changed, a hotswap of one function and a rollback of a code
//! and site change. All run the real binary, as an operator would, with small prepared artifacts
//! (the release build is not what is measured), through a counting proxy that says how many
//! requests, writes and change sets each command made.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};

use crate::bench::proxy::{Logged, Proxy};
use crate::bench::{Context, Row, median};
use crate::emulator::Emulator;
use crate::tools;

/// A scratch stage on a private emulator: its own site folder and artifacts.
pub(crate) struct Scratch {
    pub(crate) emulator: Emulator,
    proxy: Proxy,
    pub(crate) stage: String,
    dir: tempfile::TempDir,
}

impl Scratch {
    pub(crate) async fn new(prefix: &str) -> Result<Scratch> {
        let emulator = Emulator::start(None).await?;
        let proxy = Proxy::start(emulator.endpoint_url())?;
        let dir = tempfile::tempdir()?;
        let stage = format!("{prefix}{}", chrono::Utc::now().format("%H%M%S"));
        let scratch = Scratch {
            emulator,
            proxy,
            stage,
            dir,
        };
        for function in stacks::FUNCTIONS {
            scratch.set_code(function.name, "1")?;
        }
        Ok(scratch)
    }

    /// Gives `function` a new (tiny) artifact whose content says `version`.
    fn set_code(&self, function: &str, version: &str) -> Result<()> {
        let path = self
            .dir
            .path()
            .join("artifacts")
            .join(function)
            .join("bootstrap.zip");
        std::fs::create_dir_all(path.parent().expect("has a parent"))?;
        let mut writer = zip::ZipWriter::new(std::fs::File::create(&path)?);
        writer.start_file(
            "bootstrap",
            zip::write::SimpleFileOptions::default().unix_permissions(0o755),
        )?;
        writer.write_all(format!("{function} {version}").as_bytes())?;
        writer.finish()?;
        Ok(())
    }

    pub(crate) fn site(&self) -> std::path::PathBuf {
        self.dir.path().join("site")
    }

    /// `deploy --yes --output json` through the binary; returns the report, the wall time and
    /// the requests it made.
    pub(crate) fn deploy(&self) -> Result<(serde_json::Value, Duration, Vec<Logged>)> {
        self.run("deploy", &[])
    }

    /// `COMMAND --stage S --yes --output json EXTRA` through the binary and the counting proxy.
    fn run(
        &self,
        verb: &str,
        extra: &[&str],
    ) -> Result<(serde_json::Value, Duration, Vec<Logged>)> {
        let mut command = Command::new(std::env::current_exe()?);
        self.emulator.configure(&mut command);
        self.proxy.take();
        command
            .env("AWS_ENDPOINT_URL", self.proxy.endpoint_url())
            .args([verb, "--stage", &self.stage, "--yes", "--output", "json"])
            .args(extra)
            .env("MUMBLE_SITE_DIR", self.site())
            .env("MUMBLE_ARTIFACTS_DIR", self.dir.path().join("artifacts"))
            .env_remove("MUMBLE_TEMPLATES_DIR")
            .env("NO_COLOR", "1");
        let started = Instant::now();
        let output = command.output().context("cannot run the deploy")?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            bail!(
                "`{verb}` failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok((
            serde_json::from_slice(&output.stdout)?,
            elapsed,
            self.proxy.take(),
        ))
    }
}

impl Scratch {
    /// One stack output of the stage, through `cargo xtask outputs`.
    fn output(&self, name: &str) -> Result<String> {
        let mut command = Command::new(std::env::current_exe()?);
        self.emulator.configure(&mut command);
        let output = command
            .args(["outputs", "--stage", &self.stage, "--output", "json"])
            .output()
            .context("cannot run `outputs`")?;
        let outputs: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        outputs
            .as_object()
            .into_iter()
            .flat_map(|stacks| stacks.values())
            .find_map(|stack| stack[name].as_str())
            .map(str::to_owned)
            .with_context(|| format!("stage {} has no output {name}", self.stage))
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()))?;
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn count(value: &serde_json::Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

/// A redeploy with nothing changed: the last release says every stack, artifact and site file is
/// in place, so the deploy only reads (no change set, no upload, no release, no invalidation).
pub async fn noop_redeploy(context: Context) -> Result<Vec<Row>> {
    let scratch = Scratch::new("bnoop").await?;
    copy_dir(&tools::workspace_root().join("site"), &scratch.site())?;
    let (_, first, _) = scratch.deploy()?;
    let mut samples = Vec::with_capacity(context.runs);
    let mut requests = Vec::new();
    for _ in 0..context.runs {
        let (report, elapsed, log) = scratch.deploy()?;
        ensure!(
            count(&report["artifactsUploaded"]) == 0
                && count(&report["site"]["upload"]) == 0
                && report["invalidation"].is_null()
                && report["release"].is_null(),
            "a redeploy with no changes changed something: {report:#}"
        );
        samples.push(elapsed);
        requests = log;
    }
    let slowest = *samples.iter().max().expect("at least one run");
    let change_sets = requests
        .iter()
        .filter(|request| request.action == "CreateChangeSet")
        .count();
    let writes: Vec<&Logged> = requests
        .iter()
        .filter(|request| !request.is_read())
        .collect();
    ensure!(
        writes.is_empty(),
        "a redeploy with no changes wrote: {:?}",
        writes
            .iter()
            .map(|request| &request.action)
            .collect::<Vec<_>>()
    );
    Ok(vec![
        Row::millis(
            format!("no-op redeploy, median of {}", context.runs),
            median(&mut samples),
        )
        .at_most(500.0),
        Row::millis("no-op redeploy, slowest", slowest),
        Row::new(
            "no-op redeploy: AWS requests",
            requests.len() as f64,
            "requests",
        )
        .at_most(10.0),
        Row::new(
            "no-op redeploy: change sets",
            change_sets as f64,
            "change sets",
        )
        .at_most(0.0),
        Row::new("no-op redeploy: writes", writes.len() as f64, "requests").at_most(0.0),
        Row::millis("first deploy (for scale)", first),
    ])
}

/// A 1,000-file site deployed once; then one file changes and the next deploy must upload
/// exactly that file.
pub async fn site_sync_1000(_context: Context) -> Result<Vec<Row>> {
    let scratch = Scratch::new("bsite").await?;
    let site = scratch.site();
    std::fs::create_dir_all(site.join("assets"))?;
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><title>bench</title>\n",
    )?;
    for n in 1..1000 {
        std::fs::write(
            site.join("assets").join(format!("file-{n:04}.js")),
            format!("export const n = {n};\n"),
        )?;
    }
    let (first, full, _) = scratch.deploy()?;
    std::fs::write(
        site.join("assets/file-0500.js"),
        "export const n = 'changed';\n",
    )?;
    let (report, elapsed, log) = scratch.deploy()?;
    let uploaded = count(&report["site"]["upload"]);
    let site_bucket = format!("/{}/", scratch.output("SiteBucketName")?);
    let site_puts = log
        .iter()
        .filter(|request| request.method == "PUT" && request.path.starts_with(&site_bucket))
        .count();
    let other_writes: Vec<String> = log
        .iter()
        .filter(|request| !request.is_read() && !request.path.starts_with(&site_bucket))
        .map(|request| request.action.clone())
        .collect();
    let invalidated = count(&report["invalidation"]["paths"]);
    let rows = vec![
        Row::new(
            "site PUTs after changing 1 of 1000",
            site_puts as f64,
            "requests",
        )
        .at_most(1.0),
        Row::new("paths invalidated", invalidated as f64, "paths").at_most(1.0),
        Row::new(
            "change sets",
            log.iter()
                .filter(|request| request.action == "CreateChangeSet")
                .count() as f64,
            "change sets",
        )
        .at_most(0.0),
        Row::new(
            "other writes (the release record)",
            other_writes.len() as f64,
            "requests",
        ),
        Row::new("AWS requests in all", log.len() as f64, "requests"),
        Row::new(
            "files uploaded after changing 1 of 1000",
            uploaded as f64,
            "files",
        )
        .at_most(1.0),
        Row::millis("deploy with 1 changed file of 1000", elapsed),
        Row::new(
            "files uploaded by the first deploy",
            count(&first["site"]["upload"]) as f64,
            "files",
        ),
        Row::millis("first deploy of 1000 files", full),
    ];
    ensure!(
        uploaded == 1,
        "changing one file of 1000 uploaded {uploaded} files: {report:#}"
    );
    Ok(rows)
}

/// One function's code changed: `deploy --hotswap` updates it directly, with no change set.
pub async fn hotswap_one(context: Context) -> Result<Vec<Row>> {
    let scratch = Scratch::new("bhot").await?;
    copy_dir(&tools::workspace_root().join("site"), &scratch.site())?;
    scratch.deploy()?;
    let mut samples = Vec::with_capacity(context.runs);
    let mut requests = Vec::new();
    for run in 0..context.runs {
        scratch.set_code("health", &format!("hotswap {run}"))?;
        let (report, elapsed, log) = scratch.run("deploy", &["--hotswap"])?;
        let change_sets = log
            .iter()
            .filter(|request| request.action == "CreateChangeSet")
            .count();
        ensure!(
            count(&report["artifactsUploaded"]) == 1 && change_sets == 0,
            "the hotswap did not update exactly one function without a change set: {report:#}"
        );
        samples.push(elapsed);
        requests = log;
    }
    Ok(vec![
        Row::millis(
            format!("hotswap of one function, median of {}", context.runs),
            median(&mut samples),
        )
        .at_most(2000.0),
        Row::new("hotswap: AWS requests", requests.len() as f64, "requests"),
    ])
}

/// A deploy that changed one function's code and one site file, then `rollback` to the release
/// before it: the app stack's code parameters through a change set, the file, an invalidation.
pub async fn rollback_code_and_site(context: Context) -> Result<Vec<Row>> {
    let scratch = Scratch::new("broll").await?;
    copy_dir(&tools::workspace_root().join("site"), &scratch.site())?;
    scratch.deploy()?;
    let mut samples = Vec::with_capacity(context.runs);
    let mut requests = Vec::new();
    for run in 0..context.runs {
        scratch.set_code("health", &format!("rollback {run}"))?;
        std::fs::write(scratch.site().join("robots.txt"), format!("# run {run}\n"))?;
        scratch.deploy()?;
        let (report, elapsed, log) = scratch.run("rollback", &[])?;
        ensure!(
            count(&report["site"]["delete"]) == 1,
            "the rollback did not remove the added file: {report:#}"
        );
        samples.push(elapsed);
        requests = log;
    }
    let change_sets = requests
        .iter()
        .filter(|request| request.action == "CreateChangeSet")
        .count();
    Ok(vec![
        Row::millis(
            format!(
                "rollback of a code and site change, median of {}",
                context.runs
            ),
            median(&mut samples),
        )
        .at_most(5000.0),
        Row::new("rollback: AWS requests", requests.len() as f64, "requests"),
        Row::new("rollback: change sets", change_sets as f64, "change sets"),
    ])
}
