//! Secrets from SSM Parameter Store (SecureString, decrypted), read once per cold start.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
#[cfg(feature = "services")]
use tokio::sync::Mutex;

use crate::config::{ConfigError, Env};

/// A secret value. `Debug` and `Display` print a placeholder so it cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that sends it (an `Authorization` header, a query parameter).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("secret parameter {name}: {reason}")]
pub struct SecretError {
    pub name: String,
    pub reason: String,
}

impl From<SecretError> for ConfigError {
    fn from(e: SecretError) -> Self {
        ConfigError::Secret {
            name: e.name,
            reason: e.reason,
        }
    }
}

/// Where secrets come from; faked in tests.
#[async_trait]
pub trait SecretSource: Send + Sync {
    /// The value of parameter `name` (a full SSM name such as `/mumble/dev/openweather-api-key`).
    async fn get(&self, name: &str) -> Result<Secret, SecretError>;

    /// The values of several parameters, in the order of `names`. Sources that can read them in
    /// one round trip override this.
    async fn get_all(&self, names: &[String]) -> Result<Vec<Secret>, SecretError> {
        let mut secrets = Vec::with_capacity(names.len());
        for name in names {
            secrets.push(self.get(name).await?);
        }
        Ok(secrets)
    }
}

/// SSM Parameter Store, with decryption, caching each value for the life of the process.
#[cfg(feature = "services")]
pub struct SsmSecrets {
    client: aws_sdk_ssm::Client,
    cache: Mutex<HashMap<String, Secret>>,
}

/// `GetParameters` takes at most this many names.
#[cfg(feature = "services")]
const GET_PARAMETERS_MAX: usize = 10;

#[cfg(feature = "services")]
impl SsmSecrets {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Self {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Reads `names` (at most [`GET_PARAMETERS_MAX`]) in one `GetParameters` call.
    async fn fetch(&self, names: &[String]) -> Result<HashMap<String, Secret>, SecretError> {
        let output = self
            .client
            .get_parameters()
            .set_names(Some(names.to_vec()))
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| SecretError {
                name: names.join(", "),
                reason: aws_sdk_ssm::error::DisplayErrorContext(e).to_string(),
            })?;
        if let Some(missing) = output.invalid_parameters.unwrap_or_default().first() {
            return Err(SecretError {
                name: missing.clone(),
                reason: "no such parameter (or this function's role may not read it)".to_owned(),
            });
        }
        let mut found = HashMap::new();
        for parameter in output.parameters.unwrap_or_default() {
            if let (Some(name), Some(value)) = (parameter.name, parameter.value) {
                found.insert(name, Secret::new(value));
            }
        }
        Ok(found)
    }
}

#[cfg(feature = "services")]
#[async_trait]
impl SecretSource for SsmSecrets {
    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        let mut secrets = self.get_all(&[name.to_owned()]).await?;
        Ok(secrets.remove(0))
    }

    async fn get_all(&self, names: &[String]) -> Result<Vec<Secret>, SecretError> {
        let mut cache = self.cache.lock().await;
        let mut unread: Vec<String> = names
            .iter()
            .filter(|name| !cache.contains_key(*name))
            .cloned()
            .collect();
        unread.sort();
        unread.dedup();
        for batch in unread.chunks(GET_PARAMETERS_MAX) {
            cache.extend(self.fetch(batch).await?);
        }
        names
            .iter()
            .map(|name| {
                cache
                    .get(name)
                    .filter(|secret| !secret.expose().is_empty())
                    .cloned()
                    .ok_or_else(|| SecretError {
                        name: name.clone(),
                        reason: "the parameter has no value".to_owned(),
                    })
            })
            .collect()
    }
}

/// A fixed set of secrets, for tests and local development.
#[derive(Default)]
pub struct StaticSecrets(pub HashMap<String, Secret>);

#[async_trait]
impl SecretSource for StaticSecrets {
    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        self.0.get(name).cloned().ok_or_else(|| SecretError {
            name: name.to_owned(),
            reason: "not set".to_owned(),
        })
    }
}

/// Reads the secret whose SSM name is in environment variable `param_var` (e.g.
/// `OPENWEATHER_API_KEY_PARAM`); both a missing variable and an unreadable parameter fail the
/// cold start with a message naming them.
pub async fn load(source: &dyn SecretSource, param_var: &str) -> Result<Secret, ConfigError> {
    let name = Env::require(param_var)?;
    Ok(source.get(&name).await?)
}

/// [`load`] for several variables at once, in one round trip to SSM: each read is on the cold
/// start's critical path. The secrets come back keyed by the variable that names them.
pub async fn load_all<'a>(
    source: &dyn SecretSource,
    param_vars: &[&'a str],
) -> Result<HashMap<&'a str, Secret>, ConfigError> {
    let names = param_vars
        .iter()
        .map(|var| Env::require(var))
        .collect::<Result<Vec<_>, _>>()?;
    let secrets = source.get_all(&names).await?;
    Ok(param_vars.iter().copied().zip(secrets).collect())
}
