//! `cargo xtask openapi`: the HTTP API's OpenAPI 3.1 document, from the one route declaration.

use anyhow::{Context, Result};

use crate::ui;

impl crate::cli::Openapi {
    pub fn run(self) -> Result<()> {
        let document = stacks::openapi::document();
        let mut json =
            serde_json::to_string_pretty(&document).context("cannot render the document")?;
        json.push('\n');
        match self.out {
            Some(path) => {
                std::fs::write(&path, json)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                ui::done(format!("OpenAPI document written to {}", path.display()));
            }
            None => print!("{json}"),
        }
        Ok(())
    }
}
