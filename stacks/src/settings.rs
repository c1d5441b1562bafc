//! Stage settings: `stacks/stages.yaml` read, checked and resolved into a typed [`Stage`].
//!
//! One file over 500 lines: the raw YAML shape, its checks and the typed `Stage` change together
//! whenever a setting is added, and its tests sit with them.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;

use crate::functions::FUNCTIONS;

/// Where the settings file lives, relative to the workspace root.
pub const DEFAULT_PATH: &str = "stacks/stages.yaml";

/// The stage every personal stage copies.
const TEMPLATE_STAGE: &str = "dev";

/// Stages on which the site may be reached from any origin: nothing there is shared with users.
const OPEN_CORS_STAGES: [&str; 2] = ["dev", "local"];

/// Retention periods CloudWatch Logs accepts.
pub const LOG_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Paid provider calls one generation makes: a transcription and an image.
pub const PROVIDER_CALLS_PER_GENERATION: u32 = 2;

/// The worker's timeout (its function's `timeout_seconds`).
const WORKER_TIMEOUT_SECONDS: u32 = 300;
/// How many times one job's worker may run: Lambda's asynchronous invoke tries an event up to
/// three times (the first run and two retries at most).
const WORKER_ATTEMPTS: u32 = 3;
/// The shortest job timeout: every attempt may run to its timeout, plus a minute for the retries'
/// queueing, so no job is marked failed while a worker may still finish it.
pub const MIN_JOB_TIMEOUT_SECONDS: u32 = WORKER_ATTEMPTS * WORKER_TIMEOUT_SECONDS + 60;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}; run from the workspace root or pass the settings path")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}; {fix}")]
    Yaml {
        path: PathBuf,
        source: serde_norway::Error,
        fix: &'static str,
    },
    #[error("{path}: stage `{stage}`, field `{field}`: {problem}; {fix}")]
    Invalid {
        path: PathBuf,
        stage: String,
        field: &'static str,
        problem: String,
        fix: String,
    },
    #[error(
        "stage name `{name}` is invalid: use 1 to 20 characters from a-z and 0-9, starting with a letter (e.g. `alice`); no `-`, so no stage's `mumble-{{stage}}-*` names can match another stage's resources"
    )]
    StageName { name: String },
    #[error(
        "{path}: stage `{TEMPLATE_STAGE}` is missing; add it: personal stages copy its settings"
    )]
    NoTemplateStage { path: PathBuf },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Architecture {
    #[default]
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
    Arm64,
}

impl Architecture {
    /// The name Lambda uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }

    /// The Rust target cargo-lambda builds for this architecture.
    pub fn rust_target(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64-unknown-linux-gnu",
            Architecture::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }
}

/// Which transcription and image providers the functions use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Providers {
    #[default]
    Openai,
    /// Deterministic stand-ins for development without network or keys.
    Offline,
}

impl Providers {
    pub fn as_str(self) -> &'static str {
        match self {
            Providers::Openai => "openai",
            Providers::Offline => "offline",
        }
    }
}

/// How a function's `live` alias moves to a new version: at once, or by CodeDeploy in steps with
/// the function's alarms able to stop it. Written `all-at-once`, `canary 10% 5m` or
/// `linear 10% every 1m`; only CodeDeploy's predefined Lambda configurations are accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrafficShifting {
    #[default]
    AllAtOnce,
    /// 10% for `minutes`, then the rest.
    Canary10Percent { minutes: u32 },
    /// 10% more every `minutes`.
    Linear10Percent { minutes: u32 },
}

impl TrafficShifting {
    const CANARY_MINUTES: [u32; 4] = [5, 10, 15, 30];
    const LINEAR_MINUTES: [u32; 4] = [1, 2, 3, 10];

