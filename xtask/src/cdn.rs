//! CloudFront invalidations: the paths a change of site files calls for, and creating one and
//! waiting for it (`deploy`, `rollback`, `cargo xtask invalidate`).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use stacks::Output;

use crate::outputs::StageOutputs;
use crate::site_sync::SitePlan;
use crate::{aws, ui};

/// Above this many paths one wildcard is cheaper: CloudFront bills per path, and `/*` counts as one.
pub const COLLAPSE_ABOVE: usize = 15;
/// How long `--wait` waits for CloudFront (it usually takes one to five minutes).
const WAIT_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The paths to invalidate after changing and deleting these object keys: each as `/{key}`,
/// `index.html` also as `/` (what browsers ask for), and `/*` alone when there are too many.
pub fn invalidation_paths<'k>(keys: impl IntoIterator<Item = &'k String>) -> Vec<String> {
    let mut paths = std::collections::BTreeSet::new();
    for key in keys {
        if key == "index.html" {
            paths.insert("/".to_owned());
        }
        paths.insert(format!("/{key}"));
    }
    if paths.len() > COLLAPSE_ABOVE {
        return vec!["/*".to_owned()];
    }
    paths.into_iter().collect()
}

/// An invalidation that was created.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invalidation {
    pub id: String,
    pub distribution_id: String,
    pub paths: Vec<String>,
    pub status: String,
}

/// Creates an invalidation and, when `wait`, waits (bounded) until CloudFront reports it done.
pub async fn invalidate(
    cloudfront: &aws_sdk_cloudfront::Client,
    distribution_id: &str,
    paths: &[String],
    wait: bool,
) -> Result<Invalidation> {
    use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
    let batch = InvalidationBatch::builder()
        .paths(
            Paths::builder()
                .quantity(paths.len() as i32)
                .set_items(Some(paths.to_vec()))
                .build()?,
        )
        .caller_reference(format!(
            "mumble-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
        ))
        .build()?;
    let created = cloudfront
        .create_invalidation()
        .distribution_id(distribution_id)
        .invalidation_batch(batch)
        .send()
        .await
        .map_err(aws::sdk_error)
        .with_context(|| format!("cannot invalidate paths of distribution {distribution_id}"))?;
    let invalidation = created
        .invalidation()
        .context("CloudFront returned no invalidation")?;
    let mut result = Invalidation {
        id: invalidation.id().to_owned(),
        distribution_id: distribution_id.to_owned(),
        paths: paths.to_vec(),
        status: invalidation.status().to_owned(),
    };
    ui::info(format!(
        "invalidation {} for {}",
        result.id,
        paths.join(" ")
    ));
    if wait {
        result.status = wait_for(cloudfront, distribution_id, &result.id).await?;
    }
    Ok(result)
}

async fn wait_for(
    cloudfront: &aws_sdk_cloudfront::Client,
    distribution_id: &str,
    id: &str,
) -> Result<String> {
    let started = Instant::now();
    let bar = ui::progress(0, format!("waiting for invalidation {id}"));
    let mut delay = Duration::from_millis(500);
    loop {
        let status = cloudfront
            .get_invalidation()
            .distribution_id(distribution_id)
            .id(id)
            .send()
            .await
            .map_err(aws::sdk_error)
            .with_context(|| format!("cannot read invalidation {id}"))?
            .invalidation()
            .map(|invalidation| invalidation.status().to_owned())
            .unwrap_or_default();
        if status == "Completed" {
            bar.finish_and_clear();
            ui::info(format!(
                "invalidation {id} completed in {}",
                ui::duration(started.elapsed())
            ));
            return Ok(status);
        }
        if started.elapsed() > WAIT_LIMIT {
            bar.finish_and_clear();
            bail!(
                "invalidation {id} is still {status} after {} minutes; it will finish on its own, \
                 check it in the CloudFront console",
                WAIT_LIMIT.as_secs() / 60
            );
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// The paths of a site change invalidated (`None` when no file changed): what `deploy`,
/// `deploy --hotswap` and `rollback` do after the site's files change.
pub async fn invalidate_changes(
    config: &aws_config::SdkConfig,
    stage: &stacks::Stage,
    outputs: &StageOutputs,
    site: &SitePlan,
    wait: bool,
) -> Result<Option<Invalidation>> {
    let paths = invalidation_paths(site.upload.iter().chain(&site.delete));
    if paths.is_empty() {
        return Ok(None);
    }
    ui::step("invalidating the CDN");
    let distribution_id = outputs.require(stage, Output::DistributionId)?;
    let cloudfront = aws_sdk_cloudfront::Client::new(config);
    Ok(Some(
        invalidate(&cloudfront, &distribution_id, &paths, wait).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn changed_files_are_invalidated_by_path_and_index_also_as_root() {
        let paths = invalidation_paths(&keys(&["index.html", "assets/app.js"]));
        assert_eq!(paths, ["/", "/assets/app.js", "/index.html"]);
    }

    #[test]
    fn nothing_changed_means_nothing_to_invalidate() {
        assert!(invalidation_paths(&keys(&[])).is_empty());
    }

    #[test]
    fn up_to_the_threshold_paths_are_listed_and_above_it_collapse_to_a_wildcard() {
        let at_limit: Vec<String> = (0..COLLAPSE_ABOVE).map(|n| format!("f{n}.js")).collect();
        assert_eq!(invalidation_paths(&at_limit).len(), COLLAPSE_ABOVE);
        let above: Vec<String> = (0..=COLLAPSE_ABOVE).map(|n| format!("f{n}.js")).collect();
        assert_eq!(invalidation_paths(&above), ["/*"]);
    }
}
