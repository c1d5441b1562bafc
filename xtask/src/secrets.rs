//! `cargo xtask secrets set|list`: the stage's SecureString parameters `/mumble/{stage}/{name}`
//! that the functions read (their names come from `stacks::functions::Secret`). Values are read
//! from stdin or a prompt without echo and are never printed, logged or decrypted for listing.

use std::io::{IsTerminal, Read};

use anyhow::{Context, Result, bail};
use aws_sdk_ssm::types::ParameterType;
use serde::Serialize;
use stacks::functions::Secret;

use crate::cli::{OutputFormat, Secrets, SecretsAction, SecretsList, SecretsSet};
use crate::{aws, ui};

impl Secrets {
    pub async fn run(self) -> Result<()> {
        match self.action {
            SecretsAction::Set(cmd) => cmd.run().await,
            SecretsAction::List(cmd) => cmd.run().await,
        }
    }
}

/// `/mumble/{stage}/{name}`.
fn parameter_name(stage: &str, secret: Secret) -> String {
    format!("/mumble/{stage}/{}", secret.parameter())
}

fn secret_named(name: &str) -> Result<Secret> {
    Secret::ALL
        .into_iter()
        .find(|secret| secret.parameter() == name)
        .with_context(|| {
            let names: Vec<&str> = Secret::ALL.iter().map(|s| s.parameter()).collect();
            format!(
                "`{name}` is not a secret of Mumble; use one of: {}",
                names.join(", ")
            )
        })
}

async fn client(
    aws_args: &crate::cli::AwsArgs,
    stage: &stacks::Stage,
) -> Result<aws_sdk_ssm::Client> {
    let config = aws::sdk_config(aws_args, &stage.region).await;
    aws::check_account(&config, &stage.name, stage.account_id.as_deref()).await?;
    Ok(aws_sdk_ssm::Client::new(&config))
}

/// The value to store: typed at a prompt that does not echo it, or piped in on stdin.
fn read_value(name: &str) -> Result<String> {
    let value = if std::io::stdin().is_terminal() {
        eprint!("{} ", ui::bold(format!("value of {name} (not shown):")));
        console::Term::stderr()
            .read_secure_line()
            .context("cannot read the value from the terminal")?
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the value from stdin")?;
        text
    };
    // A trailing newline from `echo` or a file is not part of a key.
    let value = value.trim_end_matches(['\r', '\n']).to_owned();
    if value.trim().is_empty() {
        bail!(
            "the value of {name} is empty; type it at the prompt or pipe it in: `cargo xtask secrets set --stage S {name} < file`"
        );
    }
    Ok(value)
}

impl SecretsSet {
    async fn run(self) -> Result<()> {
        let stage = crate::stage::resolve(&self.stage.stage)?;
        let secret = secret_named(&self.name)?;
        let name = parameter_name(&stage.name, secret);
        let ssm = client(&self.aws, &stage).await?;
        let existing = ssm
            .get_parameter()
            .name(&name)
            .with_decryption(false)
            .send()
            .await;
        let exists = match existing {
            Ok(_) => true,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_parameter_not_found()) =>
            {
                false
            }
            Err(e) => {
                return Err(anyhow::anyhow!(aws_sdk_ssm::error::DisplayErrorContext(e)))
                    .with_context(|| format!("cannot read parameter {name}"));
            }
        };
        let verb = if exists { "replace" } else { "create" };
        if self.dry_run {
            ui::info(format!("would {verb} SecureString parameter {name}"));
            return Ok(());
        }
        if exists && !self.yes {
            if !ui::can_prompt() {
                bail!("{name} already has a value; pass `--yes` to replace it without being asked");
            }
            eprint!(
                "{} [y/N] ",
                ui::bold(format!("replace the value of {name}?"))
            );
            let mut answer = String::new();
            std::io::stdin()
                .read_line(&mut answer)
                .context("cannot read the answer")?;
            if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                bail!("{name} left unchanged");
            }
        }
        let value = read_value(&name)?;
        let written = ssm
            .put_parameter()
            .name(&name)
            .description(format!("Mumble {}: {}", stage.name, secret.parameter()))
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(exists)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(aws_sdk_ssm::error::DisplayErrorContext(e)))
            .with_context(|| format!("cannot write parameter {name}"))?;
        ui::done(format!(
            "{name} {}d (SecureString, version {}); running functions read it on their next cold start",
            verb,
            written.version()
        ));
        Ok(())
    }
}

/// One secret as listed: never its value.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    name: String,
    set: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    r#type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

impl SecretsList {
    async fn run(self) -> Result<()> {
        let stage = crate::stage::resolve(&self.stage.stage)?;
        let ssm = client(&self.aws, &stage).await?;
        let mut listed = Vec::new();
        for secret in Secret::ALL {
            let name = parameter_name(&stage.name, secret);
            // Described, not read: the value never leaves SSM.
            let described = ssm
                .describe_parameters()
                .parameter_filters(
                    aws_sdk_ssm::types::ParameterStringFilter::builder()
                        .key("Name")
                        .option("Equals")
                        .values(&name)
                        .build()
                        .context("a parameter filter")?,
                )
                .send()
                .await
                .map_err(|e| anyhow::anyhow!(aws_sdk_ssm::error::DisplayErrorContext(e)))
                .with_context(|| format!("cannot describe parameter {name}"))?;
            let found = described.parameters().first();
            listed.push(Listed {
                name,
                set: found.is_some(),
                r#type: found
                    .and_then(|p| p.r#type())
                    .map(|t| t.as_str().to_owned()),
                version: found.map(|p| p.version()),
                last_modified: found
                    .and_then(|p| p.last_modified_date())
                    .map(ToString::to_string),
            });
        }
        match self.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&listed)?),
            OutputFormat::Text => {
                for item in &listed {
                    match (&item.r#type, item.version) {
                        (Some(kind), Some(version)) => println!(
                            "{}  {kind}, version {version}, {}",
                            item.name,
                            item.last_modified.as_deref().unwrap_or("")
                        ),
                        _ => println!(
                            "{}  {}",
                            item.name,
                            ui::yellow(format!(
                                "not set: cargo xtask secrets set --stage {} {}",
                                stage.name,
                                item.name.rsplit('/').next().unwrap_or_default()
                            ))
                        ),
                    }
                }
            }
        }
        if listed
            .iter()
            .any(|item| item.r#type.as_deref().is_some_and(|t| t != "SecureString"))
        {
            ui::warn(
                "a secret is stored as plain text; set it again with `cargo xtask secrets set`",
            );
        }
        Ok(())
    }
}
