//! Steps 6–7 of a deploy: the site's `config.json` from the stack outputs, the site synced by
//! content, and the changed paths invalidated.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Result;
use serde::Serialize;
use stacks::Output;

use super::Target;
use crate::outputs::StageOutputs;
use crate::release::{self, Release};
use crate::site_sync::{self, SiteFile};
use crate::{aws, cdn, ui};

/// Steps 6–7: the site synced by content (its manifest recorded with S3 versions), and the
/// changed paths invalidated.
pub(crate) async fn sync_site(
    target: &Target,
    s3: &aws_sdk_s3::Client,
    outputs: &StageOutputs,
    previous: Option<&Release>,
    wait: bool,
) -> Result<(
    site_sync::SitePlan,
    BTreeMap<String, release::SiteObject>,
    Option<cdn::Invalidation>,
)> {
    let stage = &target.stage;
    ui::step("syncing the site");
    let bucket = outputs.require(stage, Output::SiteBucketName)?;
    let files = site_sync::local_files(&target.site_dir, vec![site_config(target, outputs)?])?;
    let remote = site_sync::remote_etags(s3, &bucket).await?;
    let site = site_sync::plan(&files, &remote);
    let versions = site_sync::apply(s3, &bucket, &files, &site).await?;
    ui::info(format!(
        "{} uploaded, {} deleted, {} unchanged",
        site.upload.len(),
        site.delete.len(),
        site.unchanged
    ));
    let manifest = site_sync::manifest(
        s3,
        &bucket,
        &files,
        versions,
        previous.map(|release| &release.site),
    )
    .await?;
    let invalidation = cdn::invalidate_changes(&target.config, stage, outputs, &site, wait).await?;
    Ok((site, manifest, invalidation))
}

/// The site's runtime configuration, from the stacks' outputs (shape in the contracts).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SiteConfig {
    stage: String,
    region: String,
    api_url: String,
    web_socket_url: String,
    user_pool_id: String,
    user_pool_client_id: String,
    cognito_endpoint: String,
    /// `offline` makes the site ask for the words, since nothing transcribes the audio.
    providers: &'static str,
}

pub(crate) fn site_config(target: &Target, outputs: &StageOutputs) -> Result<SiteFile> {
    let stage = &target.stage;
    let region = aws::region(&target.config);
    let config = SiteConfig {
        stage: stage.name.clone(),
        api_url: outputs.require(stage, Output::HttpApiUrl)?,
        web_socket_url: outputs.require(stage, Output::WebSocketUrl)?,
        user_pool_id: outputs.require(stage, Output::UserPoolId)?,
        user_pool_client_id: outputs.require(stage, Output::UserPoolClientId)?,
        cognito_endpoint: aws::cognito_endpoint(&target.config, &region),
        region,
        providers: stage.providers.as_str(),
    };
    let body = serde_json::to_vec_pretty(&config)?;
    Ok(SiteFile {
        key: "config.json".to_owned(),
        body: Arc::new(body),
    })
}
