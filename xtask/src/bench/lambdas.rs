//! `cargo xtask bench lambdas`: every function's zip and binary size, its cold start (process
//! start to the first answer posted to a local Lambda Runtime API), and the release profile's
//! panic strategy measured both ways on one function.
//!
//! The functions are built once through `cargo xtask build`'s code (one cargo-lambda pass, the
//! very zips a deploy uploads); each `bootstrap` is unpacked under `target/bench/lambdas/` and
//! started as Lambda starts it: a clean environment with the variables the app stack sets, and
//! `AWS_LAMBDA_RUNTIME_API` pointing at [`RuntimeApi`], which hands out one fixture event. Functions
//! that read AWS during their cold start (SSM secrets) or for their event get an emulator.
//!
//! What is not measured: Lambda's own download and unpacking of the zip, and its sandbox start.
//!
//! `MUMBLE_BENCH_FUNCTIONS=health,jobs` limits the bench to some functions (building all of them
//! takes a while), e.g. while working on one.
//!
//! One file over 500 lines: building, unpacking, the environment and measuring each function share
//! the bench's stage and subjects; the Runtime API, the events and the panic comparison are
//! modules beside it, and a third of what remains is tests.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Cursor, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use axum::http::StatusCode;
use mumble_contract::KeySchema;
use serde_json::{Value, json};
use stacks::Output;
use stacks::Stage;
use stacks::environment::Value as EnvValue;
use stacks::functions::{FunctionSpec, Table};
use stacks::settings::Architecture;
use tokio::sync::oneshot;

mod fixtures;
mod panic;
mod runtime_api;

use super::{Context, Row, median};
use crate::emulator::Emulator;
use crate::{build, stage, tools, ui};
use fixtures::{Fixture, fixture};
use panic::*;
use runtime_api::*;

/// Lambda's zip goal for every function, in MB (10^6 bytes, as `cargo xtask build` prints sizes).
const ZIP_GOAL_MB: f64 = 4.0;
/// Cold-start goal: process start to the first answer, in milliseconds.
const COLD_START_GOAL_MS: f64 = 15.0;
/// The function built a second time with the other panic strategy.
const PANIC_PROBE: &str = "health";
/// Settings for the environment: a personal stage, so that it inherits dev's deployed settings.
const BENCH_STAGE: &str = "bench";
/// Limits the bench to some functions: `MUMBLE_BENCH_FUNCTIONS=health,jobs`.
const FUNCTIONS_VAR: &str = "MUMBLE_BENCH_FUNCTIONS";
/// A function that has not answered by then is reported as failed.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often to check whether a function died instead of answering.
const EXIT_POLL: Duration = Duration::from_millis(2);

