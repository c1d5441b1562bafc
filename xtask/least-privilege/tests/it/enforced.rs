//! An emulator of our own with IAM enforced, and an administrator to set the world up with.
//!
//! Enforcement is a switch for the whole emulator process (`POST /moto-api/reset-auth`), and the
//! emulator `cargo xtask test` shares with the other tests takes dummy credentials, so this one
//! is started here, once per test process, on a free port. It stops itself when the test process
//! ends (a watchdog thread in the emulator polls its parent), since nothing drops a static.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use tokio::sync::OnceCell;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `emulator.py` (the first argument) as `__main__`, exiting when the process that started
/// it is gone.
const WATCHDOG: &str = r#"
import os, runpy, sys, threading, time
parent = os.getppid()
def watch():
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
runpy.run_path(sys.argv[0], run_name="__main__")
"#;

/// The enforcing emulator: its address, its log (which names every refusal) and the
/// administrator's access key.
#[derive(Debug)]
pub struct Enforcing {
    pub endpoint: String,
    pub log: PathBuf,
    admin_key: (String, String),
}

static EMULATOR: OnceCell<Enforcing> = OnceCell::const_new();

/// The emulator of this test process, started (and its administrator made) on first use.
pub async fn emulator() -> &'static Enforcing {
    EMULATOR.get_or_init(start).await
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's Python, where `cargo xtask test` (`xtask/src/tools.rs`) installs it.
fn python() -> PathBuf {
    let tools = match std::env::var_os("MUMBLE_TOOLS_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join(".tools"),
    };
    let python = tools.join("venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run these tests through `cargo xtask test`, which installs the emulator",
        python.display()
    );
    python
}

async fn start() -> Enforcing {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port();
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("iam-emulator-{port}.log"));
    let file = std::fs::File::create(&log).expect("create the emulator's log");
    let root = workspace_root();
    let mut child = Command::new(python())
        .arg("-c")
        .arg(WATCHDOG)
        .arg(root.join("xtask/emulator/emulator.py"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log file handle"))
        .stderr(file)
        .spawn()
        .expect("start the emulator");
    let endpoint = format!("http://127.0.0.1:{port}");
    let http = mumble_core::http::client(mumble_core::http::Timeouts::QUICK).expect("HTTP client");
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the emulator exited ({status}); see {}", log.display());
        }
        let ready = http.get(format!("{endpoint}/moto-api/")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(
            started.elapsed() < READY_TIMEOUT,
            "the emulator did not answer within {READY_TIMEOUT:?}; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let admin_key = bootstrap(&http, &endpoint).await;
    Enforcing {
        endpoint,
        log,
        admin_key,
    }
}

/// Makes an administrator in the emulator's three unchecked requests, after which every request
/// is checked: the calls below are the count.
async fn bootstrap(http: &reqwest::Client, endpoint: &str) -> (String, String) {
    const UNCHECKED: &str = "3";
    let reset = http
        .post(format!("{endpoint}/moto-api/reset-auth"))
        .body(UNCHECKED)
        .send()
        .await
        .expect("POST /moto-api/reset-auth");
    assert!(
        reset.status().is_success(),
        "reset-auth: {}",
        reset.status()
    );
    let admin = "mumble-test-admin";
    let everything =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    iam(
        http,
        endpoint,
        &[("Action", "CreateUser"), ("UserName", admin)],
    )
    .await;
    iam(
        http,
        endpoint,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", admin),
            ("PolicyName", "everything"),
            ("PolicyDocument", everything),
        ],
    )
    .await;
    let key = iam(
        http,
        endpoint,
        &[("Action", "CreateAccessKey"), ("UserName", admin)],
    )
    .await;
    let between = |open: &str, close: &str| {
        let start = key.find(open).expect("CreateAccessKey answers a key") + open.len();
        let end = key[start..].find(close).expect("closed element") + start;
        key[start..end].to_owned()
    };
    (
        between("<AccessKeyId>", "</AccessKeyId>"),
        between("<SecretAccessKey>", "</SecretAccessKey>"),
    )
}

/// An IAM query-API call; unsigned, which only the unchecked requests may be.
async fn iam(http: &reqwest::Client, endpoint: &str, params: &[(&str, &str)]) -> String {
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.push(("Version", "2010-05-08"));
    let body = serde_urlencoded::to_string(&form).expect("a form");
    let response = http
        .post(format!("{endpoint}/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=bootstrap/20260101/{REGION}/iam/aws4_request, SignedHeaders=host, Signature=0"
            ),
        )
        .body(body)
        .send()
        .await
        .expect("IAM call");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "IAM {params:?}: {status} {text}");
    text
}

impl Enforcing {
    /// An SDK configuration for this emulator with `credentials`, built as the functions build
    /// theirs (`mumble_core::aws::sdk_config`: the same HTTP client and retry settings).
    pub fn sdk_config(&self, credentials: Credentials) -> SdkConfig {
        let base = mumble_core::aws::sdk_config().expect("cargo xtask test sets AWS_REGION");
        base.into_builder()
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new(REGION))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build()
    }

    /// The administrator: sets up tables, buckets, parameters and roles, and checks results.
    pub fn admin(&self) -> SdkConfig {
        let (id, secret) = &self.admin_key;
        self.sdk_config(Credentials::new(id, secret, None, None, "test-admin"))
    }

    /// The refusals the emulator logged for `access_key_id`: `action resource` each.
    pub fn denials(&self, access_key_id: &str) -> Vec<String> {
        let marker = format!("mumble-iam denied {access_key_id} ");
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.strip_prefix(&marker))
            .map(|rest| rest.replacen(' ', " on ", 1))
            .collect()
    }
}
