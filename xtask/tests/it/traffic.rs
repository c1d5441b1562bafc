//! Traffic shifting end to end: the real binary deploys to the emulator a protected stage of its
//! own (a stages file naming it, `canary 10% 5m`) and a personal stage (`all-at-once`); each
//! function's `live` alias and versions are read back, and the deploy's report of the CodeDeploy
//! deployments is checked against deployments whose end the test sets (the emulator shifts no
//! traffic: see xtask/emulator/README.md).

use std::path::PathBuf;
use std::process::Output;

use aws_config::SdkConfig;

use crate::deploy::{TestStage, endpoint, json_of, workspace_root};
use crate::releases::config;

/// A stages file: the repository's, plus this test's protected stage.
fn stages_file(stage: &TestStage) -> PathBuf {
    let mut text = std::fs::read_to_string(workspace_root().join("stacks/stages.yaml")).unwrap();
    text.push_str(&format!(
        "\n{}:
  region: us-east-1
  memory:
    default: 256
  log_retention_days: 1
  alarm_email: alarms@example.com
  cors_origins: [\"https://example.com\"]
  protected: true
  audio_retention_days: 1
  max_audio_bytes: 10485760
  job_timeout_seconds: 960
  noncurrent_version_expiry_days: 1
  max_generations_per_user_per_day: 10
  max_provider_calls_per_day: 100
  worker_reserved_concurrency: 2
  traffic_shifting: canary 10% 5m
",
        stage.name
    ));
    let path = stage.dir.path().join("stages.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn deploy(stage: &TestStage, stages: &PathBuf) -> Output {
    deploy_with(stage, stages, &[])
}

fn deploy_with(stage: &TestStage, stages: &PathBuf, extra: &[&str]) -> Output {
    stage
        .command(&[
            "deploy",
            "--stage",
            &stage.name,
            "--yes",
            "--output",
            "json",
        ])
        .args(extra)
        .env("MUMBLE_STAGES_FILE", stages)
        .output()
        .expect("run the xtask binary")
}

/// How the emulator ends the next CodeDeploy deployment of `group`.
async fn next_deployment_ends(outcome: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/mumble-api/codedeploy/outcome", endpoint()))
        .json(&outcome)
        .send()
        .await
        .expect("the emulator answers");
    assert!(response.status().is_success(), "{response:?}");
}

/// The version `live` points at, and whether it runs the function's current code.
async fn live(config: &SdkConfig, function: &str) -> (String, bool) {
    let lambda = aws_sdk_lambda::Client::new(config);
    let alias = lambda
        .get_alias()
        .function_name(function)
        .name("live")
        .send()
        .await
        .unwrap_or_else(|error| panic!("{function}:live: {error:?}"));
    let sha = |qualifier: Option<&str>| {
        let lambda = lambda.clone();
        let qualifier = qualifier.map(str::to_owned);
        async move {
            lambda
                .get_function_configuration()
                .function_name(function)
                .set_qualifier(qualifier)
                .send()
                .await
                .unwrap()
                .code_sha256()
                .unwrap()
                .to_owned()
        }
    };
    let current = sha(None).await == sha(Some("live")).await;
    (alias.function_version().unwrap().to_owned(), current)
}

/// The statuses of a deployment group's deployments, oldest first, with who made each.
async fn deployments(config: &SdkConfig, application: &str, group: &str) -> Vec<(String, String)> {
    let codedeploy = aws_sdk_codedeploy::Client::new(config);
    let ids = codedeploy
        .list_deployments()
        .application_name(application)
        .deployment_group_name(group)
        .send()
        .await
        .unwrap()
        .deployments
        .unwrap_or_default();
    let mut found = Vec::new();
    for id in ids {
        let info = codedeploy
            .get_deployment()
            .deployment_id(id)
            .send()
            .await
            .unwrap()
            .deployment_info
            .unwrap();
        found.push((
            info.create_time().map(|t| (t.secs(), t.subsec_nanos())),
            info.status().unwrap().as_str().to_owned(),
            info.creator().unwrap().as_str().to_owned(),
        ));
    }
    found.sort();
    found.into_iter().map(|(_, s, c)| (s, c)).collect()
}

#[tokio::test]
async fn a_protected_stage_shifts_through_codedeploy_and_the_deploy_says_how_each_shift_ended() {
    let config = config().await;
    let stage = TestStage::new();
    let stages = stages_file(&stage);
    let application = format!("mumble-{}-functions", stage.name);
    let worker = format!("mumble-{}-worker", stage.name);
    let gallery = format!("mumble-{}-gallery", stage.name);

    json_of(&deploy(&stage, &stages), "the first deploy");
    // One group per function, stopped by the function's error and throttle alarms.
    let codedeploy = aws_sdk_codedeploy::Client::new(&config);
    let groups = codedeploy
        .list_deployment_groups()
        .application_name(&application)
        .send()
        .await
        .unwrap()
        .deployment_groups
        .unwrap_or_default();
    assert_eq!(groups.len(), crate::deploy::FUNCTIONS.len(), "{groups:?}");
    let group = codedeploy
        .get_deployment_group()
        .application_name(&application)
        .deployment_group_name(&worker)
        .send()
        .await
        .unwrap()
        .deployment_group_info
        .unwrap();
    assert_eq!(
        group.deployment_config_name(),
        Some("CodeDeployDefault.LambdaCanary10Percent5Minutes")
    );
    let alarms: Vec<&str> = group
        .alarm_configuration()
        .unwrap()
        .alarms()
        .iter()
        .filter_map(|alarm| alarm.name())
        .collect();
    assert_eq!(
        alarms,
        [format!("{worker}-errors"), format!("{worker}-throttles")]
    );
    assert_eq!(live(&config, &worker).await, ("1".to_owned(), true));
    assert!(deployments(&config, &application, &worker).await.is_empty());

    // New worker code: the dry run says CodeDeploy will move worker's `live` gradually; the
    // deploy makes one deployment, succeeded, and `live` is on the new version.
    stage.set_code("worker", "v2");
    let plan = json_of(
        &deploy_with(&stage, &stages, &["--dry-run"]),
        "the dry run of new worker code",
    );
    assert_eq!(
        (&plan["traffic"]["functions"], &plan["traffic"]["minutes"]),
        (&serde_json::json!(["worker"]), &serde_json::json!(5)),
        "{plan:#}"
    );
    let output = deploy(&stage, &stages);
    let stderr = String::from_utf8_lossy(&output.stderr);
    json_of(&output, "the deploy of new worker code");
    assert!(
        stderr.contains("worker: 100% on the new version"),
        "{stderr}"
    );
    assert_eq!(live(&config, &worker).await, ("2".to_owned(), true));
    assert_eq!(
        deployments(&config, &application, &worker).await,
        [("Succeeded".to_owned(), "user".to_owned())]
    );

    // Stopped by the worker's error alarm: the deploy names both and fails; `live` stays.
    next_deployment_ends(serde_json::json!({
        "deploymentGroup": worker,
        "status": "Stopped",
        "alarm": format!("{worker}-errors"),
    }))
    .await;
    stage.set_code("worker", "v3");
    let output = deploy(&stage, &stages);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "traffic shifting of worker was stopped by alarm {worker}-errors"
        )),
        "{stderr}"
    );
    assert_eq!(live(&config, &worker).await.0, "2");
    assert_eq!(
        deployments(&config, &application, &worker).await,
        [
            ("Succeeded".to_owned(), "user".to_owned()),
            ("Stopped".to_owned(), "user".to_owned()),
            ("Succeeded".to_owned(), "codeDeployRollback".to_owned()),
        ]
    );

    // A failed deployment (no alarm): the deploy names the function and CodeDeploy's reason.
    stage.set_code("worker", "v2");
    next_deployment_ends(serde_json::json!({
        "deploymentGroup": gallery,
        "status": "Failed",
        "message": "the AfterAllowTraffic hook failed",
    }))
    .await;
    stage.set_code("gallery", "v2");
    let output = deploy(&stage, &stages);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("traffic shifting of gallery failed")
            && stderr.contains("the AfterAllowTraffic hook failed"),
        "{stderr}"
    );
    assert_eq!(live(&config, &gallery).await.0, "1");
}

#[tokio::test]
async fn an_unprotected_stage_moves_live_at_once_and_a_hotswap_moves_it_too() {
    let config = config().await;
    let stage = TestStage::new();
    let health = format!("mumble-{}-health", stage.name);
    assert_eq!(stage.deploy()["release"], 1);
    assert_eq!(live(&config, &health).await, ("1".to_owned(), true));

    stage.set_code("health", "v2");
    stage.deploy();
    assert_eq!(live(&config, &health).await, ("2".to_owned(), true));
    // No CodeDeploy: the alias just moved.
    let applications = aws_sdk_codedeploy::Client::new(&config)
        .list_applications()
        .send()
        .await
        .unwrap()
        .applications
        .unwrap_or_default();
    assert!(
        !applications.contains(&format!("mumble-{}-functions", stage.name)),
        "{applications:?}"
    );

    stage.set_code("health", "v3");
    let output = stage.xtask(&[
        "deploy",
        "--stage",
        &stage.name,
        "--yes",
        "--hotswap",
        "--output",
        "json",
    ]);
    json_of(&output, "deploy --hotswap");
    assert_eq!(live(&config, &health).await, ("3".to_owned(), true));
}