pub async fn run(context: Context) -> Result<Vec<Row>> {
    let stage = bench_stage()?;
    let (specs, missing) = selected_functions()?;
    if !missing.is_empty() {
        ui::warn(format!(
            "not benchmarked (no crate under lambdas/ yet): {}",
            missing.join(", ")
        ));
    }
    let names: Vec<&str> = specs.iter().map(|spec| spec.name).collect();
    let manifest = build::build(&stage, &names)?;

    let mut subjects = Vec::with_capacity(specs.len());
    let mut sizes = HashMap::new();
    for (spec, artifact) in specs.iter().zip(&manifest.artifacts) {
        let (binary, binary_size) =
            unpack_bootstrap(&artifact.path, &bench_dir().join("release").join(spec.name))?;
        sizes.insert(spec.name, (artifact.size, binary_size));
        subjects.push(Subject::new(spec, binary));
    }

    let emulator = if subjects.iter().any(|subject| subject.needs_aws()) {
        ui::info("starting the AWS API emulator for the functions that read AWS");
        let emulator = Emulator::start(None).await?;
        seed_emulator(&emulator, &stage, &specs).await?;
        Some(emulator)
    } else {
        None
    };
    for subject in &mut subjects {
        subject.env = lambda_environment(&stage, subject.spec, emulator.as_ref());
    }

    let api = RuntimeApi::start().await?;
    ui::info(format!(
        "{} cold starts of {} functions against the Lambda Runtime API on {}",
        context.runs,
        subjects.len(),
        api.host()
    ));
    let measured = measure(&api, &subjects, context.runs).await;

    let mut rows = Vec::new();
    for (subject, measurement) in subjects.iter().zip(&measured) {
        let (zip, binary) = sizes[subject.spec.name];
        let name = subject.spec.name;
        rows.push(Row::new(format!("{name} zip"), megabytes(zip), "MB").at_most(ZIP_GOAL_MB));
        rows.push(Row::new(
            format!("{name} binary (unzipped)"),
            megabytes(binary),
            "MB",
        ));
        rows.push(
            measurement
                .row(subject, context.runs)
                .at_most(COLD_START_GOAL_MS),
        );
        rows.extend(measurement.init_row(subject));
    }

    if let Some(emulator) = &emulator
        && subjects
            .iter()
            .any(|subject| subject.needs_aws() && subject.spec.tables().contains(&Table::Jobs))
    {
        rows.push(emulator_round_trip(emulator, &stage, context.runs).await?);
    }

    if let Some(probe) = subjects
        .iter()
        .find(|subject| subject.spec.name == PANIC_PROBE)
    {
        let (zip, binary) = sizes[PANIC_PROBE];
        let built = Variant {
            strategy: production_panic_strategy()?,
            zip,
            binary,
            subject: probe.clone(),
        };
        rows.extend(compare_panic_strategies(&api, &stage, built, context.runs).await?);
    } else {
        ui::warn(format!(
            "`{PANIC_PROBE}` is missing, so the panic strategies are not compared"
        ));
    }
    drop(emulator);
    Ok(rows)
}

/// The bench stage's settings, built for this machine's architecture since the functions run here.
fn bench_stage() -> Result<Stage> {
    let mut stage = stage::load_settings()?.stage(BENCH_STAGE)?;
    stage.architecture = match std::env::consts::ARCH {
        "x86_64" if cfg!(target_os = "linux") => Architecture::X86_64,
        "aarch64" if cfg!(target_os = "linux") => Architecture::Arm64,
        other => bail!(
            "the lambda bench runs the functions on this machine, which must be Linux on x86_64 or \
             aarch64 (this one is {} on {other}); run it on such a machine or in CI",
            std::env::consts::OS
        ),
    };
    Ok(stage)
}

/// The functions to bench (all declared ones, or those `MUMBLE_BENCH_FUNCTIONS` names) whose
/// crate exists, and the names of those without one.
fn selected_functions() -> Result<(Vec<&'static FunctionSpec>, Vec<&'static str>)> {
    let chosen = std::env::var(FUNCTIONS_VAR).unwrap_or_default();
    let chosen: Vec<String> = chosen
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    let names =
        build::selected_functions(&chosen).with_context(|| format!("check {FUNCTIONS_VAR}"))?;
    let root = tools::workspace_root();
    let (present, missing): (Vec<&str>, Vec<&str>) = names
        .into_iter()
        .partition(|name| root.join("lambdas").join(name).join("Cargo.toml").is_file());
    let present = present
        .into_iter()
        .filter_map(stacks::functions::function)
        .collect();
    Ok((present, missing))
}

fn bench_dir() -> PathBuf {
    tools::target_dir().join("bench/lambdas")
}

fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Unpacks `bootstrap` from a function zip into `dir`; returns its path and size.
fn unpack_bootstrap(zip: &Path, dir: &Path) -> Result<(PathBuf, u64)> {
    let bytes = fs::read(zip).with_context(|| format!("cannot read {}", zip.display()))?;
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .with_context(|| format!("{} is not a zip", zip.display()))?;
    let mut entry = archive.by_name("bootstrap").with_context(|| {
        format!(
            "{} has no `bootstrap` entry, so Lambda could not start it",
            zip.display()
        )
    })?;
    let mut content = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut content)?;
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Written aside and renamed, so a binary still running from an interrupted bench is not
    // overwritten in place (ETXTBSY).
    let partial = dir.join("bootstrap.partial");
    let path = dir.join("bootstrap");
    fs::write(&partial, &content).with_context(|| format!("cannot write {}", partial.display()))?;
    fs::set_permissions(&partial, fs::Permissions::from_mode(0o755))?;
    fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok((path, content.len() as u64))
}

