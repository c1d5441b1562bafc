//! Stage settings: the real file loads, personal stages copy dev, and mistakes get clear errors.

use std::path::Path;

use stacks::settings::{Architecture, DEFAULT_PATH, Providers};
use stacks::{Settings, SettingsError};

use crate::settings;

const DEV: &str = "\
dev:
  region: us-east-1
  memory:
    default: 256
  log_retention_days: 14
  cors_origins: [\"*\"]
  audio_retention_days: 7
  max_audio_bytes: 10485760
  job_timeout_seconds: 960
  noncurrent_version_expiry_days: 7
  max_generations_per_user_per_day: 20
  max_provider_calls_per_day: 200
  worker_reserved_concurrency: 5
";

/// `DEV` plus one stage (`stage_yaml`), parsed; returns the error message.
fn error(extra: &str) -> String {
    let text = format!("{DEV}{extra}");
    match Settings::parse(&text, "stacks/stages.yaml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(error) => error.to_string(),
    }
}

fn staging(fields: &str) -> String {
    format!(
        "staging:\n  region: us-east-1\n  memory:\n    default: 256\n  audio_retention_days: 7\n  \
         max_audio_bytes: 10485760\n  job_timeout_seconds: 960\n  noncurrent_version_expiry_days: 7\n  \
         max_generations_per_user_per_day: 20\n  max_provider_calls_per_day: 200\n  \
         worker_reserved_concurrency: 5\n{fields}"
    )
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
}

#[test]
fn the_stage_file_defines_the_four_stages() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(DEFAULT_PATH);
    let settings = Settings::load(&path).unwrap();
    assert_eq!(
        settings.names().collect::<Vec<_>>(),
        ["local", "dev", "staging", "prod"]
    );
    let prod = settings.stage("prod").unwrap();
    assert!(prod.protected);
    assert_eq!(prod.domain.unwrap().name, "mumble.app");
    assert_eq!(prod.cors_origins, ["https://mumble.app"]);
    let staging = settings.stage("staging").unwrap();
    assert!(!staging.protected);
    assert_eq!(staging.domain.unwrap().name, "staging.mumble.app");
    let dev = settings.stage("dev").unwrap();
    assert_eq!(dev.domain.unwrap().name, "dev.mumble.app");
    assert_eq!(dev.architecture, Architecture::X86_64);
    let local = settings.stage("local").unwrap();
    assert!(local.domain.is_none());
    assert_eq!(local.providers, Providers::Offline);
    assert_eq!(
        local.cors_origins,
        ["*"],
        "the local gateway may run on any port"
    );
    for name in ["dev", "staging", "prod"] {
        assert_eq!(settings.stage(name).unwrap().providers, Providers::Openai);
    }
}

#[test]
fn a_personal_stage_inherits_dev_without_domain_or_protection() {
    let settings = settings();
    let dev = settings.stage("dev").unwrap();
    let alice = settings.stage("alice").unwrap();
    assert!(alice.personal);
    assert_eq!(alice.name, "alice");
    assert_eq!(alice.domain, None);
    assert!(!alice.protected);
    assert_eq!(alice.region, dev.region);
    assert_eq!(alice.cors_origins, dev.cors_origins);
    assert_eq!(alice.memory_mb("worker"), dev.memory_mb("worker"));
    assert_eq!(alice.log_retention_days, dev.log_retention_days);
    assert_eq!(alice.job_timeout_seconds, dev.job_timeout_seconds);
}

#[test]
fn an_invalid_stage_name_is_refused_with_the_rule() {
    let settings = settings();
    for name in [
        "Alice",
        "alice!",
        "9lives",
        "",
        "a-name-much-longer-than-twenty",
        // `dev`'s `mumble-dev-*` names would cover this stage's `mumble-dev-x-*` ones.
        "dev-x",
    ] {
        let message = settings.stage(name).unwrap_err().to_string();
        assert_mentions(&message, &[&format!("`{name}`"), "a-z and 0-9", "no `-`"]);
    }
    assert!(settings.stage("alice2").is_ok());
}