    /// Reads the stages file's spelling; `None` for anything CodeDeploy has no configuration for.
    pub fn parse(text: &str) -> Option<TrafficShifting> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let minutes = |word: &str| word.strip_suffix('m')?.parse::<u32>().ok();
        match words.as_slice() {
            ["all-at-once"] => Some(TrafficShifting::AllAtOnce),
            ["canary", "10%", m] => minutes(m)
                .filter(|m| Self::CANARY_MINUTES.contains(m))
                .map(|minutes| TrafficShifting::Canary10Percent { minutes }),
            ["linear", "10%", "every", m] => minutes(m)
                .filter(|m| Self::LINEAR_MINUTES.contains(m))
                .map(|minutes| TrafficShifting::Linear10Percent { minutes }),
            _ => None,
        }
    }

    /// CodeDeploy's deployment configuration; `None` when the alias moves at once, without
    /// CodeDeploy.
    pub fn deployment_config(self) -> Option<String> {
        let plural = |m: u32| if m == 1 { "Minute" } else { "Minutes" };
        match self {
            TrafficShifting::AllAtOnce => None,
            TrafficShifting::Canary10Percent { minutes } => Some(format!(
                "CodeDeployDefault.LambdaCanary10Percent{minutes}{}",
                plural(minutes)
            )),
            TrafficShifting::Linear10Percent { minutes } => Some(format!(
                "CodeDeployDefault.LambdaLinear10PercentEvery{minutes}{}",
                plural(minutes)
            )),
        }
    }

    /// Seconds from the start of a deployment until all traffic is on the new version.
    pub fn total_seconds(self) -> u32 {
        match self {
            TrafficShifting::AllAtOnce => 0,
            TrafficShifting::Canary10Percent { minutes } => minutes * 60,
            TrafficShifting::Linear10Percent { minutes } => minutes * 60 * 9,
        }
    }
}

impl std::fmt::Display for TrafficShifting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrafficShifting::AllAtOnce => f.write_str("all-at-once"),
            TrafficShifting::Canary10Percent { minutes } => write!(f, "canary 10% {minutes}m"),
            TrafficShifting::Linear10Percent { minutes } => {
                write!(f, "linear 10% every {minutes}m")
            }
        }
    }
}

/// One stage as written in the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    region: String,
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    hosted_zone_id: Option<String>,
    #[serde(default)]
    architecture: Architecture,
    memory: RawMemory,
    log_retention_days: u32,
    #[serde(default)]
    alarm_email: Option<String>,
    #[serde(default)]
    alarm_topic_arn: Option<String>,
    #[serde(default)]
    ses_identity: Option<String>,
    cors_origins: Vec<String>,
    #[serde(default)]
    protected: bool,
    #[serde(default)]
    providers: Providers,
    #[serde(default)]
    access_logs: bool,
    #[serde(default)]
    github_repository: Option<String>,
    audio_retention_days: u32,
    max_audio_bytes: u64,
    job_timeout_seconds: u32,
    noncurrent_version_expiry_days: u32,
    max_generations_per_user_per_day: u32,
    max_provider_calls_per_day: u32,
    worker_reserved_concurrency: u32,
    #[serde(default = "default_release_retention")]
    release_retention: u32,
    #[serde(default)]
    traffic_shifting: Option<String>,
}

/// Releases kept per stage when `release_retention` is not given.
pub const DEFAULT_RELEASE_RETENTION: u32 = 20;

fn default_release_retention() -> u32 {
    DEFAULT_RELEASE_RETENTION
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMemory {
    default: u32,
    #[serde(default)]
    functions: IndexMap<String, u32>,
}

/// A custom domain for a stage's site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    pub name: String,
    /// When absent, DNS records (certificate validation, site alias) are made by hand.
    pub hosted_zone_id: Option<String>,
}

