//! `cargo xtask dev`: the whole of Mumble on this machine, with no Docker and no AWS account.
//!
//! 1. the AWS API emulator on 127.0.0.1, its data recorded in `.mumble/` (see [`state`]);
//! 2. the `local` stage's stacks deployed to it by the same `cargo xtask deploy` as the cloud
//!    stages, with placeholder Lambda zips (see [`artifacts`]);
//! 3. the local gateway (`xtask/local-gateway`) as a child process, running every function
//!    in-process with the environment the stacks give them, on 127.0.0.1:PORT.

mod artifacts;
mod gateway;
mod state;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::emulator::Emulator;
use crate::{tools, ui};
use gateway::Gateway;

const STAGE: &str = "local";

impl crate::cli::Dev {
    pub async fn run(self) -> Result<()> {
        let data_dir = match &self.data_dir {
            Some(dir) => std::path::absolute(dir)
                .with_context(|| format!("bad --data-dir {}", dir.display()))?,
            None => tools::workspace_root().join(".mumble"),
        };
        if !state::env_is_set(&data_dir) {
            // The emulator reads its recorder settings from the environment it inherits, and
            // setting our own environment is not allowed here (unsafe in Rust 2024): run this
            // same command again with them set. `exec` only returns on failure.
            let error =
                Command::new(std::env::current_exe().context("cannot find the xtask binary")?)
                    .args(std::env::args_os().skip(1))
                    .envs(state::emulator_env(&data_dir))
                    .exec();
            return Err(error).context("cannot restart xtask with the emulator's settings");
        }
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
        let lock = state::Lock::acquire(&data_dir)?;
        if self.reset {
            state::wipe(&data_dir)?;
            ui::info(format!("wiped the local data in {}", data_dir.display()));
        }
        // A gateway left by a killed dev stops by itself once it notices (it finishes open
        // requests first): give it a moment before calling the port taken.
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while std::net::TcpListener::bind(("127.0.0.1", self.port)).is_err()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(200));
        }
        if std::net::TcpListener::bind(("127.0.0.1", self.port)).is_err() {
            bail!(
                "port {} on 127.0.0.1 is in use; stop what listens there or pass --port",
                self.port
            );
        }
        let stage = crate::stage::resolve(STAGE)?;

        // A fixed port (not a free one): the site's Cognito endpoint and a browser's saved
        // session stay valid from one run to the next.
        ui::step(format!(
            "starting the AWS API emulator on 127.0.0.1:{}",
            self.emulator_port
        ));
        // The emulator restores the saved data before it answers (see `state`).
        let emulator = Emulator::start(Some(self.emulator_port)).await?;
        lock.record_emulator(emulator.pid())?;
        state::report(&emulator.endpoint_url(), &data_dir).await?;

        let artifacts = artifacts::write_placeholders()?;
        ui::info("Lambda zips: placeholders (the local gateway runs the functions in-process)");
        deploy(&emulator, &artifacts)?;
        let outputs = crate::outputs::read(&emulator.sdk_config(), &stage).await?;
        let env = gateway::environment(&stage, &outputs, self.port, &gateway::has_value)?;

        ui::step("building the local gateway");
        let binary = gateway::build()?;
        let mut running = Gateway::spawn(&binary, &emulator.env(), &env)?;
        running.wait_until_ready(self.port).await?;
        let url = format!("http://127.0.0.1:{}", self.port);
        ui::done(format!(
            "Mumble is up at {}  (emulator {}, data in {}; Ctrl-C stops everything)",
            ui::bold(&url),
            emulator.endpoint_url(),
            data_dir.display()
        ));
        println!("{url}");
        if self.open {
            open_browser(&url);
        }

        let watcher = if self.watch {
            Some(watch::start()?)
        } else {
            None
        };
        loop {
            let changed = async {
                match &watcher {
                    Some(watcher) => watcher.changed().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {
                    eprintln!();
                    ui::info("stopping the gateway and the emulator");
                    running.stop();
                    drop(emulator);
                    return Ok(());
                }
                () = changed => {
                    ui::step("Rust code changed; rebuilding the local gateway");
                    match gateway::build() {
                        Ok(binary) => {
                            running.stop();
                            running = Gateway::spawn(&binary, &emulator.env(), &env)?;
                            running.wait_until_ready(self.port).await?;
                            ui::done(format!("restarted; {url}"));
                        }
                        Err(err) => ui::warn(format!("{err:#}; the previous build keeps running")),
                    }
                }
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    if let Some(status) = running.exited()? {
                        bail!("the local gateway stopped ({status}); its messages are above");
                    }
                }
            }
        }
    }
}

/// `cargo xtask deploy --stage local --yes`, against the emulator: the cloud stages' deploy.
fn deploy(emulator: &Emulator, artifacts: &Path) -> Result<()> {
    let mut command = xtask()?;
    emulator.configure(&mut command);
    command
        .args(["deploy", "--stage", STAGE, "--yes", "--artifacts-dir"])
        .arg(artifacts);
    let status = command
        .status()
        .context("cannot run `cargo xtask deploy`")?;
    if !status.success() {
        bail!(
            "deploying the local stage to the emulator failed (messages above; the emulator's log is {})",
            emulator
                .log_path()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// This xtask binary, for running one of its own commands as a child.
fn xtask() -> Result<Command> {
    let exe: PathBuf = std::env::current_exe().context("cannot find the xtask binary")?;
    let mut command = Command::new(exe);
    command.current_dir(tools::workspace_root());
    Ok(command)
}

fn open_browser(url: &str) {
    let opened = Command::new("xdg-open")
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if opened.is_err() {
        ui::warn(format!(
            "could not open a browser (no xdg-open); open {url} yourself"
        ));
    }
}

/// `--watch`: Rust sources under `lambdas/`, debounced so one save (or a burst of them) gives
/// one rebuild.
mod watch {
    use std::time::Duration;

    use anyhow::{Context, Result};
    use notify_debouncer_mini::notify::RecursiveMode;
    use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
    use tokio::sync::Notify;

    use crate::tools;

    pub struct Watcher {
        _debouncer: Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>,
        notify: std::sync::Arc<Notify>,
    }

    impl Watcher {
        pub async fn changed(&self) {
            self.notify.notified().await;
        }
    }

    pub fn start() -> Result<Watcher> {
        let notify = std::sync::Arc::new(Notify::new());
        let signal = notify.clone();
        let mut debouncer = new_debouncer(
            Duration::from_millis(500),
            move |result: DebounceEventResult| {
                let Ok(events) = result else { return };
                let relevant = events.iter().any(|event| {
                    let path = &event.path;
                    !path.components().any(|c| c.as_os_str() == "target")
                        && (path.extension().is_some_and(|ext| ext == "rs")
                            || path.file_name().is_some_and(|name| name == "Cargo.toml"))
                });
                if relevant {
                    signal.notify_one();
                }
            },
        )
        .context("cannot watch files")?;
        // The functions and the gateway that runs them are what the gateway's binary is built from.
        let root = tools::workspace_root();
        for dir in [
            root.join("lambdas"),
            root.join("xtask").join("local-gateway"),
        ] {
            debouncer
                .watcher()
                .watch(&dir, RecursiveMode::Recursive)
                .with_context(|| format!("cannot watch {}", dir.display()))?;
        }
        crate::ui::info("watching lambdas/ and xtask/local-gateway/ for Rust changes");
        Ok(Watcher {
            _debouncer: debouncer,
            notify,
        })
    }
}
