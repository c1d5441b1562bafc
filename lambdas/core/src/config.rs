//! Configuration from the Lambda environment, read once per cold start in each `Deps::from_env`.

use std::str::FromStr;

/// The variables' names and defaults, as the stacks set them (`mumble_contract::env`).
pub use mumble_contract::env::{defaults, vars};

/// Why a cold start could not build its dependencies. Fails `main`, so Lambda reports an init
/// error whose message names the variable or parameter to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is not set; the stack must set it on this function")]
    Missing { name: String },
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
    #[error("could not initialise the {what}: {reason}")]
    Init { what: String, reason: String },
    #[error("could not read secret parameter {name}: {reason}")]
    Secret { name: String, reason: String },
}

/// Reads the process environment. Only `Deps::from_env` should call it.
pub struct Env;

impl Env {
    /// The value of `name`; unset or blank is an error naming the variable.
    pub fn require(name: &str) -> Result<String, ConfigError> {
        Self::optional(name).ok_or_else(|| ConfigError::Missing {
            name: name.to_owned(),
        })
    }

    /// The value of `name`, or `None` when unset or blank.
    pub fn optional(name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The value of `name` or `default` when unset.
    pub fn or(name: &str, default: &str) -> String {
        Self::optional(name).unwrap_or_else(|| default.to_owned())
    }

    /// `name` parsed as `T`, `default` when unset; a value that does not parse is an error.
    pub fn parse_or<T>(name: &str, default: T) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        match Self::optional(name) {
            None => Ok(default),
            Some(raw) => parse(name, &raw),
        }
    }

    /// `name` parsed as `T`; unset or unparsable is an error.
    pub fn parse<T>(name: &str) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        parse(name, &Self::require(name)?)
    }

    /// `MUMBLE_STAGE`, required by every function.
    pub fn stage() -> Result<String, ConfigError> {
        Self::require(vars::STAGE)
    }

    /// A comma-separated list (e.g. `ALLOWED_ORIGINS`); empty items are dropped.
    pub fn list(name: &str) -> Vec<String> {
        Self::optional(name)
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn parse<T>(name: &str, raw: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    raw.parse().map_err(|e: T::Err| ConfigError::Invalid {
        name: name.to_owned(),
        reason: format!("{raw:?}: {e}"),
    })
}
