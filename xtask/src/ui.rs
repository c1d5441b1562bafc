//! What the operator sees: progress and messages on stderr, data on stdout (uv's rule).
//!
//! Colour and progress bars appear only when stderr is a terminal, and colour never when
//! `NO_COLOR` is set (<https://no-color.org>). Every command prints through these functions so
//! CI logs stay plain and `--output json` keeps stdout parseable.

use std::fmt::Display;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::cli::OutputFormat;

/// True when a person is (probably) watching: stderr is a terminal.
pub fn is_interactive() -> bool {
    static INTERACTIVE: OnceLock<bool> = OnceLock::new();
    *INTERACTIVE.get_or_init(|| std::io::stderr().is_terminal())
}

/// True when stdin is a terminal too, so a command may ask a question and wait for an answer.
pub fn can_prompt() -> bool {
    is_interactive() && std::io::stdin().is_terminal()
}

fn colour_enabled() -> bool {
    static COLOUR: OnceLock<bool> = OnceLock::new();
    *COLOUR.get_or_init(|| is_interactive() && colour_allowed())
}

/// False when `NO_COLOR` is set; a command printing data to a terminal stdout also checks that.
pub fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

/// Wraps `text` in an ANSI style when colour is enabled.
pub fn paint(code: &str, text: impl Display) -> String {
    if colour_enabled() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn bold(text: impl Display) -> String {
    paint("1", text)
}

pub fn dim(text: impl Display) -> String {
    paint("2", text)
}

pub fn red(text: impl Display) -> String {
    paint("31", text)
}

pub fn green(text: impl Display) -> String {
    paint("32", text)
}

pub fn yellow(text: impl Display) -> String {
    paint("33", text)
}

/// While set, `step`, `info` and `done` print nothing (`cargo xtask watch` shows one line per
/// change instead); warnings and errors still show.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn is_quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Runs `work` without progress lines.
pub fn quiet<T>(work: impl FnOnce() -> T) -> T {
    QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
    let result = work();
    QUIET.store(false, std::sync::atomic::Ordering::Relaxed);
    result
}

/// Awaits `work` without progress lines.
pub async fn quiet_async<T>(work: impl Future<Output = T>) -> T {
    QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
    let result = work.await;
    QUIET.store(false, std::sync::atomic::Ordering::Relaxed);
    result
}

/// A command's result on stdout: as text (its `Display`), or as JSON with `--output json`.
pub fn print<T: Serialize + Display>(value: &T, output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(value)?),
        OutputFormat::Text => print!("{value}"),
    }
    Ok(())
}

/// The start of a phase of work: `==> building lambdas`.
pub fn step(message: impl Display) {
    if is_quiet() {
        return;
    }
    eprintln!("{} {}", paint("1;34", "==>"), bold(message));
}

/// A detail inside a step.
pub fn info(message: impl Display) {
    if is_quiet() {
        return;
    }
    eprintln!("    {message}");
}

/// Something the operator should read, that does not stop the command.
pub fn warn(message: impl Display) {
    eprintln!("{} {message}", paint("1;33", "warning:"));
}

/// A phase finished well.
pub fn done(message: impl Display) {
    if is_quiet() {
        return;
    }
    eprintln!("{} {message}", paint("1;32", "done:"));
}

/// A failure line, for summaries; the command's own error is printed by `main`.
pub fn error(message: impl Display) {
    eprintln!("{} {message}", paint("1;31", "error:"));
}

/// A progress bar over `len` units that draws only on a terminal (hidden otherwise, so CI logs
/// get the plain `step`/`info` lines instead). Print through `bar.println` or `bar.suspend`
/// while it is visible. A `len` of 0 gives a spinner for work of unknown size.
pub fn progress(len: u64, message: impl Into<String>) -> ProgressBar {
    let bar = if len == 0 {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::new(len)
    };
    if !is_interactive() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let template = if len == 0 {
        "{spinner} {msg} {elapsed:.dim}"
    } else {
        "{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed:.dim}"
    };
    let style = ProgressStyle::with_template(template)
        .expect("the progress template is valid")
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(message.into());
    if len == 0 {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar
}

/// `340ms`, `1.2s`, `5m 54s`: durations as people read them in summaries.
pub fn duration(elapsed: Duration) -> String {
    if elapsed >= Duration::from_secs(60) {
        let seconds = elapsed.as_secs();
        format!("{}m {:02}s", seconds / 60, seconds % 60)
    } else if elapsed >= Duration::from_secs(1) {
        format!("{:.1}s", elapsed.as_secs_f64())
    } else {
        format!("{}ms", elapsed.as_millis())
    }
}

/// Sends `tracing` events to stderr: debug level for our crates with `-v`, warnings otherwise.
/// `RUST_LOG` overrides both, as usual.
pub fn init_logging(verbose: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if verbose {
        "warn,xtask=debug,stacks=debug"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour_enabled())
        .with_target(verbose)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(Duration::from_millis(340)), "340ms");
        assert_eq!(duration(Duration::from_millis(1300)), "1.3s");
        assert_eq!(duration(Duration::from_secs(354)), "5m 54s");
    }
}
