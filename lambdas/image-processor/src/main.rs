//! The `image-processor` function's Lambda entry point (S3 `ObjectCreated` under `images/`).

use aws_lambda_events::s3::S3Event;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    mumble_core::telemetry::init();
    let sdk = mumble_core::aws::sdk_config().await;
    let deps = image_processor::Deps::from_env(&sdk).await?;
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| async move {
        image_processor::handle(deps, event.payload)
            .await
            .map_err(lambda_runtime::Error::from)
    }))
    .await
}
