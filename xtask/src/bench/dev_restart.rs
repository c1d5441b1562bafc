//! `cargo xtask bench dev-restart`: how long `cargo xtask dev` takes to come back with 10,000
//! changes behind it, after a clean stop and after SIGKILL, and whether every change is still there.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use futures::StreamExt as _;
use serde_json::{Value, json};

use super::gateway::{Group, wait_for_health};
use super::{Context, Row};
use crate::process::free_port;
use crate::ui;

const CHANGES: usize = 10_000;
const WORKERS: usize = 16;
const TABLE: &str = "bench-restart";
/// The goal: back up in at most this long, whatever the history.
const RESTART_GOAL_MS: f64 = 10_000.0;

pub async fn run(_context: Context) -> Result<Vec<Row>> {
    let folder = tempfile::tempdir().context("cannot create a data folder")?;
    let data = folder.path().join("data");
    let (port, emulator_port) = (free_port()?, free_port()?);
    let base = format!("http://127.0.0.1:{port}");
    let emulator = format!("http://127.0.0.1:{emulator_port}");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(WORKERS)
        .build()
        .context("cannot build an HTTP client")?;
    let start = |name: &str| -> Result<Group> {
        let mut command =
            Command::new(std::env::current_exe().context("cannot find xtask itself")?);
        command
            .args(["dev", "--port", &port.to_string()])
            .args(["--emulator-port", &emulator_port.to_string()])
            .arg("--data-dir")
            .arg(&data);
        Group::spawn(command, &folder.path().join(format!("{name}.log")))
    };
    let health = format!("{base}/api/v1/health");
    // Up means this `dev` says so: a gateway left by the one before may still answer health for
    // a moment after a SIGKILL, and must not count as the restart.
    let up = |dev: &mut Group| -> Result<()> {
        let started = Instant::now();
        while !dev.log_contains("Mumble is up") {
            dev.check_running()?;
            if started.elapsed() > Duration::from_secs(120) {
                bail!("`cargo xtask dev` did not come up:\n{}", dev.log_tail());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    };

    ui::info("starting `cargo xtask dev` (the first start deploys the local stage)");
    let mut dev = start("first")?;
    wait_for_health(&client, &mut dev, &health).await?;
    dynamodb(
        &client,
        &emulator,
        "CreateTable",
        json!({"TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
               "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}),
    )
    .await?;
    ui::info(format!("{CHANGES} changes, {WORKERS} at a time"));
    let written = Instant::now();
    write_items(&client, &emulator, 0..CHANGES).await?;
    let write_rate = CHANGES as f64 / written.elapsed().as_secs_f64();
    dev.stop();

    let mut rows = Vec::new();
    let started = Instant::now();
    let mut dev = start("after-stop")?;
    up(&mut dev)?;
    rows.push(
        Row::millis(
            format!("restart after {CHANGES} changes and a clean stop"),
            started.elapsed(),
        )
        .at_most(RESTART_GOAL_MS),
    );
    let found = count(&client, &emulator).await?;
    rows.push(Row::new("changes found after it", found as f64, "items").at_least(CHANGES as f64));

    // Half as many again, then SIGKILL: no clean stop, the emulator saves when it notices.
    let more = CHANGES / 2;
    write_items(&client, &emulator, CHANGES..CHANGES + more).await?;
    dev.kill_leader();
    let started = Instant::now();
    let mut dev = start("after-kill")?;
    up(&mut dev)?;
    rows.push(
        Row::millis(
            format!("restart after {} changes and SIGKILL", CHANGES + more),
            started.elapsed(),
        )
        .at_most(RESTART_GOAL_MS),
    );
    let found = count(&client, &emulator).await?;
    rows.push(
        Row::new("changes found after it", found as f64, "items").at_least((CHANGES + more) as f64),
    );
    rows.push(Row::new(
        "changes per second while logging",
        write_rate,
        "req/s",
    ));
    dev.check_running()?;
    dev.stop();
    Ok(rows)
}

async fn write_items(
    client: &reqwest::Client,
    emulator: &str,
    range: std::ops::Range<usize>,
) -> Result<()> {
    let results: Vec<Result<Value>> = futures::stream::iter(range)
        .map(|n| {
            dynamodb(
                client,
                emulator,
                "PutItem",
                json!({"TableName": TABLE,
                       "Item": {"pk": {"S": format!("item-{n:05}")}, "n": {"N": n.to_string()}}}),
            )
        })
        .buffer_unordered(WORKERS)
        .collect()
        .await;
    if let Some(error) = results.into_iter().find_map(Result::err) {
        return Err(error.context("a write to the emulator failed"));
    }
    Ok(())
}

/// Items in the bench's table, counted page by page.
async fn count(client: &reqwest::Client, emulator: &str) -> Result<u64> {
    let mut total = 0;
    let mut start: Option<Value> = None;
    loop {
        let mut request = json!({"TableName": TABLE, "Select": "COUNT"});
        if let Some(key) = start.take() {
            request["ExclusiveStartKey"] = key;
        }
        let page = dynamodb(client, emulator, "Scan", request).await?;
        total += page["Count"].as_u64().unwrap_or(0);
        match page.get("LastEvaluatedKey") {
            Some(key) if !key.is_null() => start = Some(key.clone()),
            _ => return Ok(total),
        }
    }
}

/// One DynamoDB call to the emulator, which reads the service from the credential scope and
/// checks no signature.
async fn dynamodb(
    client: &reqwest::Client,
    emulator: &str,
    operation: &str,
    body: Value,
) -> Result<Value> {
    let response = client
        .post(emulator)
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("X-Amz-Target", format!("DynamoDB_20120810.{operation}"))
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .await
        .with_context(|| format!("DynamoDB {operation} did not reach the emulator"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("DynamoDB {operation} answered {status}: {text}");
    }
    serde_json::from_str(&text).with_context(|| format!("DynamoDB {operation} answered no JSON"))
}
