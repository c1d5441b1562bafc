//! Each function's environment, decided in one place from the stage and the function's spec.
//!
//! The app stack renders it as CloudFormation (a reference or an import for each output),
//! `cargo xtask dev` and the benchmarks as plain values (the deployed stage's outputs).

use indexmap::IndexMap;
use mumble_contract::Output;
use mumble_contract::env::vars;
use mumble_contract::iam::Resource;

use crate::functions::{FunctionSpec, Uses, function};
use crate::settings::Stage;

/// A variable's value, before it is rendered for where the function runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// The same everywhere.
    Literal(String),
    /// One of the stage's stack outputs.
    Output(Output),
}

/// The function's variables: names of what it uses (SSM parameter names, never secret values).
pub fn environment(stage: &Stage, f: &FunctionSpec) -> IndexMap<&'static str, Value> {
    let mut env = IndexMap::new();
    let literal = |value: String| Value::Literal(value);
    env.insert(vars::STAGE, literal(stage.name.clone()));
    for table in f.tables() {
        env.insert(table.env_var(), Value::Output(table.name_output()));
    }
    if f.uses_media() {
        env.insert(vars::MEDIA_BUCKET, Value::Output(Output::MediaBucketName));
    }
    for secret in f.secrets {
        env.insert(secret.env(), literal(secret.parameter_name(&stage.name)));
        let (variable, default) = secret.base_url();
        env.insert(variable, literal(default.to_owned()));
    }
    // Who may start the worker or push to connections is told where they are.
    if f.grants().any(|grant| grant.on == Resource::Worker) {
        let worker = function("worker").expect("the worker is declared");
        env.insert(
            vars::WORKER_FUNCTION,
            literal(worker.live_name(&stage.name)),
        );
    }
    if f.grants().any(|grant| grant.on == Resource::Connections) {
        env.insert(
            vars::WEBSOCKET_ENDPOINT,
            Value::Output(Output::WebSocketManagementUrl),
        );
    }
    for uses in f.uses {
        match uses {
            Uses::UserPool => {
                env.insert(vars::USER_POOL_ID, Value::Output(Output::UserPoolId));
                env.insert(
                    vars::USER_POOL_CLIENT_ID,
                    Value::Output(Output::UserPoolClientId),
                );
            }
            Uses::AllowedOrigins => {
                env.insert(vars::ALLOWED_ORIGINS, literal(stage.cors_origins.join(",")));
            }
            Uses::MaxAudioBytes => {
                env.insert(
                    vars::MAX_AUDIO_BYTES,
                    literal(stage.max_audio_bytes.to_string()),
                );
            }
            Uses::AudioRetentionDays => {
                env.insert(
                    vars::AUDIO_RETENTION_DAYS,
                    literal(stage.audio_retention_days.to_string()),
                );
            }
            Uses::JobTimeoutSeconds => {
                env.insert(
                    vars::JOB_TIMEOUT_SECONDS,
                    literal(stage.job_timeout_seconds.to_string()),
                );
            }
            Uses::Providers => {
                env.insert(
                    vars::PROVIDERS,
                    literal(stage.providers.as_str().to_owned()),
                );
            }
            Uses::GenerationQuota => {
                env.insert(
                    vars::MAX_GENERATIONS_PER_USER_PER_DAY,
                    literal(stage.max_generations_per_user_per_day.to_string()),
                );
            }
            Uses::ProviderCap => {
                env.insert(
                    vars::MAX_PROVIDER_CALLS_PER_DAY,
                    literal(stage.max_provider_calls_per_day.to_string()),
                );
            }
        }
    }
    env
}

/// Every variable any function of the stage reads, with its value: what a process that runs all
/// the handlers at once (`cargo xtask dev`'s gateway) must set.
pub fn all_functions(stage: &Stage) -> IndexMap<&'static str, Value> {
    let mut env = IndexMap::new();
    for f in crate::FUNCTIONS {
        env.extend(environment(stage, f));
    }
    env
}