// ---------------------------------------------------------------------------------------------
// The environment Lambda gives a function

/// What Lambda sets on every function, then what the app stack sets on this one (resource names
/// for the bench stage; SSM parameter names, never values). Functions that read AWS reach the
/// emulator; the others get no endpoint, as in a deployed stage.
fn lambda_environment(
    stage: &Stage,
    spec: &FunctionSpec,
    emulator: Option<&Emulator>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = Vec::new();
    let mut set = |name: &str, value: String| env.push((name.to_owned(), value));
    set("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned());
    set("LANG", "en_US.UTF-8".to_owned());
    set("TZ", ":UTC".to_owned());
    set("_HANDLER", "bootstrap".to_owned());
    set("AWS_LAMBDA_FUNCTION_NAME", spec.physical_name(&stage.name));
    set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned());
    set(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        stage.memory_mb(spec.name).to_string(),
    );
    set(
        "AWS_LAMBDA_LOG_GROUP_NAME",
        spec.log_group_name(&stage.name),
    );
    set(
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "2026/11/26/[$LATEST]bench".to_owned(),
    );
    set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned());
    // The role's temporary credentials, as Lambda passes them.
    set("AWS_ACCESS_KEY_ID", "test".to_owned());
    set("AWS_SECRET_ACCESS_KEY", "test".to_owned());
    set("AWS_SESSION_TOKEN", "test".to_owned());
    set("AWS_REGION", stage.region.clone());
    set("AWS_DEFAULT_REGION", stage.region.clone());

    // The app stack's variables, with the bench's own names for the stage's resources.
    for (name, value) in stacks::environment::environment(stage, spec) {
        let value = match value {
            EnvValue::Literal(value) => value,
            EnvValue::Output(output) => bench_output(stage, output, emulator),
        };
        set(name, value);
    }
    if let Some(emulator) = emulator.filter(|_| reads_aws(spec)) {
        env.retain(|(name, _)| !emulator.env().iter().any(|(key, _)| key == name));
        env.extend(
            emulator
                .env()
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value)),
        );
    }
    env
}

/// The bench's stand-in for a stack output: its own resource names, since it only ever talks
/// to the emulator (`mumble-bench-users`, ...). Functions that push reach the emulator.
fn bench_output(stage: &Stage, output: Output, emulator: Option<&Emulator>) -> String {
    if let Some(table) = Table::ALL.into_iter().find(|t| t.name_output() == output) {
        return table_name(stage, table);
    }
    match output {
        Output::MediaBucketName => media_bucket(stage),
        Output::WebSocketManagementUrl => emulator.map_or_else(
            || {
                format!(
                    "https://bench.execute-api.{}.amazonaws.com/{}",
                    stage.region, stage.name
                )
            },
            Emulator::endpoint_url,
        ),
        Output::UserPoolId => format!("{}_bench", stage.region),
        Output::UserPoolClientId => "benchclient".to_owned(),
        other => format!("bench-{other}"),
    }
}

fn table_name(stage: &Stage, table: Table) -> String {
    format!("mumble-{}-{}", stage.name, table.label())
}

fn media_bucket(stage: &Stage) -> String {
    format!("mumble-{}-media", stage.name)
}

/// Reads AWS during its cold start (SSM secrets) or for its bench event.
fn reads_aws(spec: &FunctionSpec) -> bool {
    !spec.secrets.is_empty() || fixture(spec.name).calls_aws
}

