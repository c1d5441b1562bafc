//! The tools the commands need, installed by themselves on a fresh machine.
//!
//! Python tools (the AWS API emulator, cfn-lint, cargo-lambda with zig, pytest) live in a venv at
//! `.tools/venv` (git-ignored), pinned by `xtask/tools-requirements.txt`. A stamp file holding the
//! requirements' hash makes a second `ensure` cost one file read. `MUMBLE_TOOLS_DIR` moves the
//! `.tools` folder elsewhere (a fresh install into a temporary folder, or a shared cache in CI).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::ui;

const REQUIREMENTS: &str = "xtask/tools-requirements.txt";
const STAMP: &str = "mumble-requirements.sha256";

/// The workspace root (the folder holding the workspace `Cargo.toml`).
///
/// `cargo xtask` sets `CARGO_MANIFEST_DIR` to `xtask/`; when the binary runs on its own we fall back
/// to the path it was built from, then to walking up from the current directory.
/// Cargo's build folder: `CARGO_TARGET_DIR` when set (relative to the workspace, as cargo reads
/// it), else `target/` in the workspace. cargo-lambda writes its zips there too.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

pub fn workspace_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let candidates = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .into_iter()
            .chain([PathBuf::from(env!("CARGO_MANIFEST_DIR"))])
            .filter_map(|manifest_dir| manifest_dir.parent().map(Path::to_path_buf));
        let from_cwd = std::env::current_dir().ok().and_then(|cwd| {
            cwd.ancestors()
                .find(|dir| is_workspace_root(dir))
                .map(Path::to_path_buf)
        });
        candidates
            .filter(|dir| is_workspace_root(dir))
            .chain(from_cwd)
            .next()
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."))
    })
}

fn is_workspace_root(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .is_ok_and(|manifest| manifest.contains("[workspace]") && dir.join("xtask").is_dir())
}

/// The installed Python tools.
#[derive(Debug, Clone)]
pub struct Tools {
    venv: PathBuf,
}

impl Tools {
    /// The venv's `bin` folder (moto_server, cfn-lint, cargo-lambda, python, pytest).
    pub fn bin_dir(&self) -> PathBuf {
        self.venv.join("bin")
    }

    /// One program from the venv, e.g. `tools.bin("cfn-lint")`.
    pub fn bin(&self, name: &str) -> PathBuf {
        self.bin_dir().join(name)
    }

    pub fn python(&self) -> PathBuf {
        self.bin("python")
    }

    /// `PATH` with the venv first, for child processes that look tools up by name
    /// (`cargo lambda` finds `cargo-lambda` and zig this way).
    pub fn path_env(&self) -> OsString {
        let current = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::iter::once(self.bin_dir()).chain(std::env::split_paths(&current));
        std::env::join_paths(dirs).unwrap_or(current)
    }
}

/// Where the `.tools` folder is: `MUMBLE_TOOLS_DIR`, or `.tools` in the workspace root.
pub fn tools_dir() -> PathBuf {
    match std::env::var_os("MUMBLE_TOOLS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join(".tools"),
    }
}

