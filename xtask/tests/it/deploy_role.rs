//! The deploy's own permissions: the real `xtask` binary deploys a personal stage (clearing a
//! stack a failed first create left in `ROLLBACK_COMPLETE`) and destroys it, with the
//! credentials of the deploy role the bootstrap stack synthesizes, against an emulator that
//! enforces IAM.
//!
//! Personal stages are deployed by hand and have no deploy role of their own, so the role is the
//! one the bootstrap stack makes for the same stage with a GitHub repository: its statements
//! name only `mumble-{stage}-` resources, the stage's artifacts bucket and its CloudFormation
//! role. The emulator ignores conditions (`cloudformation:RoleArn`, `iam:PassedToService`) and
//! does not act as the CloudFormation role; `stacks/tests/it/permissions.rs` checks that role.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::deploy::{TestStage, workspace_root};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";

/// `xtask emulator` on a free port, with IAM enforced and an administrator; stopped on drop.
struct Enforcing {
    child: Child,
    endpoint: String,
    log: PathBuf,
    admin: (String, String),
}

impl Drop for Enforcing {
    fn drop(&mut self) {
        // SIGTERM: xtask's handler stops the emulator's process group, then exits.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

async fn enforcing() -> Enforcing {
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let log =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("deploy-role-emulator-{port}.log"));
    let child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["emulator", "--port", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .env("NO_COLOR", "1")
        .spawn()
        .expect("start `xtask emulator`");
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut emulator = Enforcing {
        child,
        endpoint,
        log,
        admin: (String::new(), String::new()),
    };
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let started = Instant::now();
    loop {
        let ready = http
            .get(format!("{}/moto-api/", emulator.endpoint))
            .send()
            .await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the emulator did not start; see {}",
            emulator.log.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The next three requests are unchecked: they make the administrator.
    let reset = http
        .post(format!("{}/moto-api/reset-auth", emulator.endpoint))
        .body("3")
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success());
    let everything =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let iam = |params: Vec<(&'static str, String)>| {
        let http = http.clone();
        let endpoint = emulator.endpoint.clone();
        async move {
            let mut form = params;
            form.push(("Version", "2010-05-08".to_owned()));
            let response = http
                .post(format!("{endpoint}/"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header(
                    "authorization",
                    format!("AWS4-HMAC-SHA256 Credential=bootstrap/20260101/{REGION}/iam/aws4_request, SignedHeaders=host, Signature=0"),
                )
                .body(
                    form.iter()
                        .map(|(k, v)| format!("{k}={}", percent(v)))
                        .collect::<Vec<_>>()
                        .join("&"),
                )
                .send()
                .await
                .unwrap();
            assert!(
                response.status().is_success(),
                "IAM call: {}",
                response.status()
            );
            response.text().await.unwrap()
        }
    };
    let user = "deploy-test-admin".to_owned();
    iam(vec![
        ("Action", "CreateUser".into()),
        ("UserName", user.clone()),
    ])
    .await;
    iam(vec![
        ("Action", "PutUserPolicy".into()),
        ("UserName", user.clone()),
        ("PolicyName", "everything".into()),
        ("PolicyDocument", everything.into()),
    ])
    .await;
    let key = iam(vec![
        ("Action", "CreateAccessKey".into()),
        ("UserName", user),
    ])
    .await;
    emulator.admin = (
        between(&key, "<AccessKeyId>", "</AccessKeyId>"),
        between(&key, "<SecretAccessKey>", "</SecretAccessKey>"),
    );
    emulator
}

fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn between(text: &str, open: &str, close: &str) -> String {
    let start = text.find(open).expect("the element") + open.len();
    let end = text[start..].find(close).expect("closed") + start;
    text[start..end].to_owned()
}

/// Credentials as environment variables for the xtask binary.
struct Credentials {
    id: String,
    secret: String,
    token: Option<String>,
}

impl Enforcing {
    fn admin(&self) -> Credentials {
        Credentials {
            id: self.admin.0.clone(),
            secret: self.admin.1.clone(),
            token: None,
        }
    }

    async fn sdk(&self, credentials: &Credentials) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_sts::config::Credentials::new(
                &credentials.id,
                &credentials.secret,
                credentials.token.clone(),
                None,
                "test",
            ))
            .load()
            .await
    }

    /// `xtask ARGS` for `stage` as the holder of `credentials`.
    fn xtask(&self, stage: &TestStage, credentials: &Credentials, args: &[&str]) -> Output {
        let mut command = stage.command(args);
        command
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", &credentials.id)
            .env("AWS_SECRET_ACCESS_KEY", &credentials.secret)
            .env_remove("AWS_PROFILE");
        match &credentials.token {
            Some(token) => command.env("AWS_SESSION_TOKEN", token),
            None => command.env_remove("AWS_SESSION_TOKEN"),
        };
        command.output().expect("run the xtask binary")
    }

    /// Fails with what the deploy role was refused, if `output` failed.
    fn assert_success(&self, output: &Output, what: &str, credentials: &Credentials) {
        if output.status.success() {
            return;
        }
        let marker = format!("mumble-iam denied {} ", credentials.id);
        let denied: Vec<String> = std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.strip_prefix(&marker).map(str::to_owned))
            .collect();
        panic!(
            "{what} as the deploy role failed; the role was refused:\n  {}\n(add what it needs to the deploy role in stacks/src/stacks/bootstrap.rs)\n{}",
            denied.join("\n  "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// `value` with `Fn::Sub`, `Fn::GetAtt` and `Ref` replaced through `lookup` (`Logical.Attr`,
/// `Logical`, `AWS::Region` ...).
fn resolve(value: &Value, lookup: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::Object(map)
            if map.len() == 1 && map.keys().all(|k| k == "Ref" || k.starts_with("Fn::")) =>
        {
            let (key, arg) = map.iter().next().unwrap();
            match key.as_str() {
                "Ref" => Value::String(lookup(arg.as_str().unwrap())),
                "Fn::GetAtt" => Value::String(lookup(&format!(
                    "{}.{}",
                    arg[0].as_str().unwrap(),
                    arg[1].as_str().unwrap()
                ))),
                "Fn::Sub" => {
                    let text = arg.as_str().expect("only plain Fn::Sub in the deploy role");
                    let mut out = String::new();
                    let mut rest = text;
                    while let Some(start) = rest.find("${") {
                        out.push_str(&rest[..start]);
                        let end = rest[start..].find('}').unwrap() + start;
                        out.push_str(&lookup(&rest[start + 2..end]));
                        rest = &rest[end + 1..];
                    }
                    out.push_str(rest);
                    Value::String(out)
                }
                other => panic!("unexpected {other} in the deploy role"),
            }
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), resolve(v, lookup)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, lookup)).collect()),
        other => other.clone(),
    }
}

/// Makes the deploy role of `stage` (as bootstrap synthesizes it for a stage with a GitHub
/// repository) in the emulator and assumes it.
async fn deploy_role(emulator: &Enforcing, stage: &str, artifacts_bucket: &str) -> Credentials {
    let settings = stacks::Settings::load(workspace_root().join("stacks/stages.yaml")).unwrap();
    let mut settings_stage = settings.stage(stage).unwrap();
    settings_stage.github_repository = Some("mumble-app/mumble".to_owned());
    let bootstrap = stacks::synth(&settings_stage)
        .into_iter()
        .find(|s| s.part == stacks::Part::Bootstrap)
        .unwrap();
    let template = serde_json::to_value(&bootstrap.template).unwrap();
    let cfn_role_arn = format!("arn:aws:iam::{ACCOUNT}:role/mumble-{stage}-cloudformation");
    let lookup = |name: &str| -> String {
        match name {
            "AWS::Region" => REGION.to_owned(),
            "AWS::AccountId" => ACCOUNT.to_owned(),
            "AWS::Partition" => "aws".to_owned(),
            "ArtifactsBucket.Arn" => format!("arn:aws:s3:::{artifacts_bucket}"),
            "CloudFormationRole.Arn" => cfn_role_arn.clone(),
            other => panic!("the deploy role refers to {other}, which this test does not resolve"),
        }
    };
    let mut properties = template["Resources"]["DeployRole"]["Properties"].clone();
    properties["Policies"] = resolve(&properties["Policies"], &lookup);
    properties["AssumeRolePolicyDocument"] = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]
    });
    // The test's own name: `destroy` must not see this stack as part of the stage.
    properties.as_object_mut().unwrap().remove("RoleName");
    let role_stack = json!({
        "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": properties}},
        "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}}}
    });
    let admin = emulator.sdk(&emulator.admin()).await;
    let cfn = aws_sdk_cloudformation::Client::new(&admin);
    let name = format!("deploy-role-{stage}");
    cfn.create_stack()
        .stack_name(&name)
        .template_body(role_stack.to_string())
        .send()
        .await
        .expect("make the deploy role");
    let described = cfn
        .describe_stacks()
        .stack_name(&name)
        .send()
        .await
        .unwrap();
    let arn = described.stacks()[0].outputs()[0]
        .output_value()
        .unwrap()
        .to_owned();
    let assumed = aws_sdk_sts::Client::new(&admin)
        .assume_role()
        .role_arn(arn)
        .role_session_name("github-actions")
        .send()
        .await
        .expect("assume the deploy role");
    let credentials = assumed.credentials().unwrap();
    Credentials {
        id: credentials.access_key_id().to_owned(),
        secret: credentials.secret_access_key().to_owned(),
        token: Some(credentials.session_token().to_owned()),
    }
}

