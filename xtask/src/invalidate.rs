//! `cargo xtask invalidate`: a CloudFront invalidation of a stage's site, of chosen paths or all.

use anyhow::{Result, bail};
use stacks::Output;

use crate::aws;
use crate::cdn::invalidate;
use crate::cli::{Invalidate, OutputFormat};

impl Invalidate {
    pub async fn run(self) -> Result<()> {
        let stage = crate::stage::resolve(&self.stage.stage)?;
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        let outputs = crate::outputs::read(&config, &stage).await?;
        let distribution_id = outputs.require(&stage, Output::DistributionId)?;
        let paths = if self.paths.is_empty() {
            vec!["/*".to_owned()]
        } else {
            self.paths.clone()
        };
        for path in &paths {
            if !path.starts_with('/') {
                bail!(
                    "invalidation path `{path}` must start with `/` (e.g. `/index.html` or `/assets/*`)"
                );
            }
        }
        let cloudfront = aws_sdk_cloudfront::Client::new(&config);
        let invalidation = invalidate(&cloudfront, &distribution_id, &paths, self.wait).await?;
        match self.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&invalidation)?),
            OutputFormat::Text => println!("{} {}", invalidation.id, invalidation.status),
        }
        Ok(())
    }
}
