//! Real providers when their keys are in the environment: the keys go into the emulator's SSM
//! parameters, where the functions read them exactly as in a deployed stage.

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use aws_sdk_ssm::types::ParameterType;
use mumble_core::config::vars;

/// The keys this machine's environment may hold, and the variable naming each one's parameter.
const KEYS: [(&str, &str); 2] = [
    ("OPENAI_API_KEY", vars::OPENAI_API_KEY_PARAM),
    ("OPENWEATHER_API_KEY", vars::OPENWEATHER_API_KEY_PARAM),
];

/// Writes every key found in the environment to its SSM parameter; the names of those written.
pub async fn store_keys(sdk: &SdkConfig) -> Result<Vec<&'static str>> {
    let ssm = mumble_core::aws::ssm_client(sdk);
    let mut stored = Vec::new();
    for (key_var, param_var) in KEYS {
        let Some(value) = std::env::var(key_var).ok().filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        let Ok(name) = std::env::var(param_var) else {
            continue;
        };
        ssm.put_parameter()
            .name(&name)
            .value(value.trim())
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .with_context(|| {
                format!("cannot store {key_var} in the emulator's parameter {name}")
            })?;
        stored.push(key_var);
    }
    Ok(stored)
}
