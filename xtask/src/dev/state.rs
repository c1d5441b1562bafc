//! Keeping the emulator's data in `.mumble/` across restarts, with moto's request recorder.
//!
//! moto keeps everything in memory and has no snapshot. What it does have is a recorder: with
//! `MOTO_ENABLE_RECORDING` it appends every request it serves to a file, and
//! `/moto-api/recorder/replay-recording` sends them again. Replaying rebuilds the same state as
//! long as the random ids moto hands out come out the same, so the first run seeds moto's random
//! generator (the seed request is the first line of the recording, and is replayed with it), and
//! user pool and client ids are derived from their names (`..._ID_STRATEGY=HASH`).
//! Limits: the recording grows with use (reads are recorded too); `--reset` starts afresh.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::ui;

/// The variables moto reads at start-up; the emulator inherits them from this process.
pub fn emulator_env(data_dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("MOTO_ENABLE_RECORDING", "true".to_owned()),
        (
            "MOTO_RECORDER_FILEPATH",
            recording(data_dir).display().to_string(),
        ),
        ("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH".to_owned()),
        (
            "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY",
            "HASH".to_owned(),
        ),
    ]
}

/// Whether this process already has [`emulator_env`] (so the emulator it starts records).
pub fn env_is_set(data_dir: &Path) -> bool {
    emulator_env(data_dir)
        .iter()
        .all(|(name, value)| std::env::var(name).is_ok_and(|have| have == *value))
}

/// One `cargo xtask dev` per data folder: two emulators appending to one recording would each
/// replay the other's requests. Dropping the lock releases the folder.
pub struct Lock(PathBuf);

impl Lock {
    pub fn acquire(data_dir: &Path) -> Result<Lock> {
        let path = data_dir.join("dev.pid");
        if let Ok(text) = std::fs::read_to_string(&path)
            && let Ok(pid) = text.trim().parse::<u32>()
            && pid != std::process::id()
            && is_running_xtask(pid)
        {
            bail!(
                "another `cargo xtask dev` (pid {pid}) is using {}; stop it, or pass --data-dir for a separate copy",
                data_dir.display()
            );
        }
        std::fs::write(&path, std::process::id().to_string())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Lock(path))
    }
}

/// Whether `pid` is a live xtask (a pid left by a stopped run may since belong to another program).
fn is_running_xtask(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| cmdline.windows(5).any(|w| w == b"xtask"))
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Forgets everything recorded (`--reset`).
pub fn wipe(data_dir: &Path) -> Result<()> {
    let path = recording(data_dir);
    match std::fs::remove_file(&path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(err).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

fn recording(data_dir: &Path) -> PathBuf {
    data_dir.join("emulator-requests.jsonl")
}

/// Bytes recorded by earlier runs; read before the emulator starts, since it records from its
/// first request on.
pub fn saved_bytes(data_dir: &Path) -> u64 {
    std::fs::metadata(recording(data_dir))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// After the emulator starts: replay what earlier runs recorded (`saved` bytes, from
/// [`saved_bytes`]), or seed a fresh emulator.
pub async fn restore(endpoint: &str, data_dir: &Path, saved: u64) -> Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("cannot build an HTTP client")?;
    let path = recording(data_dir);
    if saved == 0 {
        // A fixed seed: the same requests give the same ids on every replay.
        let response = client
            .post(format!("{endpoint}/moto-api/seed?a=20261126"))
            .send()
            .await
            .context("cannot seed the emulator")?;
        if !response.status().is_success() {
            bail!("the emulator refused its seed: HTTP {}", response.status());
        }
        ui::info(format!("fresh local data in {}", data_dir.display()));
        return Ok(());
    }
    ui::step(format!(
        "restoring local data from {} ({} KB)",
        path.display(),
        saved / 1024
    ));
    let started = std::time::Instant::now();
    let response = client
        .post(format!("{endpoint}/moto-api/recorder/replay-recording"))
        .send()
        .await
        .context("cannot replay the emulator's recording")?;
    if !response.status().is_success() {
        bail!(
            "the emulator could not replay {} (HTTP {}); start afresh with `cargo xtask dev --reset`",
            path.display(),
            response.status()
        );
    }
    ui::info(format!("restored in {}", ui::duration(started.elapsed())));
    Ok(())
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
        let started = std::time::Instant::now();
        while !is_running_xtask(pid) {
            assert!(
                started.elapsed().as_secs() < 5,
                "the stand-in did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
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
    fn reset_forgets_the_recording() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(recording(dir.path()), "{}\n").unwrap();
        assert!(saved_bytes(dir.path()) > 0);
        wipe(dir.path()).unwrap();
        assert_eq!(saved_bytes(dir.path()), 0);
        wipe(dir.path()).expect("wiping twice is fine");
    }
}
