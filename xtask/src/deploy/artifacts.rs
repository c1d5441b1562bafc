//! Step 3 of a deploy: the function zips the artifacts bucket lacks, uploaded a few at a time.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use aws_config::SdkConfig;
use futures::{StreamExt, TryStreamExt};

use super::apply::object_exists;
use crate::build::{self, Artifact};
use crate::{aws, ui};

/// How many artifacts upload at once (each is a few MB).
pub(crate) const PARALLEL_ARTIFACT_UPLOADS: usize = 4;

/// Uploads the artifacts whose key is not in the bucket yet; returns the uploaded keys.
/// Keys in `known` (named by the last release, so never deleted since) are not looked for.
pub(crate) async fn upload_artifacts(
    config: &SdkConfig,
    bucket: &str,
    artifacts: &[Artifact],
    known: &BTreeSet<String>,
) -> Result<Vec<String>> {
    let s3 = aws_sdk_s3::Client::new(config);
    let unknown: Vec<Artifact> = artifacts
        .iter()
        .filter(|artifact| !known.contains(&artifact.key))
        .cloned()
        .collect();
    let missing = missing_artifacts(&s3, bucket, &unknown).await?;
    if missing.is_empty() {
        ui::info(format!(
            "all {} artifacts are in {bucket} already",
            artifacts.len()
        ));
        return Ok(Vec::new());
    }
    ui::step(format!(
        "uploading {} artifact(s) to {bucket}",
        missing.len()
    ));
    let bar = ui::progress(missing.len() as u64, "uploading artifacts");
    futures::stream::iter(missing.iter())
        .map(|artifact| {
            let s3 = &s3;
            let bar = bar.clone();
            async move {
                let body = aws_sdk_s3::primitives::ByteStream::from_path(&artifact.path)
                    .await
                    .with_context(|| format!("cannot read {}", artifact.path.display()))?;
                s3.put_object()
                    .bucket(bucket)
                    .key(&artifact.key)
                    .content_type("application/zip")
                    .body(body)
                    .send()
                    .await
                    .map_err(aws::sdk_error)
                    .with_context(|| format!("cannot upload {} to {bucket}", artifact.key))?;
                bar.inc(1);
                if !ui::is_interactive() {
                    ui::info(format!(
                        "uploaded {} ({})",
                        artifact.key,
                        build::size_text(artifact.size)
                    ));
                }
                anyhow::Ok(())
            }
        })
        .buffer_unordered(PARALLEL_ARTIFACT_UPLOADS)
        .try_collect::<()>()
        .await?;
    bar.finish_and_clear();
    Ok(missing
        .into_iter()
        .map(|artifact| artifact.key.clone())
        .collect())
}

/// The artifacts whose key is not in the bucket (HeadObject each; a key never changes content).
pub(crate) async fn missing_artifacts<'a>(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    artifacts: &'a [Artifact],
) -> Result<Vec<&'a Artifact>> {
    let present = futures::stream::iter(artifacts)
        .map(|artifact| async move {
            anyhow::Ok((artifact, object_exists(s3, bucket, &artifact.key).await?))
        })
        .buffer_unordered(8)
        .try_collect::<Vec<_>>()
        .await?;
    let mut missing: Vec<&Artifact> = present
        .into_iter()
        .filter(|(_, there)| !there)
        .map(|(artifact, _)| artifact)
        .collect();
    missing.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(missing)
}
