//! The `health` function's Lambda entry point.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mumble_core::telemetry::init();
    // Health makes no AWS calls: an empty SDK configuration keeps the credential chain and the
    // SDK's TLS stack out of its cold start (and, after LTO, out of its binary).
    let deps = health::Deps::from_env(&aws_config::SdkConfig::builder().build()).await?;
    mumble_core::runtime::serve_http(&deps, health::handle).await
}