/// A fully checked stage: nothing downstream needs to validate it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    pub name: String,
    /// A stage not in the file, copied from `dev`.
    pub personal: bool,
    pub region: String,
    /// When set, deploys refuse to run against any other account.
    pub account_id: Option<String>,
    pub domain: Option<Domain>,
    pub architecture: Architecture,
    pub default_memory_mb: u32,
    pub function_memory_mb: IndexMap<String, u32>,
    pub log_retention_days: u32,
    pub alarm_email: Option<String>,
    /// An existing SNS topic the alarms also notify (e.g. one AWS Chatbot posts to a chat from).
    pub alarm_topic_arn: Option<String>,
    /// A verified SES identity (address or domain) Cognito sends its mail through.
    pub ses_identity: Option<String>,
    pub cors_origins: Vec<String>,
    /// Termination protection, Retain on stateful resources, no destroy.
    pub protected: bool,
    pub providers: Providers,
    pub access_logs: bool,
    /// `owner/repo` allowed to deploy this stage from GitHub Actions.
    pub github_repository: Option<String>,
    pub audio_retention_days: u32,
    pub max_audio_bytes: u64,
    pub job_timeout_seconds: u32,
    pub noncurrent_version_expiry_days: u32,
    /// Generations one user may start per UTC day.
    pub max_generations_per_user_per_day: u32,
    /// Paid provider calls (transcriptions and images) the whole stage may make per UTC day.
    pub max_provider_calls_per_day: u32,
    /// Worker instances that may run at once (reserved from the account's concurrency).
    pub worker_reserved_concurrency: u32,
    /// How many releases (`cargo xtask releases`) are kept; a rollback can reach any of them.
    pub release_retention: u32,
    /// How the functions' `live` aliases move to a new version.
    pub traffic_shifting: TrafficShifting,
}

impl Stage {
    /// Memory for one function, in MB.
    pub fn memory_mb(&self, function: &str) -> u32 {
        self.function_memory_mb
            .get(function)
            .copied()
            .unwrap_or(self.default_memory_mb)
    }

    /// `mumble-{stage}-{part}`.
    pub fn stack_name(&self, part: crate::Part) -> String {
        format!("mumble-{}-{}", self.name, part.as_str())
    }

    /// The local emulator stage.
    pub fn is_local(&self) -> bool {
        self.name == "local"
    }
}

/// All stages of the settings file, each already checked.
#[derive(Clone, Debug)]
pub struct Settings {
    path: PathBuf,
    stages: IndexMap<String, Stage>,
}

impl Settings {
    pub fn load(path: impl AsRef<Path>) -> Result<Settings, SettingsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Settings::parse(&text, path)
    }

    /// Parses and checks every stage; `path` only names the file in messages.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Settings, SettingsError> {
        let path = path.as_ref().to_owned();
        let raw: IndexMap<String, RawStage> =
            serde_norway::from_str(text).map_err(|source| SettingsError::Yaml {
                fix: yaml_fix(&source),
                path: path.clone(),
                source,
            })?;
        let mut stages = IndexMap::new();
        for (name, raw) in raw {
            check_name(&name)?;
            let stage = resolve(&path, &name, raw)?;
            stages.insert(name, stage);
        }
        if !stages.contains_key(TEMPLATE_STAGE) {
            return Err(SettingsError::NoTemplateStage { path });
        }
        Ok(Settings { path, stages })
    }

    /// The stages written in the file, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.stages.keys().map(String::as_str)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A stage from the file, or a personal stage copied from `dev` (no domain, not protected).
    pub fn stage(&self, name: &str) -> Result<Stage, SettingsError> {
        check_name(name)?;
        if let Some(stage) = self.stages.get(name) {
            return Ok(stage.clone());
        }
        let dev = &self.stages[TEMPLATE_STAGE];
        Ok(Stage {
            name: name.to_owned(),
            personal: true,
            domain: None,
            protected: false,
            // The deploy role trusts one repository per stage; a personal stage is deployed by hand.
            github_repository: None,
            ..dev.clone()
        })
    }
}

fn yaml_fix(error: &serde_norway::Error) -> &'static str {
    let message = error.to_string();
    if message.contains("unknown field") {
        "remove the field or correct its spelling"
    } else if message.contains("missing field") {
        "add the field to the stage (see the other stages for an example)"
    } else if message.contains("unknown variant") {
        "use one of the listed values"
    } else {
        "correct the value to the type shown"
    }
}