#[tokio::test]
async fn the_deploy_role_deploys_clears_a_failed_create_and_destroys_a_personal_stage() {
    let emulator = enforcing().await;
    let stage = TestStage::new();
    let admin = emulator.admin();

    // As an administrator (the stage's first deploy is by hand): the bootstrap stack, and a data
    // stack whose first create fails and rolls back.
    let templates = stage.dir.path().join("templates");
    let synth = emulator.xtask(
        &stage,
        &admin,
        &[
            "synth",
            "--stage",
            &stage.name,
            "--out",
            templates.to_str().unwrap(),
        ],
    );
    assert!(
        synth.status.success(),
        "{}",
        String::from_utf8_lossy(&synth.stderr)
    );
    let data = templates.join(format!("mumble-{}-data.yaml", stage.name));
    let template = std::fs::read_to_string(&data).unwrap();
    std::fs::write(
        &data,
        template.replacen(
            "Resources:\n",
            "Resources:\n  BrokenQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      MaximumMessageSize: 1\n",
            1,
        ),
    )
    .unwrap();
    let broken = emulator.xtask(
        &stage,
        &admin,
        &[
            "deploy",
            "--stage",
            &stage.name,
            "--yes",
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(
        !broken.status.success() && stderr.contains("ROLLBACK_COMPLETE"),
        "{stderr}"
    );

    let cfn = aws_sdk_cloudformation::Client::new(&emulator.sdk(&admin).await);
    let bootstrap = cfn
        .describe_stacks()
        .stack_name(format!("mumble-{}-bootstrap", stage.name))
        .send()
        .await
        .expect("the bootstrap stack");
    let bucket = bootstrap.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("ArtifactsBucketName"))
        .and_then(|o| o.output_value())
        .expect("the artifacts bucket")
        .to_owned();
    let role = deploy_role(&emulator, &stage.name, &bucket).await;

    // As the deploy role: the deploy deletes the rolled-back data stack, creates the rest,
    // uploads the artifacts and the site and invalidates the CDN.
    let deployed = emulator.xtask(&stage, &role, &["deploy", "--stage", &stage.name, "--yes"]);
    emulator.assert_success(
        &deployed,
        "deploy (with a stack in ROLLBACK_COMPLETE)",
        &role,
    );
    let stderr = String::from_utf8_lossy(&deployed.stderr);
    assert!(
        stderr.contains("ROLLBACK_COMPLETE after a failed first create; deleting it"),
        "{stderr}"
    );

    let destroyed = emulator.xtask(
        &stage,
        &role,
        &["destroy", "--stage", &stage.name, "--confirm", &stage.name],
    );
    emulator.assert_success(&destroyed, "destroy", &role);
    let left = cfn.describe_stacks().send().await.unwrap();
    let remaining: Vec<&str> = left
        .stacks()
        .iter()
        .filter_map(|s| s.stack_name())
        .filter(|n| n.starts_with(&format!("mumble-{}-", stage.name)))
        .collect();
    assert!(remaining.is_empty(), "left after destroy: {remaining:?}");
}
