//! `cargo xtask bench gateway`: the local gateway's latency under load for `health` and the
//! gallery, against a real `cargo xtask dev` (emulator, `local` stage, gateway) on 127.0.0.1.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use super::{Context, Row};
use crate::{process, ui};

const WORKERS: usize = 16;
const HEALTH_REQUESTS: usize = 2_000;
const GALLERY_REQUESTS: usize = 500;
/// Each route's load stops after this, whatever is left.
const LOAD_LIMIT: Duration = Duration::from_secs(60);
const STARTUP_LIMIT: Duration = Duration::from_secs(600);
const PASSWORD: &str = "Mumble-bench-1";

pub async fn run(context: Context) -> Result<Vec<Row>> {
    let data = tempfile::tempdir().context("cannot create a data folder")?;
    let port = process::free_port()?;
    let log = data.path().join("dev.log");
    let mut command = Command::new(std::env::current_exe().context("cannot find xtask itself")?);
    command.args(["dev", "--port", &port.to_string(), "--emulator-port"]);
    command
        .arg(process::free_port()?.to_string())
        .arg("--data-dir")
        .arg(data.path().join("data"));
    let mut dev = Group::spawn(command, &log)?;

    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(WORKERS)
        .build()
        .context("cannot build an HTTP client")?;
    ui::info("starting `cargo xtask dev`");
    wait_for_health(&client, &mut dev, &format!("{base}/api/v1/health")).await?;
    let token = sign_up(&client, &base).await?;

    let mut rows = Vec::new();
    let health = format!("{base}/api/v1/health");
    let gallery = format!("{base}/api/v1/images?limit=24");
    for (label, url, token, total, goal) in [
        ("health", &health, None, HEALTH_REQUESTS, 50.0),
        ("gallery", &gallery, Some(&token), GALLERY_REQUESTS, 250.0),
    ] {
        let mut p50s = Vec::new();
        let mut p99s = Vec::new();
        let mut rates = Vec::new();
        let mut errors = 0;
        // Unrecorded warm-up: one request per worker, so a cold start of the function
        // behind the route is not counted as latency under load.
        let warm_up = load(&client, url, token.map(String::as_str), WORKERS).await;
        if warm_up.errors > 0 {
            bail!(
                "{label}: {} of {WORKERS} warm-up requests failed",
                warm_up.errors
            );
        }
        for _ in 0..context.runs {
            let load = load(&client, url, token.map(String::as_str), total).await;
            p50s.push(load.percentile(0.50));
            p99s.push(load.percentile(0.99));
            rates.push(load.latencies.len() as f64 / load.elapsed.as_secs_f64());
            errors += load.errors;
        }
        rates.sort_by(f64::total_cmp);
        let runs = context.runs;
        rows.push(Row::millis(
            format!("{label} p50 ({total} requests, {WORKERS} workers)"),
            super::median(&mut p50s),
        ));
        rows.push(Row::millis(format!("{label} p99"), super::median(&mut p99s)).at_most(goal));
        rows.push(Row::new(
            format!("{label} throughput"),
            rates[runs / 2],
            "req/s",
        ));
        rows.push(Row::new(format!("{label} errors"), errors as f64, "requests").at_most(0.0));
    }
    dev.check_running()?;
    Ok(rows)
}

