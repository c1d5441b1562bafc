//! The programs the browser test runs: `cargo xtask dev` and chromedriver, each in its own process
//! group so that stopping it also stops what it started, even when the test fails half-way.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A child process leading its own process group; dropping it stops the whole group.
pub struct Group {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Group {
    /// Starts `command` in a new process group, its stdout and stderr appended to `log`.
    pub fn spawn(name: &'static str, mut command: Command, log: &Path) -> Result<Group> {
        let out = File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone().context("cannot share the log file")?;
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {name} ({:?})", command.get_program()))?;
        Ok(Group {
            name,
            child,
            log: log.to_owned(),
        })
    }

    /// Fails when the process has already stopped, quoting the end of its log.
    pub fn check_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} stopped ({status}); the end of its log {}:\n{}",
                self.name,
                self.log.display(),
                self.log_tail()
            );
        }
        Ok(())
    }

    /// SIGKILL to the leader alone, as the OOM killer or a closed terminal would: whatever it
    /// started gets no signal and is on its own.
    pub fn kill_leader(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last lines of the process's output, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// SIGTERM to the group first, so `cargo xtask dev` stops its emulator and gateway itself
    /// (they run in groups of their own); SIGKILL for whatever is left after a grace period.
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            signal_group("TERM", self.child.id());
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        // Children may outlive the leader: the group is signalled even when the leader is gone.
        signal_group("KILL", self.child.id());
        let _ = self.child.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
    }
}

/// std has no killpg and the workspace forbids unsafe code; kill(1) does it safely.
fn signal_group(signal: &str, leader: u32) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{leader}")])
        .stderr(Stdio::null())
        .status();
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// Polls `url` until it answers 2xx, the process stops, or `limit` passes.
pub async fn wait_for_http(process: &mut Group, url: &str, limit: Duration) -> Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .context("cannot build an HTTP client")?;
    let started = Instant::now();
    loop {
        process.check_running()?;
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if started.elapsed() > limit {
            bail!(
                "{url} did not answer within {}s ({} is still starting?); the end of its log {}:\n{}",
                limit.as_secs(),
                process.name,
                process.log.display(),
                process.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
