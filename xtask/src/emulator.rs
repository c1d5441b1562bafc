//! The local AWS API emulator (moto, extended by `xtask/emulator/`), as a guard and as a command.
//!
//! ```ignore
//! let emulator = Emulator::start(None).await?;        // a free 127.0.0.1 port; ready when it returns
//! Command::new("cargo").envs(emulator.env())...;      // AWS_ENDPOINT_URL + dummy credentials
//! drop(emulator);                                     // stops it and its children
//! ```
//!
//! The emulator runs in its own process group so that stopping it stops everything it started.
//! Because that group does not receive the terminal's Ctrl-C, the first `start` installs a handler
//! that stops every running emulator on Ctrl-C or SIGTERM, lets the program finish its own
//! clean-up for a few seconds, and then exits with status 130.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{process, tools, ui};

/// How long the emulator may take to answer after it is started (cold Python imports on a
/// 2-core CI machine take a few seconds).
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// The credentials and region every client of the emulator uses; the emulator accepts any.
const DUMMY_ENV: [(&str, &str); 3] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_REGION", "us-east-1"),
];

/// A running emulator on 127.0.0.1. Dropping it stops the emulator.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    port: u16,
    log: Option<PathBuf>,
}

impl Emulator {
    /// Installs the tools if needed, starts the emulator on `port` (`None`: a free port), and
    /// returns once it answers and is configured (Lambda without Docker). Its log goes to
    /// `target/emulator/{port}.log`.
    pub async fn start(port: Option<u16>) -> Result<Emulator> {
        if port.is_some_and(|port| port != 0) {
            return launch(port, false).await;
        }
        // Another process may take the free port between our check and the emulator's bind;
        // only that is worth another try, so the tools are checked once, before.
        tools::ensure()?;
        let mut attempt = 1;
        loop {
            match launch(None, false).await {
                Err(error) if attempt < 3 => {
                    tracing::debug!(
                        attempt,
                        "emulator start failed, trying another port: {error:#}"
                    );
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// `http://127.0.0.1:{port}`: the value for `AWS_ENDPOINT_URL`.
    pub fn endpoint_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment a client of this emulator needs: `AWS_ENDPOINT_URL`, dummy credentials and
    /// `AWS_REGION=us-east-1`. Pass it to a child with `command.envs(emulator.env())`.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("AWS_ENDPOINT_URL", self.endpoint_url())];
        env.extend(
            DUMMY_ENV
                .iter()
                .map(|(key, value)| (*key, (*value).to_owned())),
        );
        env
    }

    /// An SDK configuration for this emulator, for talking to it in-process: the same endpoint,
    /// dummy credentials and region as [`Emulator::env`] gives a child.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        use aws_sdk_cloudformation::config::{Credentials, Region, SharedCredentialsProvider};
        let [(_, key), (_, secret), (_, region)] = DUMMY_ENV;
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint_url())
            .region(Region::new(region))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                key, secret, None, None, "emulator",
            )))
            .build()
    }

    /// Variables that would send a child's requests elsewhere than the emulator; remove them
    /// with `command.env_remove(..)` for each.
    pub const ENV_TO_REMOVE: [&'static str; 3] =
        ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"];

    /// Sets this emulator's environment on a command (and removes what would point elsewhere).
    pub fn configure<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        for key in Self::ENV_TO_REMOVE {
            command.env_remove(key);
        }
        command.envs(self.env())
    }

    /// The emulator's log file (request lines and Python tracebacks), when it logs to one.
    pub fn log_path(&self) -> Option<&std::path::Path> {
        self.log.as_deref()
    }

    /// The emulator's pid, which is also its process group's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        unregister(self.pid());
        stop_group(self.pid(), &mut self.child);
    }
}

async fn launch(port: Option<u16>, foreground: bool) -> Result<Emulator> {
    let tools = tools::ensure()?;
    let port = match port.filter(|port| *port != 0) {
        Some(port) => {
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                bail!(
                    "port {port} on 127.0.0.1 is in use; stop what listens there or choose another port with --port"
                );
            }
            port
        }
        None => process::free_port()?,
    };
    let launcher = tools::workspace_root().join("xtask/emulator/emulator.py");
    let mut command = Command::new(tools.python());
    command
        .arg(&launcher)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .current_dir(tools::workspace_root())
        .env("PATH", tools.path_env())
        .stdin(Stdio::null());
    let log = if foreground {
        // The request log is what someone running the emulator by hand wants to watch; stdout
        // stays for the endpoint URL.
        command.stdout(std::io::stderr()).stderr(Stdio::inherit());
        None
    } else {
        let dir = tools::target_dir().join("emulator");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(format!("{port}.log"));
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        command.stdout(file.try_clone()?).stderr(file);
        Some(path)
    };
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    install_interrupt_handler();
    let child = command
        .spawn()
        .with_context(|| format!("cannot start the emulator ({})", launcher.display()))?;
    register(child.id());
    let mut emulator = Emulator { child, port, log };
    tracing::debug!(port, pid = emulator.pid(), "emulator started");
    wait_until_ready(&mut emulator).await?;
    Ok(emulator)
}

