//! Human-readable logs on stderr: this is a developer's terminal, not CloudWatch.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// `RUST_LOG` when set, otherwise info for Mumble's crates and warnings for the rest; colours
/// only on a terminal and without `NO_COLOR`.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,local_gateway=info,mumble_core=info,health=info,audio_upload=info,weather=info,gallery=info,profile=info,generate=info,jobs=info,worker=info,image_processor=info,websocket=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .compact()
        .try_init();
}
