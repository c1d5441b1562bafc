//! The `worker` function's Lambda entry point (invoked asynchronously by `generate` and `websocket`).

use lambda_runtime::{LambdaEvent, service_fn};
use mumble_core::generation::WorkerEvent;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mumble_core::telemetry::init();
    let sdk = mumble_core::aws::sdk_config()?;
    let deps = worker::Deps::from_env(&sdk).await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<WorkerEvent>| async move {
            worker::handle(deps, event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
