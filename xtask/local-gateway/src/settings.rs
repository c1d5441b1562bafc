//! The gateway's own settings; the functions read theirs from the same environment.

use std::path::PathBuf;

/// Set by `cargo xtask dev` from the local stage's outputs.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "local-gateway",
    about = "Serves Mumble on 127.0.0.1 for `cargo xtask dev`"
)]
pub struct Settings {
    /// Port on 127.0.0.1
    #[arg(long, env = "MUMBLE_GATEWAY_PORT", default_value_t = 3000)]
    pub port: u16,
    /// The static site folder
    #[arg(long, env = "MUMBLE_SITE_DIR", default_value = "site")]
    pub site_dir: PathBuf,
    /// The AWS API emulator
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub emulator_url: String,
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    #[arg(long, env = "MUMBLE_STAGE", default_value = "local")]
    pub stage: String,
    /// The stage's Cognito user pool (app stack output `UserPoolId`)
    #[arg(long, env = "USER_POOL_ID")]
    pub user_pool_id: String,
    /// Its app client (app stack output `UserPoolClientId`)
    #[arg(long, env = "USER_POOL_CLIENT_ID")]
    pub user_pool_client_id: String,
    /// Origins the HTTP API's CORS rules allow, comma-separated
    #[arg(
        long,
        env = "ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub allowed_origins: Vec<String>,
    /// Providers the functions use (`openai` or `offline`)
    #[arg(long, env = "MUMBLE_PROVIDERS", default_value = "openai")]
    pub providers: String,
    /// Check every API request and response against the OpenAPI document (tests set it): a
    /// violation is logged, answered as a 500 if in a response, and appended to this file
    #[arg(long, env = "MUMBLE_CHECK_OPENAPI")]
    pub check_openapi: Option<PathBuf>,
    /// Stop when the process with this id (the `cargo xtask dev` that started us) is gone
    #[arg(long, env = "MUMBLE_GATEWAY_PARENT")]
    pub parent: Option<u32>,
}