/// Puts what the functions read at cold start or for their event into the emulator: the SSM
/// secrets, the tables and the media bucket (all empty).
async fn seed_emulator(emulator: &Emulator, stage: &Stage, specs: &[&FunctionSpec]) -> Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("cannot build an HTTP client")?;
    let base = emulator.endpoint_url();
    let call = |service: &'static str, target: String, body: Value| {
        let request = json_call(&client, &base, service, &target, &body);
        async move {
            let response = request.send().await?;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if !status.is_success()
                && !text.contains("AlreadyExists")
                && !text.contains("ResourceInUse")
            {
                bail!("the emulator answered {status}: {text}");
            }
            anyhow::Ok(())
        }
    };
    let used: Vec<&&FunctionSpec> = specs.iter().filter(|spec| reads_aws(spec)).collect();
    for spec in &used {
        for secret in spec.secrets {
            let name = secret.parameter_name(&stage.name);
            let body = json!({ "Name": name, "Value": "bench-secret", "Type": "SecureString", "Overwrite": true });
            call("ssm", "AmazonSSM.PutParameter".to_owned(), body)
                .await
                .with_context(|| format!("cannot put SSM parameter {name} into the emulator"))?;
        }
        for table in spec.tables() {
            let name = table_name(stage, table);
            call(
                "dynamodb",
                "DynamoDB_20120810.CreateTable".to_owned(),
                table_definition(&name, table),
            )
            .await
            .with_context(|| format!("cannot create table {name} in the emulator"))?;
        }
    }
    if used.iter().any(|spec| spec.uses_media()) {
        let bucket = media_bucket(stage);
        let response = client.put(format!("{base}/{bucket}")).send().await?;
        if !response.status().is_success() && response.status() != StatusCode::CONFLICT {
            bail!(
                "cannot create bucket {bucket} in the emulator: HTTP {}",
                response.status()
            );
        }
    }
    Ok(())
}

/// An AWS JSON-protocol call (DynamoDB, SSM) to the emulator, which does not check signatures.
fn json_call(
    client: &reqwest::Client,
    base: &str,
    service: &str,
    target: &str,
    body: &Value,
) -> reqwest::RequestBuilder {
    client
        .post(base)
        .header("x-amz-target", target)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/{service}/aws4_request, \
                 SignedHeaders=host, Signature=0"
            ),
        )
        .body(body.to_string())
}

/// The emulator's own answer time for one DynamoDB `GetItem` of a missing item over a kept-alive
/// connection: the floor under every AWS call in the cold starts above, for reading them (moto
/// is Python; DynamoDB answers such a read in a few milliseconds too, but not this one's).
async fn emulator_round_trip(emulator: &Emulator, stage: &Stage, runs: usize) -> Result<Row> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("cannot build an HTTP client")?;
    let base = emulator.endpoint_url();
    let table = table_name(stage, Table::Jobs);
    let body = json!({ "TableName": table, "Key": { Table::Jobs.key().partition: { "S": "bench-unknown-job" } } });
    let mut samples = Vec::with_capacity(runs);
    // One more than measured: the first opens the connection.
    for run in 0..=runs {
        let started = Instant::now();
        let response = json_call(
            &client,
            &base,
            "dynamodb",
            "DynamoDB_20120810.GetItem",
            &body,
        )
        .send()
        .await?;
        if !response.status().is_success() {
            bail!("the emulator answered GetItem with {}", response.status());
        }
        response.bytes().await?;
        if run > 0 {
            samples.push(started.elapsed());
        }
    }
    Ok(Row::millis(
        format!("AWS emulator alone: one DynamoDB GetItem, median of {runs}"),
        median(&mut samples),
    ))
}