/// What one route's load produced.
struct Load {
    /// Sorted latencies of the successful requests.
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

impl Load {
    fn percentile(&self, fraction: f64) -> Duration {
        let Some(last) = self.latencies.len().checked_sub(1) else {
            return LOAD_LIMIT;
        };
        self.latencies[((last as f64) * fraction).round() as usize]
    }
}

/// `total` GETs of `url` from [`WORKERS`] concurrent workers, stopped after [`LOAD_LIMIT`].
async fn load(client: &reqwest::Client, url: &str, token: Option<&str>, total: usize) -> Load {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + LOAD_LIMIT;
    let workers = (0..WORKERS).map(|_| {
        let next = Arc::clone(&next);
        async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            while next.fetch_add(1, Ordering::Relaxed) < total && Instant::now() < deadline {
                let mut request = client.get(url);
                if let Some(token) = token {
                    request = request.bearer_auth(token);
                }
                let sent = Instant::now();
                let ok = match request.send().await {
                    Ok(response) => {
                        let success = response.status().is_success();
                        success && response.bytes().await.is_ok()
                    }
                    Err(_) => false,
                };
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }
    });
    let results = futures::future::join_all(workers).await;
    let elapsed = started.elapsed();
    let mut load = Load {
        latencies: Vec::with_capacity(total),
        errors: 0,
        elapsed,
    };
    for (latencies, errors) in results {
        load.latencies.extend(latencies);
        load.errors += errors;
    }
    // Requests never sent because time ran out count as errors too.
    load.errors += total.saturating_sub(load.latencies.len() + load.errors);
    load.latencies.sort_unstable();
    load
}

pub(super) async fn wait_for_health(
    client: &reqwest::Client,
    dev: &mut Group,
    url: &str,
) -> Result<()> {
    let waited = process::wait_for_http(
        client,
        url,
        STARTUP_LIMIT,
        Duration::from_millis(500),
        || dev.check_running(),
    )
    .await;
    if let Err(error) = waited {
        bail!("{error:#}; the end of the log:\n{}", dev.log_tail());
    }
    Ok(())
}

/// Signs a fresh user up on the emulator's Cognito and returns their ID token.
async fn sign_up(client: &reqwest::Client, base: &str) -> Result<String> {
    let config: Value = client
        .get(format!("{base}/config.json"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("cannot fetch config.json from the gateway")?
        .json()
        .await
        .context("config.json is not JSON")?;
    let text = |key: &str| {
        config[key]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("config.json has no {key}"))
    };
    let (endpoint, client_id) = (text("cognitoEndpoint")?, text("userPoolClientId")?);
    let email = format!("bench-{}@example.com", std::process::id());
    let cognito = |target: &'static str, body: Value| {
        let request = client
            .post(&endpoint)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header(
                "X-Amz-Target",
                format!("AWSCognitoIdentityProviderService.{target}"),
            )
            .body(body.to_string());
        async move {
            let response = request
                .send()
                .await
                .with_context(|| format!("cognito {target} failed"))?;
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if !status.is_success() {
                bail!("cognito {target} answered {status}: {text}");
            }
            serde_json::from_str::<Value>(&text)
                .with_context(|| format!("cognito {target} answered no JSON"))
        }
    };
    cognito(
        "SignUp",
        json!({"ClientId": client_id, "Username": email, "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": email}]}),
    )
    .await?;
    cognito(
        "ConfirmSignUp",
        json!({"ClientId": client_id, "Username": email, "ConfirmationCode": "123456"}),
    )
    .await?;
    let auth = cognito(
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
               "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD}}),
    )
    .await?;
    auth["AuthenticationResult"]["IdToken"]
        .as_str()
        .map(str::to_owned)
        .context("cognito InitiateAuth returned no IdToken")
}

/// `cargo xtask dev` leading its own process group; dropping it stops the whole group.
pub(super) struct Group {
    child: Child,
    log: std::path::PathBuf,
}

impl Group {
    pub(super) fn spawn(mut command: Command, log: &std::path::Path) -> Result<Group> {
        let out = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone().context("cannot share the log file")?;
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = command.spawn().context("cannot start `cargo xtask dev`")?;
        Ok(Group {
            child,
            log: log.to_owned(),
        })
    }

    pub(super) fn check_running(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "`cargo xtask dev` stopped ({status}); the end of its log:\n{}",
                self.log_tail()
            );
        }
        Ok(())
    }

    /// SIGKILL to `cargo xtask dev` alone, as the OOM killer or a closed terminal would: what it
    /// started gets no signal.
    pub(super) fn kill_leader(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM to `cargo xtask dev`, as Ctrl-C would, and wait until it has stopped everything.
    pub(super) fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether `dev` has written `needle` to its log yet.
    pub(super) fn log_contains(&self, needle: &str) -> bool {
        std::fs::read_to_string(&self.log).is_ok_and(|text| text.contains(needle))
    }

    pub(super) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Group {
    /// SIGTERM first so `dev` stops the emulator and gateway (in groups of their own) itself.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            signal_group("TERM", self.child.id());
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        signal_group("KILL", self.child.id());
        let _ = self.child.wait();
    }
}

/// std has no killpg and the workspace forbids unsafe code; kill(1) does it safely.
fn signal_group(signal: &str, leader: u32) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{leader}")])
        .stderr(Stdio::null())
        .status();
}
