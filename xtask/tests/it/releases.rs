//! Releases and rollback end to end: the real binary deploys three releases (a code change, a
//! site change, a template change) to the emulator, lists them, and rolls back and forth; each
//! time the stacks' templates and parameters (and so the functions' code keys) and the site's
//! bytes are compared with what the release recorded. Hotswap and `watch` are tested the same way.
//!
//! One file over 500 lines: every test compares the stage with what a release recorded, through the
//! same observation helpers at the top.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use aws_config::{BehaviorVersion, SdkConfig};
use serde_json::Value;

use crate::deploy::{TestStage, endpoint, json_of, strings};

pub(crate) async fn config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .load()
        .await
}

/// The stage as the emulator holds it: each stack's template and parameters, and the site.
struct Observed {
    templates: BTreeMap<String, String>,
    parameters: BTreeMap<String, BTreeMap<String, String>>,
    site: BTreeMap<String, Vec<u8>>,
}

impl TestStage {
    fn deploy_templates(&self, templates: &Path) -> Value {
        let output = self.xtask(&[
            "deploy",
            "--stage",
            &self.name,
            "--yes",
            "--output",
            "json",
            "--templates",
            templates.to_str().unwrap(),
        ]);
        json_of(&output, "deploy")
    }

    fn rollback(&self, to: Option<&str>) -> Value {
        let mut args = vec![
            "rollback", "--stage", &self.name, "--yes", "--output", "json",
        ];
        if let Some(to) = to {
            args.extend(["--to", to]);
        }
        json_of(&self.xtask(&args), "rollback")
    }

    fn output(&self, name: &str) -> String {
        let outputs = json_of(
            &self.xtask(&["outputs", "--stage", &self.name, "--output", "json"]),
            "outputs",
        );
        outputs
            .as_object()
            .unwrap()
            .values()
            .find_map(|stack| stack[name].as_str())
            .unwrap_or_else(|| panic!("no output {name}: {outputs:#}"))
            .to_owned()
    }
}

async fn observe(config: &SdkConfig, stage: &TestStage) -> Observed {
    let cfn = aws_sdk_cloudformation::Client::new(config);
    let s3 = aws_sdk_s3::Client::new(config);
    let mut observed = Observed {
        templates: BTreeMap::new(),
        parameters: BTreeMap::new(),
        site: BTreeMap::new(),
    };
    for part in ["bootstrap", "data", "app", "web"] {
        let name = format!("mumble-{}-{part}", stage.name);
        let template = cfn
            .get_template()
            .stack_name(&name)
            .send()
            .await
            .unwrap()
            .template_body
            .unwrap();
        let described = cfn
            .describe_stacks()
            .stack_name(&name)
            .send()
            .await
            .unwrap();
        let parameters = described.stacks()[0]
            .parameters()
            .iter()
            .map(|p| {
                (
                    p.parameter_key().unwrap().to_owned(),
                    p.parameter_value().unwrap().to_owned(),
                )
            })
            .collect();
        observed.templates.insert(name.clone(), template);
        observed.parameters.insert(name, parameters);
    }
    let bucket = stage.output("SiteBucketName");
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
    for object in listed.contents() {
        let key = object.key().unwrap();
        let body = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes()
            .to_vec();
        observed.site.insert(key.to_owned(), body);
    }
    observed
}

/// A release record as stored in the artifacts bucket, and the template bodies it names.
async fn recorded(
    config: &SdkConfig,
    stage: &TestStage,
    id: u64,
) -> (Value, BTreeMap<String, String>) {
    let s3 = aws_sdk_s3::Client::new(config);
    let bucket = stage.output("ArtifactsBucketName");
    let get = |key: String| {
        let s3 = s3.clone();
        let bucket = bucket.clone();
        async move {
            let body = s3
                .get_object()
                .bucket(&bucket)
                .key(&key)
                .send()
                .await
                .unwrap_or_else(|error| panic!("{key}: {error:?}"))
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes();
            String::from_utf8(body.to_vec()).unwrap()
        }
    };
    let release: Value =
        serde_json::from_str(&get(format!("releases/{}/{id:06}.json", stage.name)).await).unwrap();
    let mut templates = BTreeMap::new();
    for stack in release["stacks"].as_array().unwrap() {
        let key = stack["templateKey"].as_str().unwrap().to_owned();
        templates.insert(stack["name"].as_str().unwrap().to_owned(), get(key).await);
    }
    (release, templates)
}