/// A table keyed like the data stack's, with its indexes (`mumble_contract::Table`).
fn table_definition(name: &str, table: Table) -> Value {
    let key_schema = |key: KeySchema| {
        let mut keys = vec![json!({ "AttributeName": key.partition, "KeyType": "HASH" })];
        keys.extend(
            key.sort
                .map(|sort| json!({ "AttributeName": sort, "KeyType": "RANGE" })),
        );
        keys
    };
    let attributes: Vec<Value> = table
        .key_attributes()
        .into_iter()
        .map(|name| json!({ "AttributeName": name, "AttributeType": "S" }))
        .collect();
    let mut definition = json!({
        "TableName": name,
        "KeySchema": key_schema(table.key()),
        "AttributeDefinitions": attributes,
        "BillingMode": "PAY_PER_REQUEST",
    });
    if !table.indexes().is_empty() {
        definition["GlobalSecondaryIndexes"] = table
            .indexes()
            .iter()
            .map(|index| {
                json!({
                    "IndexName": index.name,
                    "KeySchema": key_schema(index.key),
                    "Projection": { "ProjectionType": "ALL" }
                })
            })
            .collect();
    }
    definition
}

// ---------------------------------------------------------------------------------------------
// Measuring cold starts

/// One binary to cold-start, with its environment and event.
#[derive(Clone)]
struct Subject {
    spec: &'static FunctionSpec,
    binary: PathBuf,
    env: Vec<(String, String)>,
    fixture: Fixture,
}

impl Subject {
    fn new(spec: &'static FunctionSpec, binary: PathBuf) -> Subject {
        Subject {
            spec,
            binary,
            env: Vec::new(),
            fixture: fixture(spec.name),
        }
    }

    fn needs_aws(&self) -> bool {
        reads_aws(self.spec)
    }

    /// The function's output (JSON log lines) of its latest run, next to its binary.
    fn log_path(&self) -> PathBuf {
        self.binary.with_file_name("run.log")
    }
}

#[derive(Default)]
struct Measurement {
    samples: Vec<Duration>,
    init_samples: Vec<Duration>,
    last: Option<Reply>,
    failure: Option<String>,
}

impl Measurement {
    /// The median initialisation, when the function got as far as asking for its event.
    fn init_row(&self, subject: &Subject) -> Option<Row> {
        let mut samples = self.init_samples.clone();
        (!samples.is_empty()).then(|| {
            let name = subject.spec.name;
            Row::millis(
                format!("{name} of which init (spawn to its poll for the event)"),
                median(&mut samples),
            )
        })
    }

    /// The median cold start, named by the event and what the function answered; a failure is a
    /// row without a value, so it fails its goal.
    fn row(&self, subject: &Subject, runs: usize) -> Row {
        let name = subject.spec.name;
        let event = &subject.fixture.label;
        let emulated = if subject.needs_aws() {
            "; AWS is the local emulator"
        } else {
            ""
        };
        match (&self.failure, &self.last) {
            (None, Some(reply)) => {
                let mut samples = self.samples.clone();
                let label = format!(
                    "{name} cold start: {event} -> {}, median of {runs}{emulated}",
                    reply.summary()
                );
                Row::millis(label, median(&mut samples))
            }
            (failure, _) => {
                let why = failure.as_deref().unwrap_or("no answer");
                Row::new(
                    format!("{name} cold start: {event} -> FAILED: {why}"),
                    f64::NAN,
                    "ms",
                )
            }
        }
    }
}

