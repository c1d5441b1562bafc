//! The `image-processor` function's Lambda entry point (EventBridge "Object Created" under `images/`).

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mumble_core::telemetry::init();
    let sdk = mumble_core::aws::sdk_config()?;
    let deps = image_processor::Deps::from_env(&sdk).await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<image_processor::ObjectCreatedEvent>| async move {
            image_processor::handle(deps, event.payload)
                .await
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
