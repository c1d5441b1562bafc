//! `cargo xtask`: Mumble's operator CLI. This file only dispatches; each command is its own module.

mod aws;
mod bench;
mod build;
mod cdn;
mod cli;
mod cloudformation;
mod cost;
mod deploy;
mod destroy;
mod dev;
mod diff;
mod emulator;
mod invalidate;
mod logs;
mod migrate;
mod openapi;
mod outputs;
mod process;
mod recover;
mod release;
mod releases;
mod rollback;
mod secrets;
mod site_sync;
mod stage;
mod status;
mod synth;
mod test;
mod tools;
mod ui;
mod watch;

use clap::Parser;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    ui::init_logging(cli.global.verbose);
    let result = match cli.command {
        Command::Synth(cmd) => cmd.run(),
        Command::Openapi(cmd) => cmd.run(),
        Command::Emulator(cmd) => cmd.run().await,
        Command::Test(cmd) => cmd.run().await,
        Command::Bench(cmd) => cmd.run().await,
        Command::Build(cmd) => cmd.run().await,
        Command::Deploy(cmd) => cmd.run().await,
        Command::Diff(cmd) => cmd.run().await,
        Command::Cost(cmd) => cmd.run(),
        Command::Invalidate(cmd) => cmd.run().await,
        Command::Outputs(cmd) => cmd.run().await,
        Command::Logs(cmd) => cmd.run().await,
        Command::Status(cmd) => cmd.run().await,
        Command::Destroy(cmd) => cmd.run().await,
        Command::Recover(cmd) => cmd.run().await,
        Command::Releases(cmd) => cmd.run().await,
        Command::Rollback(cmd) => cmd.run().await,
        Command::Watch(cmd) => Box::pin(cmd.run()).await,
        Command::Dev(cmd) => cmd.run().await,
        Command::Secrets(cmd) => cmd.run().await,
        Command::Migrate(cmd) => cmd.run().await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // After Ctrl-C or SIGTERM, what failed is what the interruption stopped: the handler
        // has said so and ends the process once the emulator has saved.
        Err(_) if emulator::interrupted() => std::process::ExitCode::from(130),
        Err(err) => {
            ui::error(format!("{err:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}