/// Cold-starts every subject `runs` times, interleaved so that load from other work on the
/// machine spreads over all of them alike. A subject that fails once is not started again.
async fn measure(api: &RuntimeApi, subjects: &[Subject], runs: usize) -> Vec<Measurement> {
    let mut results: Vec<Measurement> = subjects.iter().map(|_| Measurement::default()).collect();
    for run in 0..runs {
        for (subject, result) in subjects.iter().zip(&mut results) {
            if result.failure.is_some() {
                continue;
            }
            match cold_start(api, subject, run).await {
                Ok(sample) => {
                    result.samples.push(sample.total);
                    result.init_samples.extend(sample.init);
                    result.last = Some(sample.reply);
                }
                Err(err) => {
                    ui::warn(format!("{}: {err:#}", subject.spec.name));
                    result.failure = Some(
                        format!("{err:#}")
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
            }
        }
    }
    results
}

/// One cold start.
struct Sample {
    /// Spawn to the first poll for an event (the Lambda "init" phase).
    init: Option<Duration>,
    /// Spawn to the answer.
    total: Duration,
    reply: Reply,
}

/// Starts the subject's binary once and times it from spawn to its first answer.
async fn cold_start(api: &RuntimeApi, subject: &Subject, run: usize) -> Result<Sample> {
    let request_id = format!("bench-{}-{run}", subject.spec.name);
    let arn = format!(
        "arn:aws:lambda:us-east-1:123456789012:function:{}",
        subject.spec.physical_name(BENCH_STAGE)
    );
    let mut answer = api.invoke(&request_id, &arn, &subject.fixture.event);
    let log_path = subject.log_path();
    let log =
        File::create(&log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let task_root = subject.binary.parent().unwrap_or(Path::new("."));
    let mut command = Command::new(&subject.binary);
    command
        .current_dir(task_root)
        .env_clear()
        .envs(subject.env.iter().map(|(key, value)| (key, value)))
        .env("LAMBDA_TASK_ROOT", task_root)
        .env("LAMBDA_RUNTIME_DIR", task_root)
        .env("AWS_LAMBDA_RUNTIME_API", api.host())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start {}", subject.binary.display()))?;
    let answered = wait_for_answer(&mut child, &mut answer, started).await;
    // Lambda would freeze the process now, waiting for the next event; the bench ends it.
    let _ = child.kill();
    let _ = child.wait();
    let reply = answered.map_err(|err| err.context(log_tail(&log_path)))?;
    if reply.kind == ReplyKind::InitError {
        bail!("init error: {}{}", reply.error_text(), log_tail(&log_path));
    }
    Ok(Sample {
        init: reply
            .polled
            .map(|polled| polled.saturating_duration_since(started)),
        total: reply.at.saturating_duration_since(started),
        reply,
    })
}

async fn wait_for_answer(
    child: &mut Child,
    answer: &mut oneshot::Receiver<Reply>,
    started: Instant,
) -> Result<Reply> {
    loop {
        tokio::select! {
            biased;
            reply = &mut *answer => return reply.context("the runtime API stopped before the function answered"),
            () = tokio::time::sleep(EXIT_POLL) => {
                if let Some(status) = child.try_wait()? {
                    bail!("the function exited ({status}) without answering its event");
                }
                if started.elapsed() > ANSWER_TIMEOUT {
                    bail!("the function did not answer within {}s", ANSWER_TIMEOUT.as_secs());
                }
            }
        }
    }
}

/// The last lines the function printed, to explain a failure.
fn log_tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return format!("(it printed nothing; log: {})", path.display());
    }
    let tail = lines[lines.len().saturating_sub(8)..].join("\n");
    format!("the end of its output ({}):\n{tail}", path.display())
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::fixtures::BENCH_USER;
    use super::*;

    #[test]
    fn cargo_lambda_builds_abort_unless_the_manifest_says_otherwise() {
        let unset = "[profile.release]\nlto = \"fat\"\n\n[profile.dev]\npanic = \"unwind\"\n";
        assert_eq!(release_panic_strategy(unset), PanicStrategy::Abort);
        let unwind = "[profile.release]\nlto = \"fat\"\npanic = \"unwind\" # keep catch_unwind\n";
        assert_eq!(release_panic_strategy(unwind), PanicStrategy::Unwind);
        assert_eq!(
            release_panic_strategy("[profile.release]\npanic = 'abort'\n"),
            PanicStrategy::Abort
        );
    }

    #[test]
    fn http_fixtures_carry_route_query_path_and_caller() {
        let event = fixture("jobs").event;
        assert_eq!(event["routeKey"], "GET /api/v1/jobs/{id}");
        assert_eq!(
            event["pathParameters"]["id"].as_str().map(str::len),
            Some(65)
        );
        assert_eq!(
            event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"],
            BENCH_USER
        );
        let event = fixture("weather").event;
        assert_eq!(
            event["queryStringParameters"],
            json!({ "lat": "91", "lon": "0" })
        );
        let event = fixture("health").event;
        assert!(
            event["requestContext"].get("authorizer").is_none(),
            "health is public"
        );
    }

    async fn post(client: &reqwest::Client, url: String, body: &str) -> StatusCode {
        client
            .post(url)
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
            .status()
    }

    #[tokio::test]
    async fn the_runtime_api_hands_out_the_event_once_and_delivers_the_answer() {
        let api = RuntimeApi::start().await.unwrap();
        let base = format!("http://{}{API_PREFIX}", api.host());
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut answer = api.invoke(
            "req-1",
            "arn:aws:lambda:us-east-1:1:function:f",
            &json!({ "a": 1 }),
        );

        let next = client
            .get(format!("{base}/invocation/next"))
            .send()
            .await
            .unwrap();
        assert_eq!(next.headers()["lambda-runtime-aws-request-id"], "req-1");
        assert_eq!(
            next.headers()["lambda-runtime-invoked-function-arn"],
            "arn:aws:lambda:us-east-1:1:function:f"
        );
        let deadline: u128 = next.headers()["lambda-runtime-deadline-ms"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            deadline
                > SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
        );
        assert_eq!(next.json::<Value>().await.unwrap(), json!({ "a": 1 }));

        let second = client
            .get(format!("{base}/invocation/next"))
            .timeout(Duration::from_millis(200))
            .send()
            .await;
        assert!(
            second.is_err(),
            "the second poll waits, as a frozen sandbox would"
        );

        let status = post(&client, format!("{base}/invocation/other/response"), "{}").await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "an answer for another request is refused"
        );
        assert!(answer.try_recv().is_err());
        let body = r#"{"statusCode":404,"body":"{}"}"#;
        assert_eq!(
            post(&client, format!("{base}/invocation/req-1/response"), body).await,
            StatusCode::ACCEPTED
        );
        let reply = answer.await.unwrap();
        assert_eq!(
            (reply.kind, reply.summary()),
            (ReplyKind::Response, "404".to_owned())
        );
        let polled = reply.polled.expect("the poll for the event is timed");
        assert!(polled <= reply.at);
    }

    #[tokio::test]
    async fn errors_and_init_errors_are_answers_too() {
        let api = RuntimeApi::start().await.unwrap();
        let base = format!("http://{}{API_PREFIX}", api.host());
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let error = r#"{"errorType":"Missing","errorMessage":"environment variable USERS_TABLE is not set"}"#;

        let answer = api.invoke("req-2", "arn", &json!({}));
        post(&client, format!("{base}/invocation/req-2/error"), error).await;
        let reply = answer.await.unwrap();
        assert_eq!(reply.kind, ReplyKind::Error);
        assert_eq!(
            reply.summary(),
            "error Missing: environment variable USERS_TABLE is not set"
        );

        let answer = api.invoke("req-3", "arn", &json!({}));
        post(&client, format!("{base}/init/error"), error).await;
        let reply = answer.await.unwrap();
        assert_eq!(reply.kind, ReplyKind::InitError);
        assert!(
            reply.polled.is_none(),
            "it failed before asking for its event"
        );

        let answer = api.invoke("req-4", "arn", &json!({}));
        let nested = json!({
            "errorType": "&lambda_runtime::deserializer::DeserializeError",
            "errorMessage": "failed to deserialize the incoming data into the function's payload \
                             type: missing field `Records` at line 1 column 467\n",
        });
        post(
            &client,
            format!("{base}/invocation/req-4/error"),
            &nested.to_string(),
        )
        .await;
        assert_eq!(
            answer.await.unwrap().summary(),
            "error DeserializeError: missing field `Records` at line 1 column 467",
            "short enough for a row name"
        );
    }
}
