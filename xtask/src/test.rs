//! `cargo xtask test`: every check CI runs, in one command, on a fresh machine or a warm one.
//!
//! Steps, in order, stopping at the first failure: tools, format, lint, actionlint on the GitHub
//! workflows, the Rust tests (with the emulator), the emulator plugin's Python tests, the browser
//! test, and cfn-lint on every stage's templates. A summary with each step's duration ends the run. With FILTERS, only the matching
//! Rust tests run (with the emulator): the quick loop while working on one thing.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::emulator::{self, Emulator};
use crate::tools::{self, Tools};
use crate::{stage, synth, ui};

/// How a step ended.
#[derive(Debug)]
enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

struct Summary {
    rows: Vec<(&'static str, Outcome, Duration)>,
}

impl Summary {
    /// Runs one step, prints its start, and records how it ended. Errors become `Failed`.
    fn run(&mut self, name: &'static str, step: impl FnOnce() -> Result<Outcome>) -> bool {
        ui::step(name);
        let started = Instant::now();
        let outcome = step().unwrap_or_else(|error| Outcome::Failed(format!("{error:#}")));
        let passed = !matches!(outcome, Outcome::Failed(_));
        self.rows.push((name, outcome, started.elapsed()));
        passed
    }

    async fn run_async(
        &mut self,
        name: &'static str,
        step: impl Future<Output = Result<Outcome>>,
    ) -> bool {
        ui::step(name);
        let started = Instant::now();
        let outcome = step
            .await
            .unwrap_or_else(|error| Outcome::Failed(format!("{error:#}")));
        let passed = !matches!(outcome, Outcome::Failed(_));
        self.rows.push((name, outcome, started.elapsed()));
        passed
    }

    fn print(&self, total: Duration) {
        eprintln!();
        ui::step(format!("summary ({})", ui::duration(total)));
        for (name, outcome, elapsed) in &self.rows {
            let (mark, note) = match outcome {
                Outcome::Passed => (ui::green("passed "), String::new()),
                Outcome::Failed(why) => (ui::red("FAILED "), format!("  {why}")),
                Outcome::Skipped(why) => (ui::yellow("skipped"), format!("  {why}")),
            };
            eprintln!("    {mark} {name:<18} {:>7}{note}", ui::duration(*elapsed));
        }
    }

    fn failed(&self) -> Vec<&'static str> {
        self.rows
            .iter()
            .filter(|(_, outcome, _)| matches!(outcome, Outcome::Failed(_)))
            .map(|(name, _, _)| *name)
            .collect()
    }
}

impl crate::cli::Test {
    pub async fn run(self) -> Result<()> {
        let started = Instant::now();
        let mut summary = Summary { rows: Vec::new() };
        let outcome = self.run_steps(&mut summary).await;
        summary.print(started.elapsed());
        outcome?;
        let failed = summary.failed();
        match failed.as_slice() {
            [] => {
                ui::done(format!(
                    "all checks passed in {}",
                    ui::duration(started.elapsed())
                ));
                Ok(())
            }
            [step] => bail!("`cargo xtask test` failed at the {step} step (see above)"),
            steps => bail!(
                "`cargo xtask test` failed at these steps: {} (see above)",
                steps.join(", ")
            ),
        }
    }

