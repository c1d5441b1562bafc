//! `cargo xtask outputs`, and reading a stage's stack outputs for the other commands.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use aws_config::SdkConfig;
use indexmap::IndexMap;
use serde::Serialize;
use stacks::Output;

use crate::cli::{OutputFormat, Outputs};
use crate::cloudformation::stack;
use crate::{aws, ui};

/// The outputs of a stage's stacks, by stack name, in deploy order.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(transparent)]
pub struct StageOutputs {
    pub stacks: IndexMap<String, BTreeMap<String, String>>,
}

impl StageOutputs {
    /// An output from whichever stack has it (output names are unique across a stage).
    pub fn get(&self, output: Output) -> Option<&str> {
        self.stacks
            .values()
            .find_map(|outputs| outputs.get(output.name()))
            .map(String::as_str)
    }

    /// Like `get`, with an error that says what to do when the output is missing.
    pub fn require(&self, stage: &stacks::Stage, output: Output) -> Result<String> {
        match self.get(output) {
            Some(value) => Ok(value.to_owned()),
            None => bail!(
                "stage `{}` has no stack output `{output}`; deploy it first: `cargo xtask deploy --stage {}`",
                stage.name,
                stage.name
            ),
        }
    }
}

/// Reads the outputs of every stack of the stage that exists.
pub async fn read(config: &SdkConfig, stage: &stacks::Stage) -> Result<StageOutputs> {
    let mut outputs = StageOutputs::default();
    for synth in stacks::synth(stage) {
        let cfn =
            aws_sdk_cloudformation::Client::new(&stack::config_for(config, stage, &synth.region));
        if let Some(found) = stack::describe(&cfn, &synth.name).await? {
            outputs
                .stacks
                .insert(synth.name.clone(), stack::outputs_of(&found));
        }
    }
    Ok(outputs)
}

impl Outputs {
    pub async fn run(self) -> Result<()> {
        let stage = crate::stage::resolve(&self.stage.stage)?;
        let config = aws::sdk_config(&self.aws, &stage.region).await;
        aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
        let outputs = read(&config, &stage).await?;
        if outputs.stacks.is_empty() {
            ui::warn(format!(
                "stage `{}` has no stacks; deploy it with `cargo xtask deploy --stage {}`",
                stage.name, stage.name
            ));
        }
        match self.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outputs)?),
            OutputFormat::Text => {
                for (stack, values) in &outputs.stacks {
                    println!("{}", ui::bold(stack));
                    let width = values.keys().map(String::len).max().unwrap_or(0);
                    for (name, value) in values {
                        println!("  {name:<width$}  {value}");
                    }
                }
            }
        }
        Ok(())
    }
}
