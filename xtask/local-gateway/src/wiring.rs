//! The AWS event wiring the emulator lacks, in-process: the worker's asynchronous invocation,
//! and the media bucket's EventBridge "Object Created" event that sends new images to the image
//! processor.
//!
//! The event is raised by wrapping the worker's media store rather than by watching the
//! bucket: the worker is the only writer of `images/` (the prefix the stage's EventBridge rule
//! filters on), so every image the processor should see passes through that one `put`, at the
//! moment S3 would notify — no polling, no missed or repeated objects. An object written under
//! `images/` by anything else (a hand-run `aws s3 cp`) is not processed locally.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mumble_core::generation::{InvokeError, WorkerEvent, WorkerInvoker};
use mumble_core::store::media::{ObjectInfo, PresignedRequest};
use mumble_core::store::{MediaStore, StoreError};

use crate::events::object_created_event;

/// The key prefix whose new objects go to the image processor (as in the app stack).
pub const IMAGES_PREFIX: &str = "images/";

/// Runs `future` to completion on a blocking thread of the current runtime. Handlers may hold
/// values across awaits that cannot move between threads (a tracing span guard); Lambda runs
/// each invocation on one thread, and so does this.
pub fn run_detached<F, T>(make: F) -> tokio::task::JoinHandle<T>
where
    F: FnOnce() -> std::pin::Pin<Box<dyn Future<Output = T>>> + Send + 'static,
    T: Send + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(make()))
}

/// Lambda's asynchronous invoke of the worker: accepted at once, run in the background.
pub struct InProcessWorker {
    pub worker: Arc<worker::Deps>,
}

#[async_trait]
impl WorkerInvoker for InProcessWorker {
    async fn start(&self, event: &WorkerEvent) -> Result<(), InvokeError> {
        let deps = self.worker.clone();
        let event = event.clone();
        let job_id = event.job_id.clone();
        tracing::info!(job = %job_id, "worker invoked (asynchronously)");
        let run = run_detached(move || {
            Box::pin(async move {
                worker::handle(&deps, event)
                    .await
                    .map_err(|e| e.to_string())
            })
        });
        tokio::spawn(async move {
            match run.await {
                Ok(Ok(outcome)) => tracing::info!(job = %job_id, ?outcome, "worker finished"),
                Ok(Err(err)) => {
                    tracing::error!(job = %job_id, %err, "worker failed (Lambda would retry)")
                }
                Err(err) => tracing::error!(job = %job_id, %err, "worker panicked"),
            }
        });
        Ok(())
    }
}

/// The worker's media store, raising the media bucket's EventBridge "Object Created" event for new images.
pub struct NotifyingMedia {
    pub inner: Arc<dyn MediaStore>,
    pub bucket: String,
    pub processor: Arc<image_processor::Deps>,
}

#[async_trait]
impl MediaStore for NotifyingMedia {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        self.inner
            .presign_put(key, content_type, content_length, expires_in)
            .await
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, StoreError> {
        self.inner.presign_get(key, expires_in).await
    }

    async fn head(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.inner.head(key).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        let size = body.len() as u64;
        self.inner.put(key, body, content_type).await?;
        if key.starts_with(IMAGES_PREFIX) {
            notify(self.processor.clone(), &self.bucket, key, size);
        }
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> Result<(), StoreError> {
        self.inner.delete(keys).await
    }
}

/// Delivers the event in the background, as S3 and EventBridge do after the PUT has returned.
fn notify(processor: Arc<image_processor::Deps>, bucket: &str, key: &str, size: u64) {
    let event = object_created_event(bucket, key, size, chrono::Utc::now());
    let key = key.to_owned();
    let event: image_processor::ObjectCreatedEvent = match serde_json::from_value(event) {
        Ok(event) => event,
        Err(err) => {
            tracing::error!(%key, %err, "could not build the Object Created event");
            return;
        }
    };
    tracing::info!(%key, "image created; notifying the image processor");
    let run = run_detached(move || {
        Box::pin(async move {
            image_processor::handle(&processor, event)
                .await
                .map_err(|e| e.to_string())
        })
    });
    tokio::spawn(async move {
        match run.await {
            Ok(Ok(report)) => tracing::info!(%key, ?report, "image processed"),
            Ok(Err(err)) => tracing::error!(%key, %err, "image processor failed"),
            Err(err) => tracing::error!(%key, %err, "image processor panicked"),
        }
    });
}
