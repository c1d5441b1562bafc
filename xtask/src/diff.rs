//! `cargo xtask diff`: the plan `deploy --dry-run` shows, changing nothing.

impl crate::cli::Diff {
    pub async fn run(self) -> anyhow::Result<()> {
        let plan = crate::deploy::plan_only(&self.stage.stage, &self.aws, &self.sources).await?;
        crate::ui::print(&plan, self.output)
    }
}