/// Makes sure the venv exists with the pinned requirements, installing what is missing.
pub fn ensure() -> Result<Tools> {
    let requirements_path = workspace_root().join(REQUIREMENTS);
    let requirements = std::fs::read(&requirements_path)
        .with_context(|| format!("cannot read {}", requirements_path.display()))?;
    let wanted = hex::encode(Sha256::digest(&requirements));
    let tools = Tools {
        venv: tools_dir().join("venv"),
    };
    let stamp = tools.venv.join(STAMP);

    // `exists` follows the symlink, so a venv whose interpreter was removed counts as missing.
    let python_works = tools.python().exists();
    if python_works && std::fs::read_to_string(&stamp).is_ok_and(|have| have.trim() == wanted) {
        tracing::debug!(venv = %tools.venv.display(), "tools are up to date");
        return Ok(tools);
    }

    ui::step(format!(
        "installing the Python tools into {}",
        tools.venv.display()
    ));
    if !python_works {
        create_venv(&tools.venv)?;
    }
    let started = std::time::Instant::now();
    ui::info("pip install -r xtask/tools-requirements.txt (a minute or two the first time)");
    // pip's output goes to our stderr: stdout is for data.
    let status = Command::new(tools.python())
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
        ])
        .args(["--progress-bar", "off", "-r"])
        .arg(&requirements_path)
        .stdout(std::io::stderr())
        .status()
        .context("cannot run pip from the tools venv")?;
    if !status.success() {
        bail!(
            "installing {REQUIREMENTS} failed ({status}; pip's messages are above); check the network \
             and the pins, or delete {} to start over",
            tools.venv.display()
        );
    }
    std::fs::write(&stamp, format!("{wanted}\n"))
        .with_context(|| format!("cannot write {}", stamp.display()))?;
    ui::done(format!(
        "Python tools installed in {}",
        ui::duration(started.elapsed())
    ));
    Ok(tools)
}

fn create_venv(venv: &Path) -> Result<()> {
    let python = std::env::var_os("MUMBLE_PYTHON").unwrap_or_else(|| "python3".into());
    let version = Command::new(&python).arg("--version").output();
    match version {
        Ok(output) if output.status.success() => {
            tracing::debug!("using {}", String::from_utf8_lossy(&output.stdout).trim())
        }
        _ => bail!(
            "python3 was not found; install Python 3 with venv (Debian/Ubuntu: `apt-get install python3 python3-venv`), \
             or point MUMBLE_PYTHON at an interpreter"
        ),
    }
    if venv.exists() {
        // A venv left behind by a removed interpreter: rebuild it from scratch.
        std::fs::remove_dir_all(venv)
            .with_context(|| format!("cannot remove the broken venv {}", venv.display()))?;
    }
    if let Some(parent) = venv.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let output = Command::new(&python)
        .args(["-m", "venv"])
        .arg(venv)
        .output()
        .context("cannot run `python3 -m venv`")?;
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(venv);
        bail!(
            "`python3 -m venv` failed: {}; install python3-venv: apt-get install python3-venv",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Debian's headless browser and its WebDriver, for the browser test.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A font with Chinese characters, so the Chinese pages render (and their screenshots show text,
/// not empty boxes): Debian's `fonts-wqy-microhei`, 1.6 MB.
pub const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

/// Makes sure Debian's `chromium` and `chromium-driver` and a Chinese font are installed (apt-get,
/// only when missing).
#[allow(
    dead_code,
    reason = "the browser test step calls it once that test exists"
)]
pub fn ensure_chromium() -> Result<()> {
    if [CHROMIUM, CHROMEDRIVER, CJK_FONT]
        .iter()
        .all(|path| Path::new(path).exists())
    {
        return Ok(());
    }
    let fix = "install them with `sudo apt-get install chromium chromium-driver fonts-wqy-microhei`, or skip the browser test with --no-browser";
    if !Path::new("/etc/debian_version").exists() {
        bail!(
            "the browser test needs Chromium and chromedriver at {CHROMIUM} and {CHROMEDRIVER}; {fix}"
        );
    }
    if !is_root() {
        bail!(
            "the browser test needs Debian's chromium, chromium-driver and fonts-wqy-microhei packages; {fix}"
        );
    }
    ui::step("installing chromium, chromium-driver and a Chinese font (apt-get)");
    for args in [
        &["update", "-qq"][..],
        &[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "chromium",
            "chromium-driver",
            "fonts-wqy-microhei",
        ][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("`apt-get {}` failed ({status}); {fix}", args.join(" "));
        }
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_holds_the_requirements() {
        assert!(workspace_root().join(REQUIREMENTS).is_file());
    }

    #[test]
    fn the_venv_comes_first_on_path() {
        let tools = Tools {
            venv: PathBuf::from("/opt/venv"),
        };
        let path = tools.path_env();
        let first = std::env::split_paths(&path).next();
        assert_eq!(first, Some(PathBuf::from("/opt/venv/bin")));
    }
}
