//! `local-gateway`: serves Mumble on 127.0.0.1 for `cargo xtask dev`, which starts it with the
//! local stage's environment (table names, bucket, user pool, emulator endpoint).

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let settings = local_gateway::settings::Settings::parse();
    local_gateway::telemetry::init();
    match local_gateway::serve::run(settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
