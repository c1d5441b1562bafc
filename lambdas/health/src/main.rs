//! The `health` function's Lambda entry point.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    mumble_core::telemetry::init();
    // Health makes no AWS calls: it is built without core's `services`, so no SDK at all.
    let deps = health::Deps::from_env()?;
    mumble_core::runtime::serve_http(&deps, health::handle).await
}
