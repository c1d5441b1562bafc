//! `cargo xtask secrets`: values go into SSM as SecureString and never come out on the terminal.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn stage() -> String {
    format!("s{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

/// Runs the xtask binary with `stdin` piped in.
fn xtask(args: &[&str], stdin: &str) -> Output {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|e| e.starts_with("http://127.0.0.1:")),
        "set AWS_ENDPOINT_URL (run through `cargo xtask test`)"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the xtask binary");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn stored(name: &str) -> (String, String) {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    let parameter = aws_sdk_ssm::Client::new(&sdk)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .expect("the parameter exists")
        .parameter
        .unwrap();
    (
        parameter.value.unwrap(),
        parameter.r#type.unwrap().as_str().to_owned(),
    )
}

#[tokio::test]
async fn a_secret_is_stored_as_securestring_and_never_printed() {
    let stage = stage();
    let value = format!("sk-test-{}", uuid::Uuid::new_v4().simple());
    let name = format!("/mumble/{stage}/openai-api-key");

    let set = xtask(
        &["secrets", "set", "--stage", &stage, "openai-api-key"],
        &format!("{value}\n"),
    );
    assert!(set.status.success(), "{}", text(&set));
    assert!(!text(&set).contains(&value), "the value was printed");
    assert_eq!(stored(&name).await, (value.clone(), "SecureString".into()));

    let list = xtask(
        &["secrets", "list", "--stage", &stage, "--output", "json"],
        "",
    );
    assert!(list.status.success(), "{}", text(&list));
    assert!(!text(&list).contains(&value), "the value was listed");
    let listed: Value = serde_json::from_slice(&list.stdout).unwrap();
    let items = listed.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["name"], name);
    assert_eq!(items[0]["set"], true);
    assert_eq!(items[0]["type"], "SecureString");
    assert_eq!(items[1]["set"], false, "openweather-api-key was never set");

    // Replacing a value is confirmed: without a terminal, only with --yes.
    let again = xtask(
        &["secrets", "set", "--stage", &stage, "openai-api-key"],
        "sk-other\n",
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("--yes"), "{}", text(&again));
    assert_eq!(stored(&name).await.0, value);
    let replaced = xtask(
        &[
            "secrets",
            "set",
            "--stage",
            &stage,
            "openai-api-key",
            "--yes",
        ],
        "sk-other\n",
    );
    assert!(replaced.status.success(), "{}", text(&replaced));
    assert_eq!(stored(&name).await.0, "sk-other");
}

#[test]
fn an_unknown_secret_or_an_empty_value_is_refused_with_the_fix() {
    let stage = stage();
    let unknown = xtask(&["secrets", "set", "--stage", &stage, "aws-key"], "x\n");
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("openai-api-key, openweather-api-key"),
        "{}",
        text(&unknown)
    );
    let empty = xtask(
        &["secrets", "set", "--stage", &stage, "openweather-api-key"],
        "\n",
    );
    assert!(!empty.status.success());
    assert!(text(&empty).contains("empty"), "{}", text(&empty));
}