    /// Runs the steps until one fails (all of them with `--keep-going`, except those needing
    /// what failed); the emulator guard stops the emulator on every way out.
    async fn run_steps(&self, summary: &mut Summary) -> Result<()> {
        let stop = |passed: bool| !passed && (!self.keep_going || emulator::interrupted());
        let mut tools = None;
        if !summary.run("tools", || {
            tools = Some(tools::ensure()?);
            Ok(Outcome::Passed)
        }) {
            return Ok(());
        }
        let tools = tools.expect("the tools step sets the tools");
        let quick = !self.filters.is_empty();
        if quick {
            ui::info("test filters given: running only the matching Rust tests");
        } else {
            // rustfmt colours its diff even into a log file unless told.
            let colour = if ui::is_interactive() {
                "--color=auto"
            } else {
                "--color=never"
            };
            let format = ["fmt", "--all", "--check", "--", colour];
            if stop(summary.run("format", || cargo(&format, None))) {
                return Ok(());
            }
            let clippy = [
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ];
            // `health` alone builds mumble-core without its `services` feature, as its Lambda
            // build does; the workspace-wide run above always has the feature on.
            let core_alone = ["clippy", "--package", "health", "--", "-D", "warnings"];
            let lint = || match cargo(&clippy, None)? {
                Outcome::Passed => cargo(&core_alone, None),
                not_passed => Ok(not_passed),
            };
            if stop(summary.run("lint", lint)) {
                return Ok(());
            }
            if stop(summary.run("actionlint", || lint_workflows(&tools))) {
                return Ok(());
            }
        }

        let mut emulator = None;
        let emulator_started = summary
            .run_async("emulator", async {
                let started = Emulator::start(None).await?;
                ui::info(format!("AWS_ENDPOINT_URL={}", started.endpoint_url()));
                emulator = Some(started);
                Ok(Outcome::Passed)
            })
            .await;
        if let Some(emulator) = &emulator {
            let env = ChildEnv {
                tools: &tools,
                emulator,
            };
            let with_browser = quick && !self.no_browser;
            let rust_passed = summary.run("rust tests", || {
                if with_browser && self.filters.iter().any(|filter| filter.contains("browser")) {
                    tools::ensure_chromium()?;
                }
                rust_tests(&env, &self.filters, with_browser)
            });
            if !rust_passed && let Some(log) = emulator.log_path() {
                ui::info(format!("the emulator's log: {}", log.display()));
            }
            if stop(rust_passed) || quick {
                return Ok(());
            }
            if stop(summary.run("emulator plugin", || python_tests(&env))) {
                return Ok(());
            }
            if stop(summary.run("browser", || browser_test(&env, self.no_browser))) {
                return Ok(());
            }
        } else if stop(emulator_started) || quick {
            return Ok(());
        }
        summary.run("cfn-lint", || lint_templates(&tools));
        drop(emulator);
        Ok(())
    }
}

/// What every child process of the tests gets: the tools first on `PATH`, the emulator's
/// endpoint and dummy credentials.
struct ChildEnv<'a> {
    tools: &'a Tools,
    emulator: &'a Emulator,
}

impl ChildEnv<'_> {
    fn apply<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        self.emulator
            .configure(command)
            .env("PATH", self.tools.path_env())
    }
}

fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Runs `cargo ARGS` in the workspace root, its output on stderr (stdout stays for data).
fn cargo(args: &[&str], env: Option<&ChildEnv>) -> Result<Outcome> {
    let mut command = Command::new(cargo_program());
    command.args(args);
    if let Some(env) = env {
        env.apply(&mut command);
    }
    status_outcome(run(&mut command)?, &format!("cargo {}", args.join(" ")))
}

fn run(command: &mut Command) -> Result<ExitStatus> {
    tracing::debug!(?command, "running");
    command
        .current_dir(tools::workspace_root())
        .stdout(std::io::stderr())
        .status()
        .with_context(|| format!("cannot run {:?}", command.get_program()))
}

fn status_outcome(status: ExitStatus, what: &str) -> Result<Outcome> {
    Ok(if status.success() {
        Outcome::Passed
    } else {
        Outcome::Failed(format!("`{what}` exited with {status}"))
    })
}

/// The browser test, as a nextest filterset: it runs in its own step, after the other tests.
const BROWSER_TESTS: &str = "package(xtask) & binary(it) & test(/^browser::/)";
/// The same, as a `cargo test` name filter.
const BROWSER_TEST_PREFIX: &str = "browser::";

fn nextest_available() -> bool {
    which("cargo-nextest").is_some()
}

/// The Rust tests; the browser test only when `with_browser` (it has its own step otherwise).
fn rust_tests(env: &ChildEnv, filters: &[String], with_browser: bool) -> Result<Outcome> {
    let nextest = nextest_available();
    let exclude_browser = format!("not ({BROWSER_TESTS})");
    // Every failure in one run: CI and a person fixing several at once see them all.
    let mut args = if nextest {
        vec!["nextest", "run", "--workspace", "--no-fail-fast"]
    } else {
        ui::warn(
            "cargo-nextest not found: running `cargo test` instead (install it with `cargo install cargo-nextest`)",
        );
        vec!["test", "--workspace", "--no-fail-fast"]
    };
    if nextest {
        if !with_browser {
            args.extend(["-E", &exclude_browser]);
        }
        args.extend(filters.iter().map(String::as_str));
    } else {
        args.push("--");
        args.extend(filters.iter().map(String::as_str));
        if !with_browser {
            args.extend(["--skip", BROWSER_TEST_PREFIX]);
        }
    }
    cargo(&args, Some(env))
}

/// The emulator plugin's own tests (pytest), when it has any.
fn python_tests(env: &ChildEnv) -> Result<Outcome> {
    let dir = tools::workspace_root().join("xtask/emulator");
    if !has_python_tests(&dir) {
        return Ok(Outcome::Skipped("no tests in xtask/emulator".into()));
    }
    let mut command = Command::new(env.tools.python());
    command.args(["-m", "pytest", "-q", "xtask/emulator"]);
    env.apply(&mut command);
    status_outcome(run(&mut command)?, "pytest xtask/emulator")
}

