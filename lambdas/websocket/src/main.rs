//! The `websocket` function's Lambda entry point ($connect, $disconnect, generateImage).

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mumble_core::telemetry::init();
    let sdk = mumble_core::aws::sdk_config()?;
    let deps = websocket::Deps::from_env(&sdk).await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            Ok::<_, lambda_runtime::Error>(websocket::handle(deps, event.payload).await)
        },
    ))
    .await
}
