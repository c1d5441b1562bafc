//! `cargo xtask migrate` end to end: dumps written by pymongo (`migrate/make_dump.py`, every messy
//! case the old data has) migrated into a freshly deployed stage on the emulator, then checked
//! through the stage's own APIs and `migrate verify`.
//!
//! One file over 500 lines: every test reads the same pymongo-written fixture through the same
//! `Migration` helpers at the top, and checks it against the same expected stage.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_config::BehaviorVersion;
use aws_sdk_cognitoidentityprovider::types::UserStatusType;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;

use crate::deploy::{TestStage, endpoint, json_of, workspace_root};

/// Legacy ids of the fixture (make_dump.py's `oid(n)`).
fn oid(n: u32) -> String {
    format!("5f1d7a3e9b1e8a2f3c4d{n:04x}")
}

/// A dump written by pymongo in `format`, for `scenario`, in `dir`.
fn make_dump(dir: &Path, format: &str, scenario: &str) {
    let script = workspace_root().join("xtask/tests/it/migrate/make_dump.py");
    let output = Command::new("python")
        .arg(script)
        .arg(dir)
        .args([format, scenario])
        .output()
        .expect("run python from the tools venv (run through `cargo xtask test`)");
    assert!(
        output.status.success(),
        "make_dump.py failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

struct Migration {
    stage: TestStage,
    dir: tempfile::TempDir,
    tables: BTreeMap<String, String>,
}

impl Migration {
    /// A deployed stage and a folder for dumps.
    fn new() -> Migration {
        endpoint();
        let stage = TestStage::new();
        stage.deploy();
        let outputs = json_of(
            &stage.xtask(&["outputs", "--stage", &stage.name, "--output", "json"]),
            "outputs",
        );
        let mut tables = BTreeMap::new();
        for values in outputs.as_object().unwrap().values() {
            for (name, value) in values.as_object().unwrap() {
                tables.insert(name.clone(), value.as_str().unwrap().to_owned());
            }
        }
        Migration {
            stage,
            dir: tempfile::tempdir().unwrap(),
            tables,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn rejects(&self) -> PathBuf {
        self.path("rejects.jsonl")
    }

    fn run(&self, extra: &[&str]) -> Output {
        let from = self.path("dump");
        let uploads = self.path("uploads");
        let rejects = self.rejects();
        let mut args = vec![
            "migrate",
            "--stage",
            &self.stage.name,
            "--from",
            from.to_str().unwrap(),
            "--uploads",
            uploads.to_str().unwrap(),
            "--rejects",
            rejects.to_str().unwrap(),
            "--output",
            "json",
        ];
        args.extend_from_slice(extra);
        self.stage.xtask(&args)
    }

    fn migrate(&self, extra: &[&str]) -> Value {
        json_of(&self.run(extra), "migrate")
    }

    fn verify(&self) -> Output {
        let from = self.path("dump");
        let uploads = self.path("uploads");
        self.stage.xtask(&[
            "migrate",
            "verify",
            "--stage",
            &self.stage.name,
            "--from",
            from.to_str().unwrap(),
            "--uploads",
            uploads.to_str().unwrap(),
            "--every",
            "1",
            "--output",
            "json",
        ])
    }

    async fn config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint())
            .load()
            .await
    }

    /// Every item of a table.
    async fn scan(&self, table_output: &str) -> Vec<BTreeMap<String, AttributeValue>> {
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.config().await);
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = dynamodb
                .scan()
                .table_name(&self.tables[table_output])
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            items.extend(
                page.items
                    .unwrap_or_default()
                    .into_iter()
                    .map(|item| item.into_iter().collect()),
            );
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return items,
            }
        }
    }

    /// The migrated image records by legacy id.
    async fn images(&self) -> BTreeMap<String, BTreeMap<String, AttributeValue>> {
        self.scan("ImagesTableName")
            .await
            .into_iter()
            .map(|item| (s(&item, "legacyId"), item))
            .collect()
    }

    /// The Cognito accounts: e-mail → (sub, status).
    async fn accounts(&self) -> BTreeMap<String, (String, UserStatusType)> {
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&self.config().await);
        let users = cognito
            .list_users()
            .user_pool_id(&self.tables["UserPoolId"])
            .send()
            .await
            .unwrap();
        users
            .users()
            .iter()
            .map(|user| {
                let attribute = |name: &str| {
                    user.attributes()
                        .iter()
                        .find(|a| a.name() == name)
                        .and_then(|a| a.value())
                        .unwrap()
                        .to_owned()
                };
                (
                    attribute("email"),
                    (attribute("sub"), user.user_status().unwrap().clone()),
                )
            })
            .collect()
    }

    async fn object_exists(&self, key: &str) -> bool {
        let s3 = aws_sdk_s3::Client::new(&self.config().await);
        s3.head_object()
            .bucket(&self.tables["MediaBucketName"])
            .key(key)
            .send()
            .await
            .is_ok()
    }

    /// The rejects file's lines as (collection, id, outcome, reason).
    fn rejects_lines(&self) -> Vec<(String, String, String, String)> {
        std::fs::read_to_string(self.rejects())
            .unwrap()
            .lines()
            .map(|line| {
                let v: Value = serde_json::from_str(line).unwrap();
                let f = |k: &str| v[k].as_str().unwrap().to_owned();
                (f("collection"), f("id"), f("outcome"), f("reason"))
            })
            .collect()
    }
}

