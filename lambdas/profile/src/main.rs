//! The `profile` function's Lambda entry point.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mumble_core::telemetry::init();
    let sdk = mumble_core::aws::sdk_config()?;
    let deps = profile::Deps::from_env(&sdk).await?;
    mumble_core::runtime::serve_http(&deps, profile::handle).await
}