fn has_python_tests(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            !name.starts_with('.') && name != "__pycache__" && has_python_tests(&path)
        } else {
            name.starts_with("test_") && name.ends_with(".py")
        }
    })
}

/// The browser test: Mumble in headless Chromium against `cargo xtask dev`'s gateway
/// (`xtask/tests/it/browser.rs`), after installing Debian's chromium and chromium-driver if needed.
fn browser_test(env: &ChildEnv, no_browser: bool) -> Result<Outcome> {
    if no_browser {
        return Ok(Outcome::Skipped("--no-browser".into()));
    }
    tools::ensure_chromium()?;
    let args: Vec<&str> = if nextest_available() {
        vec![
            "nextest",
            "run",
            "-p",
            "xtask",
            "--test",
            "it",
            "-E",
            BROWSER_TESTS,
        ]
    } else {
        vec![
            "test",
            "-p",
            "xtask",
            "--test",
            "it",
            "--",
            BROWSER_TEST_PREFIX,
        ]
    };
    let outcome = cargo(&args, Some(env))?;
    if matches!(outcome, Outcome::Failed(_)) {
        ui::info("screenshots and logs of the browser test: target/browser-test/");
    }
    Ok(outcome)
}

/// The GitHub Actions workflows (syntax, expressions, action inputs, deprecated runtimes).
fn lint_workflows(tools: &Tools) -> Result<Outcome> {
    // From the workspace root, actionlint finds .github/workflows/ itself.
    let status = run(Command::new(tools.bin("actionlint")).arg("-no-color"))?;
    Ok(if status.success() {
        Outcome::Passed
    } else {
        Outcome::Failed("actionlint found problems; its findings are above".to_owned())
    })
}

/// cfn-lint on every template of every stage (and a personal stage): no error and no warning.
fn lint_templates(tools: &Tools) -> Result<Outcome> {
    let out = tools::target_dir().join("cfn-lint");
    let mut by_region: Vec<(String, Vec<PathBuf>)> = Vec::new();
    let stages = stage::all_with_personal()?;
    for stage in &stages {
        for template in synth::write_stage(stage, &out.join(&stage.name))? {
            match by_region
                .iter_mut()
                .find(|(region, _)| *region == template.region)
            {
                Some((_, paths)) => paths.push(template.path),
                None => by_region.push((template.region, vec![template.path])),
            }
        }
    }
    let count: usize = by_region.iter().map(|(_, paths)| paths.len()).sum();
    ui::info(format!(
        "{count} templates of {} stages ({}) in {}",
        stages.len(),
        stages
            .iter()
            .map(|stage| stage.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        out.display()
    ));
    let mut failures = Vec::new();
    for (region, paths) in &by_region {
        // Each template is checked against the region it deploys to (resource availability differs).
        let mut command = Command::new(tools.bin("cfn-lint"));
        command.args(["--regions", region, "--"]).args(paths);
        let status = run(&mut command)?;
        if !status.success() {
            failures.push(format!("{region}: {}", describe_cfn_lint(status)));
        }
    }
    Ok(if failures.is_empty() {
        Outcome::Passed
    } else {
        Outcome::Failed(format!(
            "cfn-lint found problems ({}); its findings are above",
            failures.join("; ")
        ))
    })
}

/// cfn-lint's exit code is a bit set: 2 errors, 4 warnings, 8 informational, 1 its own failure.
fn describe_cfn_lint(status: ExitStatus) -> String {
    let Some(code) = status.code() else {
        return status.to_string();
    };
    let kinds: Vec<&str> = [
        (1, "cfn-lint failed"),
        (2, "errors"),
        (4, "warnings"),
        (8, "informational"),
    ]
    .into_iter()
    .filter(|(bit, _)| code & bit != 0)
    .map(|(_, kind)| kind)
    .collect();
    if kinds.is_empty() {
        format!("exit code {code}")
    } else {
        kinds.join(" and ")
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn cfn_lint_codes_name_what_was_found() {
        let errors_and_warnings = ExitStatus::from_raw(6 << 8);
        assert_eq!(
            describe_cfn_lint(errors_and_warnings),
            "errors and warnings"
        );
    }

    #[test]
    fn python_tests_are_found_only_by_their_names() {
        let dir = std::env::temp_dir().join(format!("xtask-pytests-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("plugin")).unwrap();
        std::fs::write(dir.join("plugin/handlers.py"), "").unwrap();
        assert!(!has_python_tests(&dir));
        std::fs::write(dir.join("plugin/test_handlers.py"), "").unwrap();
        assert!(has_python_tests(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