fn s(item: &BTreeMap<String, AttributeValue>, name: &str) -> String {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

fn count(report: &Value, collection: &str, field: &str) -> u64 {
    report["collections"][collection][field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {collection}.{field} in {report}"))
}

/// What the base fixture must become in any stage, whichever format it came in.
async fn assert_base_migrated(m: &Migration) {
    let accounts = m.accounts().await;
    let emails: Vec<&String> = accounts.keys().collect();
    assert_eq!(
        emails,
        [
            "ada@example.org",
            "bob@example.com",
            "li@example.cn",
            "wang@example.cn"
        ],
        "one account per person; the two Adas are one"
    );
    for (email, (_, status)) in &accounts {
        assert_eq!(
            *status,
            UserStatusType::ResetRequired,
            "{email} must reset their password to sign in"
        );
    }
    let ada = &accounts["ada@example.org"].0;

    let images = m.images().await;
    let migrated: Vec<&String> = images.keys().collect();
    let expected: Vec<String> = [101, 102, 103, 104, 105, 109, 110, 111].map(oid).to_vec();
    assert_eq!(
        migrated,
        expected.iter().collect::<Vec<_>>(),
        "every image but the rejected and the soft-deleted one"
    );
    // The merged user's image follows them to the one account.
    assert_eq!(s(&images[&oid(102)], "userId"), *ada);
    let clean = &images[&oid(101)];
    assert_eq!(s(clean, "transcript"), "a cat on a roof");
    assert_eq!(s(clean, "createdAt"), "2021-03-01T13:00:00.000Z");
    assert!(m.object_exists(&s(clean, "imageKey")).await);
    assert!(m.object_exists(&s(clean, "thumbnailKey")).await);
    assert!(clean.contains_key("width") && clean.contains_key("dominantColor"));
    let messy = &images[&oid(105)];
    assert_eq!(s(messy, "transcript"), "12345");
    assert_eq!(
        messy["weather"].as_m().unwrap()["temperature"],
        AttributeValue::N("21.5".into())
    );
    for lost in [103, 104, 110, 111] {
        assert_eq!(
            images[&oid(lost)].get("unavailable"),
            Some(&AttributeValue::Bool(true)),
            "image {lost} has no picture"
        );
    }
    // No password hash went anywhere.
    for item in m.scan("UsersTableName").await {
        assert!(
            item.values().all(|v| !format!("{v:?}").contains("$2b$")),
            "{item:?}"
        );
    }
}

fn assert_base_report(report: &Value) {
    assert_eq!(count(report, "users", "read"), 7);
    assert_eq!(count(report, "users", "written"), 4);
    assert_eq!(count(report, "users", "merged"), 1);
    assert_eq!(count(report, "users", "rejected"), 2);
    assert_eq!(count(report, "images", "read"), 12);
    assert_eq!(count(report, "images", "written"), 8);
    assert_eq!(count(report, "images", "rejected"), 3);
    assert_eq!(count(report, "images", "filesCopied"), 4);
    assert_eq!(count(report, "images", "filesMissing"), 4);
}

#[test]
fn a_bson_dump_migrates_verifies_and_a_rerun_writes_nothing() {
    let m = Migration::new();
    make_dump(m.dir.path(), "bson", "base");

    let report = m.migrate(&[]);
    assert_base_report(&report);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(assert_base_migrated(&m));

    // Every messy case is listed with its reason.
    let lines = m.rejects_lines();
    let reason = |id: &str| {
        lines
            .iter()
            .find(|(_, line_id, _, _)| line_id == id)
            .unwrap_or_else(|| panic!("{id} is not in the rejects file: {lines:?}"))
            .clone()
    };
    assert!(reason(&oid(5)).3.contains("no email"));
    assert!(reason(&oid(6)).3.contains("not an e-mail address"));
    assert!(reason(&oid(106)).3.contains("not among the migrated users"));
    assert!(reason(&oid(107)).3.contains("no userId"));
    assert!(reason(&oid(103)).3.contains("expired"));
    assert!(reason(&oid(104)).3.contains("missing"));
    assert!(reason(&oid(110)).3.contains("not an image"));
    assert!(reason(&oid(111)).3.contains("leaves the uploads folder"));
    assert_eq!(reason(&oid(103)).2, "unavailable");
    assert!(
        lines
            .iter()
            .any(|(c, id, _, r)| c == "images" && id.starts_with("byte ") && r.contains("BSON")),
        "the corrupt document is listed by its offset: {lines:?}"
    );

    let verified = m.verify();
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(
        verified.status.success(),
        "verify failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&verified.stderr)
    );

    let again = m.migrate(&[]);
    assert_eq!(count(&again, "users", "written"), 0, "{again}");
    assert_eq!(count(&again, "images", "written"), 0, "{again}");
    assert_eq!(count(&again, "images", "filesCopied"), 0, "{again}");
    assert_eq!(count(&again, "users", "skipped"), 5, "{again}");
    assert_eq!(count(&again, "images", "skipped"), 9, "{again}");

    // A record changed behind the migration's back is a difference verify reports.
    runtime.block_on(async {
        let dynamodb = aws_sdk_dynamodb::Client::new(&m.config().await);
        let images = m.images().await;
        let record = &images[&oid(101)];
        dynamodb
            .update_item()
            .table_name(&m.tables["ImagesTableName"])
            .key("imageId", record["imageId"].clone())
            .key("createdAt", record["createdAt"].clone())
            .update_expression("SET prompt = :p")
            .expression_attribute_values(":p", AttributeValue::S("tampered".into()))
            .send()
            .await
            .unwrap();
    });
    let verified = m.verify();
    assert!(!verified.status.success());
    assert!(String::from_utf8_lossy(&verified.stdout).contains("tampered"));
}

#[test]
fn a_gzip_dump_killed_midway_finishes_on_rerun_without_duplicates() {
    let m = Migration::new();
    make_dump(m.dir.path(), "bson-gz", "base");

    // Killed after three accounts were made, before any profile or map item was written.
    let killed = m.run(&["--abort-after", "3"]);
    assert_eq!(
        killed.status.code(),
        Some(137),
        "the run stops as if killed"
    );

    let report = m.migrate(&[]);
    // The accounts the killed run made are found again, not made twice: the report is a whole
    // run's.
    assert_base_report(&report);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(assert_base_migrated(&m));
    runtime.block_on(async {
        // Exactly one record per image and no orphaned objects under other owners.
        assert_eq!(m.scan("ImagesTableName").await.len(), 8);
    });
    assert!(m.verify().status.success());
    let again = m.migrate(&[]);
    assert_eq!(count(&again, "images", "written"), 0, "{again}");
}

#[test]
fn json_lines_dry_run_then_an_incremental_run_after_changes() {
    let m = Migration::new();
    make_dump(m.dir.path(), "json-canonical", "base");
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let dry = m.migrate(&["--dry-run"]);
    assert_eq!(dry["dryRun"], true);
    assert_eq!(count(&dry, "images", "written"), 8, "{dry}");
    runtime.block_on(async {
        assert!(m.images().await.is_empty(), "a dry run writes nothing");
        assert!(m.accounts().await.is_empty(), "a dry run makes no account");
    });

    assert_base_report(&m.migrate(&[]));
    runtime.block_on(assert_base_migrated(&m));

    // A day later, exported again (relaxed this time): one image edited, one soft-deleted, one
    // new, one user renamed.
    std::fs::remove_dir_all(m.path("dump")).unwrap();
    make_dump(m.dir.path(), "json-relaxed", "changed");
    let before = runtime.block_on(m.images());
    let deleted_key = s(&before[&oid(105)], "imageKey");
    assert!(runtime.block_on(m.object_exists(&deleted_key)));

    let report = m.migrate(&[]);
    assert_eq!(count(&report, "users", "written"), 1, "{report}");
    assert_eq!(count(&report, "images", "written"), 2, "{report}");
    assert_eq!(count(&report, "images", "deleted"), 1, "{report}");
    assert_eq!(count(&report, "images", "filesCopied"), 2, "{report}");

    let after = runtime.block_on(m.images());
    assert!(
        !after.contains_key(&oid(105)),
        "the soft-deleted image is gone"
    );
    assert!(!runtime.block_on(m.object_exists(&deleted_key)));
    assert_eq!(s(&after[&oid(101)], "prompt"), "a cat, in watercolour");
    assert!(after.contains_key(&oid(112)));
    assert!(m.verify().status.success());

    // The incremental run skipped what the old site had not touched since the last run without
    // asking the stage; comparing every image finds nothing more to write.
    let full = m.migrate(&["--full"]);
    assert_eq!(count(&full, "images", "written"), 0, "{full}");
    assert_eq!(count(&full, "users", "written"), 0, "{full}");
}

#[test]
fn a_protected_stage_needs_yes_and_images_need_uploads() {
    let dir = tempfile::tempdir().unwrap();
    make_dump(dir.path(), "bson", "base");
    let dump = dir.path().join("dump");
    let xtask = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let refused = xtask(&[
        "migrate",
        "--stage",
        "prod",
        "--from",
        dump.to_str().unwrap(),
        "--uploads",
        dir.path().join("uploads").to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes"));

    let no_uploads = xtask(&[
        "migrate",
        "--stage",
        "dev",
        "--from",
        dump.to_str().unwrap(),
    ]);
    assert!(!no_uploads.status.success());
    assert!(String::from_utf8_lossy(&no_uploads.stderr).contains("--uploads"));
}

fn attribute(name: &str, value: &str) -> aws_sdk_cognitoidentityprovider::types::AttributeType {
    aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}

/// An account a killed run left between its steps (its password set, the reset not yet asked
/// for) is finished by the next run, which its mark in the users table tells it; an account
/// someone made on the new site themselves (no mark) keeps its password.
#[test]
fn an_account_stopped_between_its_steps_is_finished_and_someones_own_is_left_alone() {
    let m = Migration::new();
    make_dump(m.dir.path(), "bson", "base");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = m.config().await;
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&config);
        for email in ["bob@example.com", "li@example.cn"] {
            cognito
                .admin_create_user()
                .user_pool_id(&m.tables["UserPoolId"])
                .username(email)
                .user_attributes(attribute("email", email))
                .user_attributes(attribute("email_verified", "true"))
                .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
                .temporary_password("Temporary-2026!")
                .send()
                .await
                .unwrap();
            cognito
                .admin_set_user_password()
                .user_pool_id(&m.tables["UserPoolId"])
                .username(email)
                .password("Their-own-2026!")
                .permanent(true)
                .send()
                .await
                .unwrap();
        }
        aws_sdk_dynamodb::Client::new(&config)
            .put_item()
            .table_name(&m.tables["UsersTableName"])
            .item(
                "userId",
                AttributeValue::S("migration#account#bob@example.com".into()),
            )
            .send()
            .await
            .unwrap();
    });

    m.migrate(&[]);
    let accounts = runtime.block_on(m.accounts());
    assert_eq!(accounts["bob@example.com"].1, UserStatusType::ResetRequired);
    assert_eq!(
        accounts["li@example.cn"].1,
        UserStatusType::Confirmed,
        "an account someone made on the new site keeps its password"
    );
    let marks: Vec<String> = runtime
        .block_on(m.scan("UsersTableName"))
        .iter()
        .map(|item| s(item, "userId"))
        .filter(|key| key.starts_with("migration#account#"))
        .collect();
    assert!(marks.is_empty(), "marks left behind: {marks:?}");
}
