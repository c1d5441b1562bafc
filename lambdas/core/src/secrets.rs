//! Secrets from SSM Parameter Store (SecureString, decrypted), read once per cold start.

use std::collections::HashMap;
use std::fmt;

use async_trait::async_trait;
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
}

/// SSM Parameter Store, with decryption, caching each value for the life of the process.
pub struct SsmSecrets {
    client: aws_sdk_ssm::Client,
    cache: Mutex<HashMap<String, Secret>>,
}

impl SsmSecrets {
    pub fn new(client: aws_sdk_ssm::Client) -> Self {
        Self {
            client,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait]
impl SecretSource for SsmSecrets {
    async fn get(&self, name: &str) -> Result<Secret, SecretError> {
        let mut cache = self.cache.lock().await;
        if let Some(secret) = cache.get(name) {
            return Ok(secret.clone());
        }
        let output = self
            .client
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| SecretError {
                name: name.to_owned(),
                reason: aws_sdk_ssm::error::DisplayErrorContext(e).to_string(),
            })?;
        let value = output
            .parameter
            .and_then(|p| p.value)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| SecretError {
                name: name.to_owned(),
                reason: "the parameter has no value".to_owned(),
            })?;
        let secret = Secret::new(value);
        cache.insert(name.to_owned(), secret.clone());
        Ok(secret)
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