fn check_name(name: &str) -> Result<(), SettingsError> {
    let mut chars = name.chars();
    let valid = name.len() <= 20
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(SettingsError::StageName {
            name: name.to_owned(),
        })
    }
}

/// Collects the checks of one stage so each failure names its field and fix.
struct Checker<'a> {
    path: &'a Path,
    stage: &'a str,
}

impl Checker<'_> {
    fn check(
        &self,
        ok: bool,
        field: &'static str,
        problem: impl FnOnce() -> String,
        fix: impl FnOnce() -> String,
    ) -> Result<(), SettingsError> {
        if ok {
            return Ok(());
        }
        Err(SettingsError::Invalid {
            path: self.path.to_owned(),
            stage: self.stage.to_owned(),
            field,
            problem: problem(),
            fix: fix(),
        })
    }
}

fn resolve(path: &Path, name: &str, raw: RawStage) -> Result<Stage, SettingsError> {
    let c = Checker { path, stage: name };

    c.check(
        is_region(&raw.region),
        "region",
        || format!("`{}` is not an AWS region", raw.region),
        || "use a region code such as `us-east-1` or `eu-west-1`".into(),
    )?;
    if let Some(account) = &raw.account_id {
        c.check(
            account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
            "account_id",
            || format!("`{account}` is not a 12-digit AWS account id"),
            || "quote the 12 digits (e.g. \"123456789012\") or remove the field".into(),
        )?;
    }
    if let Some(domain) = &raw.domain {
        c.check(
            is_domain(domain),
            "domain",
            || format!("`{domain}` is not a lowercase domain name"),
            || "use a name such as `dev.mumble.app`, without scheme or trailing dot".into(),
        )?;
    }
    if let Some(zone) = &raw.hosted_zone_id {
        c.check(
            raw.domain.is_some(),
            "hosted_zone_id",
            || "a hosted zone is set but no domain".into(),
            || "add `domain` or remove `hosted_zone_id`".into(),
        )?;
        c.check(
            zone.starts_with('Z')
                && zone.len() <= 32
                && zone
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
            "hosted_zone_id",
            || format!("`{zone}` is not a Route 53 hosted zone id"),
            || "copy the id (it starts with `Z`) from the Route 53 console".into(),
        )?;
    }
    for (field, mb) in std::iter::once(("default", raw.memory.default))
        .chain(raw.memory.functions.iter().map(|(f, mb)| (f.as_str(), *mb)))
    {
        c.check(
            (128..=10240).contains(&mb),
            "memory",
            || format!("{mb} MB for `{field}` is outside Lambda's range"),
            || "use a value from 128 to 10240".into(),
        )?;
    }
    for function in raw.memory.functions.keys() {
        c.check(
            FUNCTIONS.iter().any(|f| f.name == function),
            "memory",
            || format!("`{function}` is not a function"),
            || {
                let names: Vec<_> = FUNCTIONS.iter().map(|f| f.name).collect();
                format!("use one of: {}", names.join(", "))
            },
        )?;
    }
    c.check(
        LOG_RETENTION_DAYS.contains(&raw.log_retention_days),
        "log_retention_days",
        || {
            format!(
                "{} is not a retention CloudWatch Logs accepts",
                raw.log_retention_days
            )
        },
        || format!("use one of {LOG_RETENTION_DAYS:?}"),
    )?;
    if let Some(email) = &raw.alarm_email {
        c.check(
            is_email(email),
            "alarm_email",
            || format!("`{email}` is not an e-mail address"),
            || "use an address such as `ops@example.com` or remove the field".into(),
        )?;
    }
    if let Some(topic) = &raw.alarm_topic_arn {
        c.check(
            is_sns_topic_arn(topic),
            "alarm_topic_arn",
            || format!("`{topic}` is not an SNS topic ARN"),
            || "use `arn:aws:sns:{region}:{account}:{topic}` or remove the field".into(),
        )?;
    }
    c.check(
        !raw.protected || raw.alarm_email.is_some() || raw.alarm_topic_arn.is_some(),
        "alarm_email",
        || "a protected stage has no alarm subscriber, so its alarms would reach nobody".into(),
        || {
            "set `alarm_email` (confirm the first e-mail) or `alarm_topic_arn` (an existing SNS \
             topic, e.g. one AWS Chatbot posts to your chat from)"
                .into()
        },
    )?;
    if let Some(identity) = &raw.ses_identity {
        c.check(
            is_email(identity) || is_domain(identity),
            "ses_identity",
            || format!("`{identity}` is neither an e-mail address nor a domain"),
            || "use the verified SES identity, e.g. `mumble.app` or `no-reply@mumble.app`".into(),
        )?;
    }
    c.check(
        (1..=1000).contains(&raw.max_generations_per_user_per_day),
        "max_generations_per_user_per_day",
        || {
            format!(
                "{} generations a day per user is outside 1 to 1000",
                raw.max_generations_per_user_per_day
            )
        },
        || "use 1 to 1000 (each generation is a paid transcription and image)".into(),
    )?;
    c.check(
        raw.max_provider_calls_per_day >= PROVIDER_CALLS_PER_GENERATION,
        "max_provider_calls_per_day",
        || {
            format!(
                "{} calls a day is less than one generation ({PROVIDER_CALLS_PER_GENERATION} calls)",
                raw.max_provider_calls_per_day
            )
        },
        || format!("use {PROVIDER_CALLS_PER_GENERATION} or more"),
    )?;
    c.check(
        (1..=1000).contains(&raw.worker_reserved_concurrency),
        "worker_reserved_concurrency",
        || {
            format!(
                "{} concurrent workers is outside 1 to 1000",
                raw.worker_reserved_concurrency
            )
        },
        || "use 1 to 1000, and leave the account at least 100 unreserved".into(),
    )?;
    c.check(
        !raw.cors_origins.is_empty(),
        "cors_origins",
        || "no origin is allowed, so the site could not call the API".into(),
        || "list the site's origins, e.g. [\"https://mumble.app\"]".into(),
    )?;
    for origin in &raw.cors_origins {
        if origin == "*" {
            c.check(
                OPEN_CORS_STAGES.contains(&name),
                "cors_origins",
                || "`*` lets any web site call this stage's API".into(),
                || "list the site's origins, e.g. [\"https://staging.mumble.app\"]".into(),
            )?;
        } else {
            c.check(
                is_origin(origin),
                "cors_origins",
                || format!("`{origin}` is not an origin"),
                || "use `https://host[:port]` without path or trailing slash (`http://` only for 127.0.0.1 and localhost)".into(),
            )?;
        }
    }
    c.check(
        !(raw.protected && raw.providers == Providers::Offline),
        "providers",
        || "a protected stage would serve offline stand-in images".into(),
        || "use `openai`".into(),
    )?;
    if let Some(repository) = &raw.github_repository {
        c.check(
            is_repository(repository),
            "github_repository",
            || format!("`{repository}` is not a GitHub repository"),
            || "use `owner/repo`".into(),
        )?;
    }
    c.check(
        raw.audio_retention_days >= 1,
        "audio_retention_days",
        || "0 days would delete uploads before they are used".into(),
        || "use 1 or more".into(),
    )?;
    c.check(
        (1..=5 * 1024 * 1024 * 1024).contains(&raw.max_audio_bytes),
        "max_audio_bytes",
        || {
            format!(
                "{} bytes cannot be uploaded in one PUT",
                raw.max_audio_bytes
            )
        },
        || "use 1 to 5368709120 (5 GiB); the API default is 10485760".into(),
    )?;
    c.check(
        (MIN_JOB_TIMEOUT_SECONDS..=21600).contains(&raw.job_timeout_seconds),
        "job_timeout_seconds",
        || {
            if raw.job_timeout_seconds < MIN_JOB_TIMEOUT_SECONDS {
                format!(
                    "{} s would fail jobs the worker may still finish: it may run {WORKER_ATTEMPTS} attempts of {WORKER_TIMEOUT_SECONDS} s",
                    raw.job_timeout_seconds
                )
            } else {
                format!(
                    "{} s would keep failed jobs waiting longer than Lambda keeps their events (6 hours)",
                    raw.job_timeout_seconds
                )
            }
        },
        || format!("use {MIN_JOB_TIMEOUT_SECONDS} to 21600"),
    )?;
    c.check(
        raw.noncurrent_version_expiry_days >= 1,
        "noncurrent_version_expiry_days",
        || "0 days is not accepted by S3".into(),
        || "use 1 or more".into(),
    )?;
    c.check(
        raw.release_retention >= 2,
        "release_retention",
        || "a rollback needs the release before the current one".into(),
        || "use 2 or more".into(),
    )?;
    let shifting = raw.traffic_shifting.as_deref().unwrap_or("all-at-once");
    let traffic_shifting = TrafficShifting::parse(shifting);
    c.check(
        traffic_shifting.is_some(),
        "traffic_shifting",
        || format!("`{shifting}` is not one of CodeDeploy's Lambda configurations"),
        || "use `all-at-once`, `canary 10% Nm` (N: 5, 10, 15, 30) or `linear 10% every Nm` (N: 1, 2, 3, 10)".into(),
    )?;
    let traffic_shifting = traffic_shifting.unwrap_or_default();
    c.check(
        raw.protected || traffic_shifting == TrafficShifting::AllAtOnce,
        "traffic_shifting",
        || format!("`{shifting}` needs `protected: true`: an unprotected stage may be hotswapped, which moves `live` past CodeDeploy"),
        || "use `all-at-once`, or protect the stage".into(),
    )?;

    Ok(Stage {
        name: name.to_owned(),
        personal: false,
        region: raw.region,
        account_id: raw.account_id,
        domain: raw.domain.map(|name| Domain {
            name,
            hosted_zone_id: raw.hosted_zone_id,
        }),
        architecture: raw.architecture,
        default_memory_mb: raw.memory.default,
        function_memory_mb: raw.memory.functions,
        log_retention_days: raw.log_retention_days,
        alarm_email: raw.alarm_email,
        alarm_topic_arn: raw.alarm_topic_arn,
        ses_identity: raw.ses_identity,
        cors_origins: raw.cors_origins,
        protected: raw.protected,
        providers: raw.providers,
        access_logs: raw.access_logs,
        github_repository: raw.github_repository,
        audio_retention_days: raw.audio_retention_days,
        max_audio_bytes: raw.max_audio_bytes,
        job_timeout_seconds: raw.job_timeout_seconds,
        noncurrent_version_expiry_days: raw.noncurrent_version_expiry_days,
        max_generations_per_user_per_day: raw.max_generations_per_user_per_day,
        max_provider_calls_per_day: raw.max_provider_calls_per_day,
        worker_reserved_concurrency: raw.worker_reserved_concurrency,
        release_retention: raw.release_retention,
        traffic_shifting,
    })
}

fn is_sns_topic_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.split(':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && is_region(parts[3])
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && !parts[5].is_empty()
        && parts[5].len() <= 256
        && parts[5]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    (3..=4).contains(&parts.len())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn is_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((user, host)) => {
            !user.is_empty() && !email.contains(char::is_whitespace) && is_domain(host)
        }
        None => false,
    }
}

fn is_origin(origin: &str) -> bool {
    let (scheme, rest) = match origin.split_once("://") {
        Some(parts) => parts,
        None => return false,
    };
    let host = match rest.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => host,
        _ => rest,
    };
    let loopback = host == "127.0.0.1" || host == "localhost";
    match scheme {
        "https" => loopback || is_domain(host),
        "http" => loopback,
        _ => false,
    }
}

fn is_repository(repository: &str) -> bool {
    let valid = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    matches!(repository.split_once('/'), Some((owner, repo)) if valid(owner) && valid(repo))
}