#[test]
fn a_protected_stage_without_an_alarm_subscriber_is_refused_before_anything_runs() {
    let message = error(&staging(
        "  log_retention_days: 14\n  cors_origins: [\"https://staging.mumble.app\"]\n  protected: true\n",
    ));
    assert_mentions(
        &message,
        &[
            "`staging`",
            "`alarm_email`",
            "alarms would reach nobody",
            "`alarm_topic_arn`",
        ],
    );
    for subscriber in [
        "  alarm_email: ops@mumble.app\n",
        "  alarm_topic_arn: arn:aws:sns:us-east-1:123456789012:chat-alarms\n",
    ] {
        let text = format!(
            "{DEV}{}",
            staging(&format!(
                "  log_retention_days: 14\n  cors_origins: [\"https://staging.mumble.app\"]\n  protected: true\n{subscriber}"
            ))
        );
        let settings = Settings::parse(&text, "stacks/stages.yaml").unwrap();
        assert!(settings.stage("staging").unwrap().protected, "{subscriber}");
    }
    // Every protected stage of the real file has one.
    let settings = settings();
    for name in settings.names() {
        let stage = settings.stage(name).unwrap();
        if stage.protected {
            assert!(
                stage.alarm_email.is_some() || stage.alarm_topic_arn.is_some(),
                "{name}"
            );
        }
    }
}

#[test]
fn an_unknown_field_names_file_stage_field_and_fix() {
    let message = error(&staging(
        "  log_retention_days: 14\n  cors_origins: [\"https://staging.mumble.app\"]\n  regoin: eu-west-1\n",
    ));
    assert_mentions(
        &message,
        &[
            "stacks/stages.yaml",
            "staging",
            "regoin",
            "remove the field or correct its spelling",
        ],
    );
}

#[test]
fn a_missing_field_names_it_and_says_to_add_it() {
    let message = error(&staging(
        "  cors_origins: [\"https://staging.mumble.app\"]\n",
    ));
    assert_mentions(
        &message,
        &[
            "stacks/stages.yaml",
            "staging",
            "log_retention_days",
            "add the field",
        ],
    );
}

#[test]
fn a_log_retention_cloudwatch_refuses_is_an_error_listing_the_allowed_values() {
    let message = error(&staging(
        "  log_retention_days: 13\n  cors_origins: [\"https://staging.mumble.app\"]\n",
    ));
    assert_mentions(
        &message,
        &[
            "stacks/stages.yaml",
            "`staging`",
            "`log_retention_days`",
            "13",
            "use one of [1, 3, 5, 7, 14",
        ],
    );
}

#[test]
fn wildcard_cors_outside_dev_is_refused() {
    let message = error(&staging(
        "  log_retention_days: 14\n  cors_origins: [\"*\"]\n",
    ));
    assert_mentions(
        &message,
        &[
            "`staging`",
            "`cors_origins`",
            "`*`",
            "list the site's origins",
        ],
    );
    let message = error(&staging(
        "  log_retention_days: 14\n  cors_origins: [\"http://staging.mumble.app\"]\n",
    ));
    assert_mentions(
        &message,
        &["`cors_origins`", "http://staging.mumble.app", "https://"],
    );
}

#[test]
fn bad_values_name_their_field() {
    let cases = [
        ("  architecture: arm\n", "architecture", "arm64"),
        ("  region: moon-1\n", "region", "us-east-1"),
        ("  memory: { default: 64 }\n", "memory", "128 to 10240"),
        (
            "  memory: { default: 256, functions: { wroker: 512 } }\n",
            "memory",
            "image-processor",
        ),
        (
            "  job_timeout_seconds: 100\n",
            "job_timeout_seconds",
            "960 to 21600",
        ),
        ("  hosted_zone_id: Z123\n", "hosted_zone_id", "add `domain`"),
        ("  alarm_email: ops\n", "alarm_email", "ops@example.com"),
        (
            "  github_repository: mumble\n",
            "github_repository",
            "owner/repo",
        ),
        (
            "  alarm_topic_arn: chat\n",
            "alarm_topic_arn",
            "arn:aws:sns:",
        ),
        ("  ses_identity: not mail\n", "ses_identity", "mumble.app"),
        (
            "  max_generations_per_user_per_day: 0\n",
            "max_generations_per_user_per_day",
            "1 to 1000",
        ),
        (
            "  max_provider_calls_per_day: 1\n",
            "max_provider_calls_per_day",
            "use 2 or more",
        ),
        (
            "  worker_reserved_concurrency: 0\n",
            "worker_reserved_concurrency",
            "1 to 1000",
        ),
    ];
    for (line, field, fix) in cases {
        let key = line.trim_start().split(':').next().unwrap();
        let base = [
            ("region", "us-east-1"),
            ("memory", "{ default: 256 }"),
            ("log_retention_days", "14"),
            ("cors_origins", "[\"https://x.example\"]"),
            ("audio_retention_days", "7"),
            ("max_audio_bytes", "1000"),
            ("job_timeout_seconds", "960"),
            ("noncurrent_version_expiry_days", "7"),
            ("max_generations_per_user_per_day", "20"),
            ("max_provider_calls_per_day", "200"),
            ("worker_reserved_concurrency", "5"),
        ];
        let mut text = String::from("dev2:\n");
        for (name, value) in base.into_iter().filter(|(name, _)| *name != key) {
            text.push_str(&format!("  {name}: {value}\n"));
        }
        text.push_str(line);
        let message = error(&text);
        assert_mentions(&message, &["dev2", field, fix]);
    }
}

