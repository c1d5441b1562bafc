//! Keeping the emulator's data in `.mumble/` across restarts, crashes and SIGKILL.
//!
//! The emulator does the keeping itself (`xtask/emulator/mumble_moto/persistence.py`): with
//! `MUMBLE_EMULATOR_DATA` it logs every request that changes something, snapshots its state, and
//! restores snapshot plus log before it answers. This module gives it the folder, reports what the
//! restore did, and makes sure one `dev` at a time uses a folder, cleaning up after one that died.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::ui;

/// The variables the emulator reads at start-up; it inherits them from this process.
pub fn emulator_env(data_dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "MUMBLE_EMULATOR_DATA",
            emulator_dir(data_dir).display().to_string(),
        ),
        // Ids derived from names: the site's saved Cognito settings stay valid after a reset.
        ("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH".to_owned()),
        (
            "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY",
            "HASH".to_owned(),
        ),
    ]
}

/// Whether this process already has [`emulator_env`] (so the emulator it starts keeps its data).
pub fn env_is_set(data_dir: &Path) -> bool {
    emulator_env(data_dir)
        .iter()
        .all(|(name, value)| std::env::var(name).is_ok_and(|have| have == *value))
}

fn emulator_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("emulator")
}

/// The recording written by earlier versions (moto's recorder); the emulator imports it once.
fn legacy_recording(data_dir: &Path) -> PathBuf {
    data_dir.join("emulator-requests.jsonl")
}

/// One `cargo xtask dev` per data folder: two emulators writing one log would each lose the
/// other's changes. `dev.pid` holds this process's pid and, once started, the emulator's, so the
/// next `dev` can stop an emulator left running by one that was killed. Dropping the lock
/// releases the folder.
pub struct Lock(PathBuf);

impl Lock {
    pub fn acquire(data_dir: &Path) -> Result<Lock> {
        let path = data_dir.join("dev.pid");
        let previous = std::fs::read_to_string(&path).unwrap_or_default();
        let mut pids = previous
            .split_whitespace()
            .filter_map(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pids.next()
            && pid != std::process::id()
        {
            if is_running_xtask(pid) {
                bail!(
                    "another `cargo xtask dev` (pid {pid}) is using {}; stop it, or pass --data-dir for a separate copy",
                    data_dir.display()
                );
            }
            for emulator in pids {
                stop_left_over_emulator(pid, emulator);
            }
        }
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Lock(path))
    }

    /// Notes the emulator's pid next to ours, for [`Lock::acquire`] after a crash.
    pub fn record_emulator(&self, pid: u32) -> Result<()> {
        std::fs::write(&self.0, format!("{}\n{pid}\n", std::process::id()))
            .with_context(|| format!("cannot write {}", self.0.display()))
    }
}

/// An emulator whose `dev` (pid `dev`) died saves its data and stops by itself once it notices
/// (within a second); give it time to, then stop what is left, and say what happened.
fn stop_left_over_emulator(dev: u32, emulator: u32) {
    if !is_running_emulator(emulator) {
        ui::info(format!(
            "the previous `cargo xtask dev` (pid {dev}) did not stop cleanly; its emulator had already saved and stopped"
        ));
        return;
    }
    ui::warn(format!(
        "the previous `cargo xtask dev` (pid {dev}) did not stop cleanly; waiting for its emulator (pid {emulator}) to save and stop"
    ));
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && is_running_emulator(emulator) {
        std::thread::sleep(Duration::from_millis(100));
    }
    if is_running_emulator(emulator) {
        crate::emulator::kill_group(emulator);
        ui::warn(format!(
            "stopped the emulator (pid {emulator}) left by the previous `cargo xtask dev`; its log keeps every change made before"
        ));
    } else {
        ui::info(format!(
            "the emulator (pid {emulator}) left by the previous `cargo xtask dev` saved its data and stopped"
        ));
    }
}

/// Whether `pid` is a live xtask (a pid left by a stopped run may since belong to another program).
fn is_running_xtask(pid: u32) -> bool {
    cmdline_contains(pid, b"xtask")
}

fn is_running_emulator(pid: u32) -> bool {
    cmdline_contains(pid, b"emulator.py")
}

fn cmdline_contains(pid: u32, needle: &[u8]) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // A zombie has exited; only its parent has not collected it yet.
    if status
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    {
        return false;
    }
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| cmdline.windows(needle.len()).any(|w| w == needle))
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Forgets everything kept (`--reset`).
pub fn wipe(data_dir: &Path) -> Result<()> {
    let folder = emulator_dir(data_dir);
    match std::fs::remove_dir_all(&folder) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            return Err(err).with_context(|| format!("cannot remove {}", folder.display()));
        }
        _ => {}
    }
    let legacy = legacy_recording(data_dir);
    match std::fs::remove_file(&legacy) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("cannot remove {}", legacy.display()))
        }
        _ => Ok(()),
    }
}