/// The stage is exactly as release `id` recorded it, and its site holds `site` (path → bytes).
async fn assert_at(
    config: &SdkConfig,
    stage: &TestStage,
    id: u64,
    site: &BTreeMap<String, Vec<u8>>,
) {
    let (release, templates) = recorded(config, stage, id).await;
    let observed = observe(config, stage).await;
    for (name, template) in &templates {
        if let Some(now) = observed.templates.get(name) {
            assert_eq!(
                now, template,
                "the template of {name} is not release {id}'s"
            );
        }
    }
    for stack in release["stacks"].as_array().unwrap() {
        let name = stack["name"].as_str().unwrap();
        let recorded: BTreeMap<String, String> =
            serde_json::from_value(stack["parameters"].clone()).unwrap();
        if let Some(now) = observed.parameters.get(name) {
            assert_eq!(
                now, &recorded,
                "the parameters of {name} are not release {id}'s"
            );
        }
    }
    let health = release["functions"]["health"].as_str().unwrap();
    let app = &observed.parameters[&format!("mumble-{}-app", stage.name)];
    assert!(
        app.values().any(|value| value == health),
        "the health function's code key is not {health}: {app:?}"
    );
    for (key, bytes) in site {
        assert_eq!(
            observed.site.get(key),
            Some(bytes),
            "site file {key} is not release {id}'s"
        );
    }
    let extra: Vec<&String> = observed
        .site
        .keys()
        .filter(|key| !site.contains_key(*key) && *key != "config.json")
        .collect();
    assert!(
        extra.is_empty(),
        "files release {id} did not have: {extra:?}"
    );
}

fn site_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else if !entry.file_name().to_string_lossy().starts_with('.') {
                let key = entry
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                files.insert(key, std::fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}

fn changes_of(list: &Value, id: u64) -> &Value {
    &list
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["id"] == id)
        .unwrap_or_else(|| panic!("no release {id}: {list:#}"))["changes"]
}

