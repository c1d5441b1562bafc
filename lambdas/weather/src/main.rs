//! The `weather` function's Lambda entry point.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mumble_core::telemetry::init();
    let sdk = mumble_core::aws::sdk_config()?;
    let deps = weather::Deps::from_env(&sdk).await?;
    mumble_core::runtime::serve_http(&deps, weather::handle).await
}
