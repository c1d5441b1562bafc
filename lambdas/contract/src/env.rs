//! The environment variables a function reads at its cold start: names and defaults.
//!
//! `stacks::functions::environment` decides which function gets which variable and with what
//! value; the app stack renders that as CloudFormation, `cargo xtask dev` and the benchmarks as
//! plain values. `mumble_core::config::Env` reads them, in `Deps::from_env` only.

/// One constant per name, so a typo is a compile error rather than a cold-start failure.
pub mod vars {
    pub const STAGE: &str = "MUMBLE_STAGE";
    pub const USERS_TABLE: &str = "USERS_TABLE";
    pub const IMAGES_TABLE: &str = "IMAGES_TABLE";
    pub const JOBS_TABLE: &str = "JOBS_TABLE";
    pub const CONNECTIONS_TABLE: &str = "CONNECTIONS_TABLE";
    pub const MEDIA_BUCKET: &str = "MEDIA_BUCKET";
    pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";
    pub const OPENWEATHER_API_KEY_PARAM: &str = "OPENWEATHER_API_KEY_PARAM";
    pub const OPENAI_API_KEY_PARAM: &str = "OPENAI_API_KEY_PARAM";
    pub const OPENWEATHER_BASE_URL: &str = "OPENWEATHER_BASE_URL";
    pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
    pub const PROVIDERS: &str = "MUMBLE_PROVIDERS";
    pub const WORKER_FUNCTION: &str = "WORKER_FUNCTION";
    pub const WEBSOCKET_ENDPOINT: &str = "WEBSOCKET_ENDPOINT";
    pub const USER_POOL_ID: &str = "USER_POOL_ID";
    pub const USER_POOL_CLIENT_ID: &str = "USER_POOL_CLIENT_ID";
    pub const MAX_AUDIO_BYTES: &str = "MAX_AUDIO_BYTES";
    pub const AUDIO_RETENTION_DAYS: &str = "AUDIO_RETENTION_DAYS";
    pub const JOB_TIMEOUT_SECONDS: &str = "JOB_TIMEOUT_SECONDS";
    pub const MAX_GENERATIONS_PER_USER_PER_DAY: &str = "MAX_GENERATIONS_PER_USER_PER_DAY";
    pub const MAX_PROVIDER_CALLS_PER_DAY: &str = "MAX_PROVIDER_CALLS_PER_DAY";
    /// Set by Lambda itself on every function.
    pub const AWS_REGION: &str = "AWS_REGION";
    /// The SDK's own variable for another endpoint; set for the local emulator only.
    pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
}

/// Defaults for the variables that have one; the stacks set the same values explicitly.
pub mod defaults {
    pub const OPENWEATHER_BASE_URL: &str = "https://api.openweathermap.org";
    pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
    pub const MAX_AUDIO_BYTES: u64 = 10 * 1024 * 1024;
}