/// What the emulator did at start-up (`GET /mumble-api/persistence`).
#[derive(Debug, Deserialize)]
pub struct Restored {
    #[serde(default)]
    pub restored: bool,
    pub snapshot: Option<Snapshot>,
    #[serde(default)]
    pub replayed: u64,
    #[serde(default)]
    pub skipped: Vec<serde_json::Map<String, serde_json::Value>>,
    pub imported: Option<Imported>,
    pub snapshot_unreadable: Option<String>,
    #[serde(default)]
    pub seconds: f64,
}

#[derive(Debug, Deserialize)]
pub struct Snapshot {
    pub seq: u64,
}

#[derive(Debug, Deserialize)]
pub struct Imported {
    pub requests: u64,
}

/// After the emulator starts: asks it what it restored and says so; damaged entries are named
/// one by one (the rest is restored; the entries stay in the folder's `history/`).
pub async fn report(endpoint: &str, data_dir: &Path) -> Result<Restored> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("cannot build an HTTP client")?;
    let restored: Restored = client
        .get(format!("{endpoint}/mumble-api/persistence"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("cannot ask the emulator what it restored")?
        .json()
        .await
        .context("the emulator's restore report is not JSON")?;
    if !restored.restored {
        bail!(
            "the emulator keeps no data (MUMBLE_EMULATOR_DATA did not reach it); this is a bug in `cargo xtask dev`"
        );
    }
    let folder = emulator_dir(data_dir);
    if let Some(problem) = &restored.snapshot_unreadable {
        ui::warn(format!(
            "the snapshot in {} could not be read ({problem}); restored from the full log instead",
            folder.display()
        ));
    }
    if let Some(imported) = &restored.imported {
        ui::info(format!(
            "imported the earlier recording {} ({} requests); it is kept as emulator-requests.jsonl.imported",
            legacy_recording(data_dir).display(),
            imported.requests
        ));
    }
    match (&restored.snapshot, restored.replayed) {
        (None, 0) if restored.imported.is_none() => {
            ui::info(format!("fresh local data in {}", data_dir.display()));
        }
        (snapshot, replayed) => ui::info(format!(
            "restored the local data in {}: {}{replayed} change(s) replayed, in {:.1}s",
            data_dir.display(),
            snapshot
                .as_ref()
                .map(|s| format!("snapshot of {} change(s) + ", s.seq))
                .unwrap_or_default(),
            restored.seconds
        )),
    }
    for skipped in &restored.skipped {
        let field = |name: &str| {
            skipped.get(name).map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
        };
        ui::warn(format!(
            "not restored: {}{}{}{}: {}",
            field("where").unwrap_or_default(),
            field("seq")
                .map(|s| format!(", change {s}"))
                .unwrap_or_default(),
            field("operation")
                .map(|s| format!(", {s}"))
                .unwrap_or_default(),
            field("touching")
                .map(|s| format!(" ({s})"))
                .unwrap_or_default(),
            field("problem").unwrap_or_default(),
        ));
    }
    if !restored.skipped.is_empty() {
        ui::warn(format!(
            "everything else was restored; the entries above are kept in {}",
            folder.join("history").display()
        ));
    }
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::CommandExt;

    use super::*;

    #[test]
    fn a_second_dev_on_the_same_data_is_refused_while_the_first_runs() {
        let dir = tempfile::tempdir().unwrap();
        // A live process whose command line names xtask stands for another `cargo xtask dev`.
        let mut other = std::process::Command::new("sleep")
            .arg0("xtask")
            .arg("30")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = other.id();
        // `spawn` returns while the child is still inside exec, before its new command line is
        // readable: wait until it is.
        let started = Instant::now();
        while !is_running_xtask(pid) {
            assert!(
                started.elapsed().as_secs() < 5,
                "the stand-in did not start"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::fs::write(dir.path().join("dev.pid"), pid.to_string()).unwrap();
        let refused = Lock::acquire(dir.path()).err().map(|e| e.to_string());
        other.kill().unwrap();
        other.wait().unwrap();
        let refused = refused.expect("refused while the other runs");
        assert!(
            refused.contains(&format!("pid {pid}")) && refused.contains("--data-dir"),
            "{refused}"
        );
    }

    #[test]
    fn a_lock_left_by_a_stopped_dev_is_taken_over_and_released() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("dev.pid"), u32::MAX.to_string()).unwrap();
        let lock = Lock::acquire(dir.path()).expect("a stale lock is taken over");
        drop(lock);
        assert!(!dir.path().join("dev.pid").exists());
    }

    #[test]
    fn reset_forgets_the_saved_data_and_an_earlier_recording() {
        let dir = tempfile::tempdir().unwrap();
        let log = emulator_dir(dir.path()).join("log.jsonl");
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        std::fs::write(&log, "{}\n").unwrap();
        std::fs::write(legacy_recording(dir.path()), "{}\n").unwrap();
        wipe(dir.path()).unwrap();
        assert!(!log.exists() && !legacy_recording(dir.path()).exists());
        wipe(dir.path()).expect("wiping twice is fine");
    }
}