async fn wait_until_ready(emulator: &mut Emulator) -> Result<()> {
    let client = process::local_client(Duration::from_secs(5))?;
    let base = emulator.endpoint_url();
    let started = Instant::now();
    let ready = process::wait_for_http(
        &client,
        &format!("{base}/moto-api/"),
        READY_TIMEOUT,
        Duration::from_millis(100),
        || match emulator.child.try_wait()? {
            Some(status) => bail!("the emulator exited during start-up ({status})"),
            None => Ok(()),
        },
    )
    .await;
    if let Err(error) = ready {
        bail!("{error:#}{}", log_tail(emulator));
    }
    // Lambda functions would otherwise run in Docker, which the machines we run on do not have.
    let config = serde_json::json!({ "lambda": { "use_docker": false } });
    let response = client
        .post(format!("{base}/moto-api/config"))
        .json(&config)
        .send()
        .await
        .context("cannot configure the emulator (POST /moto-api/config)")?;
    if !response.status().is_success() {
        bail!(
            "the emulator refused its configuration: HTTP {}",
            response.status()
        );
    }
    tracing::debug!(elapsed = ?started.elapsed(), "emulator ready");
    Ok(())
}

fn log_tail(emulator: &Emulator) -> String {
    let Some(path) = &emulator.log else {
        return String::new();
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("; the end of its log ({}):\n{tail}", path.display())
}

/// Process groups the interrupt handler stops (SIGTERM to the group): running emulators, and
/// `cargo xtask dev`'s local gateway.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// Has the interrupt handler stop the process group `pid` leads.
pub fn register(pid: u32) {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(pid);
}

/// Forgets a group stopped otherwise.
pub fn unregister(pid: u32) {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .retain(|running| *running != pid);
}

/// Set once Ctrl-C or SIGTERM arrived; long-running loops check it to stop early.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Whether the operator interrupted this run (Ctrl-C or SIGTERM).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// On Ctrl-C or SIGTERM: stop every emulator at once, then give the rest of the program a
/// moment to finish its own clean-up (a command with its own Ctrl-C handling returns by itself)
/// before exiting with status 130.
fn install_interrupt_handler() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    INSTALLED.call_once(|| {
        runtime.spawn(async {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut interrupt), Ok(mut terminate)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            INTERRUPTED.store(true, Ordering::SeqCst);
            let running = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|p| p.into_inner()));
            let stopped = !running.is_empty();
            for pid in running {
                signal_group(pid, "TERM");
            }
            eprintln!();
            ui::warn(if stopped {
                "interrupted; stopped the emulator"
            } else {
                "interrupted"
            });
            tokio::time::sleep(Duration::from_secs(3)).await;
            std::process::exit(130);
        });
    });
}

/// Sends `signal` to the process group `pgid` (the emulator's pid: it leads its own group).
fn signal_group(pgid: u32, signal: &str) {
    // std has no killpg and the workspace forbids unsafe code; kill(1) does it safely.
    let _ = Command::new("kill")
        .args([format!("-{signal}"), "--".into(), format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// Stops an emulator this process did not start (one left by a killed `cargo xtask dev`):
/// SIGTERM to its group so it saves, SIGKILL a few seconds later if it is still there.
pub fn kill_group(pgid: u32) {
    signal_group(pgid, "TERM");
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && std::path::Path::new(&format!("/proc/{pgid}")).exists() {
        std::thread::sleep(Duration::from_millis(100));
    }
    signal_group(pgid, "KILL");
}

fn stop_group(pgid: u32, child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        // The leader is gone; anything it left in the group still goes.
        signal_group(pgid, "KILL");
        return;
    }
    signal_group(pgid, "TERM");
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            signal_group(pgid, "KILL");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    signal_group(pgid, "KILL");
    let _ = child.kill();
    let _ = child.wait();
}

impl crate::cli::Emulator {
    pub async fn run(self) -> Result<()> {
        let place = match self.port {
            0 => "a free port on 127.0.0.1".to_owned(),
            port => format!("127.0.0.1:{port}"),
        };
        ui::step(format!("starting the AWS API emulator on {place}"));
        let mut emulator = launch(Some(self.port), true).await?;
        let endpoint = emulator.endpoint_url();
        println!("{endpoint}");
        ui::done(format!(
            "emulator ready; in another shell: export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=test \
             AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 (Ctrl-C stops it)"
        ));
        loop {
            if let Some(status) = emulator.child.try_wait()? {
                unregister(emulator.pid());
                if interrupted() {
                    return Ok(());
                }
                bail!("the emulator stopped by itself ({status}); its messages are above");
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}