#[tokio::test]
async fn releases_record_each_deploy_and_rollback_puts_code_site_and_templates_back() {
    let config = config().await;
    let stage = TestStage::new();
    let templates = stage.synth_templates();
    let data = templates.join(format!("mumble-{}-data.yaml", stage.name));
    let data_name = format!("mumble-{}-data", stage.name);
    let app_name = format!("mumble-{}-app", stage.name);

    // Release 1; release 2 changes one function's code; release 3 changes a site file and adds
    // one; release 4 changes a template.
    assert_eq!(stage.deploy_templates(&templates)["release"], 1);
    let site_1 = site_files(&stage.site());
    stage.set_code("health", "v2");
    assert_eq!(stage.deploy_templates(&templates)["release"], 2);
    let index = stage.site().join("index.html");
    let html = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, html.replace("</body>", "<!-- release 3 --></body>")).unwrap();
    std::fs::write(stage.site().join("added.txt"), "added in release 3\n").unwrap();
    assert_eq!(stage.deploy_templates(&templates)["release"], 3);
    let site_3 = site_files(&stage.site());
    let template = std::fs::read_to_string(&data).unwrap();
    let changed = template.replacen(
        "Resources:\n",
        "Resources:\n  ReleaseFourQueue:\n    Type: AWS::SQS::Queue\n",
        1,
    );
    assert_ne!(changed, template);
    std::fs::write(&data, changed).unwrap();
    let fourth = stage.deploy_templates(&templates);
    assert_eq!(fourth["release"], 4, "{fourth:#}");

    // `releases` lists them newest first, each with what it changed.
    let list = json_of(
        &stage.xtask(&["releases", "--stage", &stage.name, "--output", "json"]),
        "releases",
    );
    let ids: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [4, 3, 2, 1]);
    assert_eq!(
        strings(&changes_of(&list, 4)["stacks"]),
        std::slice::from_ref(&data_name)
    );
    assert_eq!(
        strings(&changes_of(&list, 4)["functions"]),
        Vec::<String>::new()
    );
    assert_eq!(
        strings(&changes_of(&list, 3)["siteChanged"]),
        ["index.html"]
    );
    assert_eq!(strings(&changes_of(&list, 3)["siteAdded"]), ["added.txt"]);
    assert_eq!(
        strings(&changes_of(&list, 3)["stacks"]),
        Vec::<String>::new()
    );
    assert_eq!(strings(&changes_of(&list, 2)["functions"]), ["health"]);
    assert_eq!(
        strings(&changes_of(&list, 2)["stacks"]),
        std::slice::from_ref(&app_name)
    );
    assert!(changes_of(&list, 1).is_null(), "{list:#}");

    // Back to the previous release: the template change is undone (the queue goes).
    let back = stage.rollback(None);
    assert_eq!(
        (back["from"].as_u64(), back["to"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(back["release"], 5, "{back:#}");
    assert_at(&config, &stage, 3, &site_3).await;
    assert!(!observe(&config, &stage).await.templates[&data_name].contains("ReleaseFourQueue"));

    // Back to the first: the first code, the first site (the added file gone), no change set for
    // the data stack's template beyond what differs.
    let first = stage.rollback(Some("1"));
    assert_eq!(first["release"], 6, "{first:#}");
    assert!(
        strings(&first["site"]["delete"]).contains(&"added.txt".to_owned()),
        "{first:#}"
    );
    assert!(
        strings(&first["site"]["upload"]).contains(&"index.html".to_owned()),
        "{first:#}"
    );
    assert_at(&config, &stage, 1, &site_1).await;

    // A rollback of that rollback returns to the later release (5, which was release 3).
    let again = stage.rollback(None);
    assert_eq!(
        (again["from"].as_u64(), again["to"].as_u64()),
        (Some(6), Some(5))
    );
    assert_at(&config, &stage, 3, &site_3).await;
    let list = json_of(
        &stage.xtask(&["releases", "--stage", &stage.name, "--output", "json"]),
        "releases",
    );
    assert_eq!(list[0]["what"], "rollback to 5", "{list:#}");
    assert_eq!(list[1]["what"], "rollback to 1", "{list:#}");

    // A rollback to the current release, or to one that does not exist, is refused by name.
    let current = stage.xtask(&["rollback", "--stage", &stage.name, "--yes", "--to", "7"]);
    let stderr = String::from_utf8_lossy(&current.stderr);
    assert!(
        !current.status.success() && stderr.contains("is the current release"),
        "{stderr}"
    );
    let missing = stage.xtask(&["rollback", "--stage", &stage.name, "--yes", "--to", "99"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        !missing.status.success() && stderr.contains("no release 99"),
        "{stderr}"
    );
}

/// Each function's name → the SHA-256 of the code it runs.
async fn code_hashes(config: &SdkConfig, stage: &TestStage) -> BTreeMap<String, String> {
    let lambda = aws_sdk_lambda::Client::new(config);
    let mut hashes = BTreeMap::new();
    for function in crate::deploy::FUNCTIONS {
        let name = format!("mumble-{}-{function}", stage.name);
        let configuration = lambda
            .get_function_configuration()
            .function_name(&name)
            .send()
            .await
            .unwrap_or_else(|error| panic!("{name}: {error:?}"));
        hashes.insert(
            function.to_owned(),
            configuration.code_sha256().unwrap().to_owned(),
        );
    }
    hashes
}

#[tokio::test]
async fn hotswap_changes_one_function_and_nothing_else() {
    let config = config().await;
    let stage = TestStage::new();
    assert_eq!(stage.deploy()["release"], 1);
    let before = code_hashes(&config, &stage).await;

    stage.set_code("health", "hotswapped");
    let output = stage.xtask(&[
        "deploy",
        "--stage",
        &stage.name,
        "--yes",
        "--hotswap",
        "--output",
        "json",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = json_of(&output, "deploy --hotswap");
    assert_eq!(report["release"], 2, "{report:#}");
    assert!(
        !stderr.contains("change set") && !stderr.contains("cannot hotswap"),
        "{stderr}"
    );
    assert!(
        report["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|stack| stack["action"] == "unchanged"),
        "{report:#}"
    );
    assert_eq!(strings(&report["site"]["upload"]), Vec::<String>::new());
    let after = code_hashes(&config, &stage).await;
    let changed: Vec<&String> = after
        .iter()
        .filter(|(function, hash)| before[*function] != **hash)
        .map(|(function, _)| function)
        .collect();
    assert_eq!(changed, ["health"]);

    // The next full deploy with the same code finds nothing to do.
    let full = stage.deploy();
    assert!(full["release"].is_null(), "{full:#}");
    assert!(
        full["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|stack| stack["action"] == "unchanged"),
        "{full:#}"
    );

    // A template change cannot be hotswapped: it falls back to a full deploy and says why.
    let templates = stage.synth_templates();
    let data = templates.join(format!("mumble-{}-data.yaml", stage.name));
    let template = std::fs::read_to_string(&data).unwrap();
    std::fs::write(
        &data,
        template.replacen(
            "Resources:\n",
            "Resources:\n  HotswapQueue:\n    Type: AWS::SQS::Queue\n",
            1,
        ),
    )
    .unwrap();
    let fallback = stage.xtask(&[
        "deploy",
        "--stage",
        &stage.name,
        "--yes",
        "--hotswap",
        "--output",
        "json",
        "--templates",
        templates.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&fallback.stderr);
    let report = json_of(&fallback, "deploy --hotswap with a template change");
    assert!(
        stderr.contains(&format!(
            "cannot hotswap: the template of mumble-{}-data changed",
            stage.name
        )),
        "{stderr}"
    );
    assert_eq!(report["release"], 3, "{report:#}");

    // Rolling back to the release before the hotswap puts the old code back.
    stage.rollback(Some("1"));
    assert_eq!(code_hashes(&config, &stage).await, before);
}

#[test]
fn hotswap_and_watch_are_refused_in_a_protected_stage() {
    let stage = TestStage::new();
    let hotswap = stage.xtask(&["deploy", "--stage", "prod", "--yes", "--hotswap"]);
    let stderr = String::from_utf8_lossy(&hotswap.stderr);
    assert!(!hotswap.status.success());
    assert!(
        stderr.contains("stage `prod` is protected") && stderr.contains("without --hotswap"),
        "{stderr}"
    );
    let watch = stage.xtask(&["watch", "--stage", "prod"]);
    let stderr = String::from_utf8_lossy(&watch.stderr);
    assert!(!watch.status.success());
    assert!(
        stderr.contains("stage `prod` is protected")
            && stderr.contains("cargo xtask deploy --stage prod"),
        "{stderr}"
    );
}

/// `watch` publishes a saved site file as a release, says so on one line, and stops cleanly on
/// Ctrl-C (SIGINT).
#[test]
fn watch_syncs_a_saved_site_file_and_stops_on_ctrl_c() {
    use std::io::BufRead;
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let stage = TestStage::new();
    assert_eq!(stage.deploy()["release"], 1);
    /// Ends `watch` if the test fails before it does, so no orphan keeps the test's output open.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut watch = KillOnDrop(
        stage
            .command(&["watch", "--stage", &stage.name])
            .stderr(Stdio::piped())
            .spawn()
            .expect("start watch"),
    );
    let child = &mut watch.0;
    let (lines, received) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |needle: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(line) = received.recv_timeout(Duration::from_millis(200)) {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return;
                }
            }
        }
        panic!("watch never said {needle:?}; it said:\n{}", seen.join("\n"));
    };
    wait_for("watching");
    std::fs::write(stage.site().join("watched.txt"), "saved while watching\n").unwrap();
    wait_for("site: watched.txt; release 2");

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "watch was still running 30 s after Ctrl-C; it said:\n{}",
            seen.join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "watch ended with {status} after Ctrl-C");
    let releases = json_of(
        &stage.xtask(&["releases", "--stage", &stage.name, "--output", "json"]),
        "releases",
    );
    assert_eq!(releases[0]["id"], 2, "{releases:#}");
}