#[test]
fn a_missing_file_says_where_it_looked() {
    let error = Settings::load("/nonexistent/stages.yaml").unwrap_err();
    assert!(matches!(error, SettingsError::Read { .. }));
    assert_mentions(
        &error.to_string(),
        &["/nonexistent/stages.yaml", "workspace root"],
    );
}

/// A stage whose `job_timeout_seconds` is `seconds`, parsed.
fn with_job_timeout(seconds: u32) -> Result<Settings, SettingsError> {
    let text = DEV.replace(
        "job_timeout_seconds: 960",
        &format!("job_timeout_seconds: {seconds}"),
    );
    Settings::parse(&text, "stacks/stages.yaml")
}

#[test]
fn a_job_timeout_shorter_than_the_workers_attempts_is_refused_with_the_fix() {
    // The worker may run three attempts of 300 s: at 600 s a job still being worked on would be
    // marked failed.
    let message = with_job_timeout(959).unwrap_err().to_string();
    assert_mentions(
        &message,
        &[
            "dev",
            "job_timeout_seconds",
            "959",
            "3 attempts of 300 s",
            "use 960 to 21600",
        ],
    );
    assert!(with_job_timeout(600).is_err());
    assert_eq!(
        with_job_timeout(960)
            .unwrap()
            .stage("dev")
            .unwrap()
            .job_timeout_seconds,
        960
    );
}

#[test]
fn every_stage_lets_every_worker_attempt_run_to_its_timeout() {
    let worker = stacks::functions::function("worker").unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(DEFAULT_PATH);
    let settings = Settings::load(&path).unwrap();
    for name in settings.names() {
        let stage = settings.stage(name).unwrap();
        assert!(
            stage.job_timeout_seconds >= 3 * worker.timeout_seconds,
            "{name}: {} s is shorter than 3 worker attempts of {} s",
            stage.job_timeout_seconds,
            worker.timeout_seconds
        );
    }
}

#[test]
fn traffic_shifting_is_one_of_codedeploys_configurations_and_only_in_protected_stages() {
    let protected = |shifting: &str| {
        staging(&format!(
            "  log_retention_days: 14\n  cors_origins: [\"https://staging.mumble.app\"]\n  \
             protected: true\n  alarm_email: ops@mumble.app\n  traffic_shifting: {shifting}\n"
        ))
    };
    for (written, config) in [
        (
            "canary 10% 5m",
            "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        ),
        (
            "canary 10% 30m",
            "CodeDeployDefault.LambdaCanary10Percent30Minutes",
        ),
        (
            "linear 10% every 1m",
            "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        ),
        (
            "linear 10% every 10m",
            "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
        ),
    ] {
        let text = format!("{DEV}{}", protected(written));
        let stage = Settings::parse(&text, "stacks/stages.yaml")
            .unwrap()
            .stage("staging")
            .unwrap();
        assert_eq!(
            stage.traffic_shifting.deployment_config().as_deref(),
            Some(config)
        );
        assert_eq!(stage.traffic_shifting.to_string(), written);
    }
    assert_mentions(
        &error(&protected("canary 20% 5m")),
        &["`traffic_shifting`", "`canary 20% 5m`", "canary 10% Nm"],
    );
    assert_mentions(
        &error(&staging(
            "  log_retention_days: 14\n  cors_origins: [\"https://staging.mumble.app\"]\n  \
             traffic_shifting: canary 10% 5m\n",
        )),
        &["`traffic_shifting`", "protected: true", "hotswap"],
    );
    // prod shifts through CodeDeploy; every other stage of the file, and a personal one, at once.
    let settings = settings();
    for name in settings.names().chain(["alice"]) {
        let stage = settings.stage(name).unwrap();
        assert_eq!(
            stage.traffic_shifting.deployment_config().is_some(),
            name == "prod",
            "{name}"
        );
    }
}
