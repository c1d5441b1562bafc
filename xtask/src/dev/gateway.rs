//! The local gateway as a child process: its environment from the stage's outputs, its build,
//! and its restarts.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use mumble_contract::env::vars;
use stacks::Stage;
use stacks::environment::Value;
use stacks::functions::Secret;

use crate::outputs::StageOutputs;
use crate::{emulator, process, tools};

/// Whether a variable of this process has a value (how `cargo xtask dev` finds provider keys).
pub fn has_value(variable: &str) -> bool {
    std::env::var(variable).is_ok_and(|value| !value.trim().is_empty())
}

/// Every variable any function reads (they share one process), with the values the app stack
/// gives them (`stacks::environment`), except that the worker and the pusher reach the gateway
/// instead of AWS and the providers depend on the keys at hand. `has_key` says whether a provider
/// key variable (`OPENAI_API_KEY`, ...) is set.
pub fn environment(
    stage: &Stage,
    outputs: &StageOutputs,
    port: u16,
    has_key: &dyn Fn(&str) -> bool,
) -> Result<BTreeMap<String, String>> {
    let mut env = BTreeMap::new();
    for (name, value) in stacks::environment::all_functions(stage) {
        let value = match value {
            Value::Literal(value) => value,
            Value::Output(output) => outputs.require(stage, output)?,
        };
        env.insert(name.to_owned(), value);
    }
    for (secret, key_variable) in [
        (Secret::OpenAi, "OPENAI_API_KEY"),
        (Secret::OpenWeather, "OPENWEATHER_API_KEY"),
    ] {
        // Without its key a provider's parameter is left unnamed, so the functions that can do
        // without it do (the offline worker makes pictures without weather) and the others say
        // which variable is missing.
        if !has_key(key_variable) {
            env.remove(secret.env());
        }
        let (variable, _) = secret.base_url();
        if let Ok(base_url) = std::env::var(variable) {
            env.insert(variable.to_owned(), base_url);
        }
    }
    env.insert(
        vars::WEBSOCKET_ENDPOINT.to_owned(),
        format!("http://127.0.0.1:{port}"),
    );
    // The real providers only when their key is at hand (never silently in a deployed stage:
    // there the stage settings decide).
    let providers = if has_key("OPENAI_API_KEY") {
        "openai"
    } else {
        "offline"
    };
    env.insert(vars::PROVIDERS.to_owned(), providers.to_owned());
    env.insert("MUMBLE_GATEWAY_PORT".to_owned(), port.to_string());
    env.insert(
        "MUMBLE_SITE_DIR".to_owned(),
        tools::workspace_root().join("site").display().to_string(),
    );
    Ok(env)
}

/// `cargo build -p local-gateway`; the binary's path.
pub fn build() -> Result<std::path::PathBuf> {
    let status = Command::new(env_or("CARGO", "cargo"))
        .args(["build", "--package", "local-gateway"])
        .current_dir(tools::workspace_root())
        .status()
        .context("cannot run cargo to build the local gateway")?;
    if !status.success() {
        bail!(
            "the local gateway did not build; fix the errors above (with --watch, saving a file retries)"
        );
    }
    Ok(tools::target_dir().join("debug").join("local-gateway"))
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// The running gateway; dropping it stops it.
pub struct Gateway {
    child: Child,
}

impl Gateway {
    /// Starts `binary` with the emulator's environment plus `env`.
    pub fn spawn(
        binary: &Path,
        emulator_env: &[(&'static str, String)],
        env: &BTreeMap<String, String>,
    ) -> Result<Gateway> {
        let mut command = Command::new(binary);
        for name in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"] {
            command.env_remove(name);
        }
        command
            .envs(
                emulator_env
                    .iter()
                    .map(|(name, value)| (*name, value.as_str())),
            )
            .envs(env)
            // Stops by itself if this process goes away without stopping it (SIGKILL).
            .env("MUMBLE_GATEWAY_PARENT", std::process::id().to_string())
            .current_dir(tools::workspace_root())
            .stdin(Stdio::null())
            // Its own group, which the interrupt handler stops on Ctrl-C or SIGTERM before this
            // process exits: a gateway left answering on the port would greet the next `dev`.
            .process_group(0);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        emulator::register(child.id());
        Ok(Gateway { child })
    }

    /// Waits until the gateway answers its health route, or fails with what went wrong.
    pub async fn wait_until_ready(&mut self, port: u16) -> Result<()> {
        let client = process::local_client(Duration::from_secs(2))?;
        let child = &mut self.child;
        process::wait_for_http(
            &client,
            &format!("http://127.0.0.1:{port}/api/v1/health"),
            Duration::from_secs(60),
            Duration::from_millis(100),
            || match child.try_wait()? {
                Some(status) => bail!(
                    "the local gateway stopped during start-up ({status}); its messages are above"
                ),
                None => Ok(()),
            },
        )
        .await
    }

    /// `Some` once the gateway has exited.
    pub fn exited(&mut self) -> Result<Option<std::process::ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    pub fn stop(&mut self) {
        emulator::unregister(self.child.id());
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every output of the stage, each with a value that names it.
    fn outputs() -> StageOutputs {
        let values = stacks::Output::ALL
            .iter()
            .map(|output| (output.name().to_owned(), format!("value-of-{output}")))
            .collect();
        let mut outputs = StageOutputs::default();
        outputs
            .stacks
            .insert("mumble-local-data".to_owned(), values);
        outputs
    }

    #[test]
    fn the_functions_get_the_stages_resources_and_reach_the_gateway() {
        let stage = crate::stage::resolve("local").unwrap();
        let env = environment(&stage, &outputs(), 3000, &|_| false).unwrap();
        assert_eq!(env["JOBS_TABLE"], "value-of-JobsTableName");
        assert_eq!(env["MEDIA_BUCKET"], "value-of-MediaBucketName");
        assert_eq!(env["USER_POOL_CLIENT_ID"], "value-of-UserPoolClientId");
        assert_eq!(env["WEBSOCKET_ENDPOINT"], "http://127.0.0.1:3000");
        assert_eq!(env["WORKER_FUNCTION"], "mumble-local-worker:live");
        assert_eq!(env["MUMBLE_STAGE"], "local");
    }

    #[test]
    fn without_keys_the_providers_are_offline_and_no_secret_is_looked_up() {
        let stage = crate::stage::resolve("local").unwrap();
        let env = environment(&stage, &outputs(), 3000, &|_| false).unwrap();
        assert_eq!(env["MUMBLE_PROVIDERS"], "offline");
        assert!(!env.contains_key("OPENAI_API_KEY_PARAM"));
        assert!(!env.contains_key("OPENWEATHER_API_KEY_PARAM"));
    }

    #[test]
    fn with_keys_the_real_providers_read_them_from_the_stages_parameters() {
        let stage = crate::stage::resolve("local").unwrap();
        let env = environment(&stage, &outputs(), 3000, &|_| true).unwrap();
        assert_eq!(env["MUMBLE_PROVIDERS"], "openai");
        assert_eq!(env["OPENAI_API_KEY_PARAM"], "/mumble/local/openai-api-key");
        assert_eq!(
            env["OPENWEATHER_API_KEY_PARAM"],
            "/mumble/local/openweather-api-key"
        );
    }
}
