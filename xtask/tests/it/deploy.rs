//! The deploy engine end to end: the real `cargo xtask` binary against the emulator, each test
//! on its own personal stage with its own copy of the site and its own small artifacts.
//!
//! A release build of every Lambda takes minutes, so these tests deploy prepared zips through
//! `MUMBLE_ARTIFACTS_DIR`; one test runs the real `cargo xtask build` for one function.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The functions the stacks deploy, written out so the tests notice one going missing.
pub(crate) const FUNCTIONS: [&str; 11] = [
    "health",
    "audio-upload",
    "weather",
    "gallery",
    "profile",
    "generate",
    "jobs",
    "worker",
    "image-processor",
    "websocket",
    "cleanup",
];

pub(crate) fn endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("set AWS_ENDPOINT_URL (run through `cargo xtask test`)");
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "AWS_ENDPOINT_URL must point at the local emulator on 127.0.0.1, not {endpoint}"
    );
    endpoint
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the workspace")
        .to_owned()
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A zip holding one `bootstrap` file with `content`.
pub(crate) fn write_zip(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    writer.start_file("bootstrap", options).unwrap();
    writer.write_all(content.as_bytes()).unwrap();
    writer.finish().unwrap();
}

/// One test's stage: a unique name, its own site folder and artifacts.
pub(crate) struct TestStage {
    pub(crate) name: String,
    pub(crate) dir: tempfile::TempDir,
}

impl TestStage {
    pub(crate) fn new() -> TestStage {
        let name = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let stage = TestStage {
            name,
            dir: tempfile::tempdir().unwrap(),
        };
        copy_dir(&workspace_root().join("site"), &stage.site());
        for function in FUNCTIONS {
            stage.set_code(function, "v1");
        }
        stage
    }

    pub(crate) fn site(&self) -> PathBuf {
        self.dir.path().join("site")
    }

    pub(crate) fn artifacts(&self) -> PathBuf {
        self.dir.path().join("artifacts")
    }

    pub(crate) fn set_code(&self, function: &str, version: &str) {
        write_zip(
            &self.artifacts().join(function).join("bootstrap.zip"),
            &format!("{function} {version}"),
        );
    }

    /// `cargo xtask synth` of this stage into `templates/` of its folder, which must succeed;
    /// the folder, for tests that edit a template and deploy it with `--templates`.
    pub(crate) fn synth_templates(&self) -> PathBuf {
        let templates = self.dir.path().join("templates");
        let synth = self.xtask(&[
            "synth",
            "--stage",
            &self.name,
            "--out",
            templates.to_str().unwrap(),
        ]);
        assert!(
            synth.status.success(),
            "{}",
            String::from_utf8_lossy(&synth.stderr)
        );
        templates
    }

    /// `xtask ARGS` with this stage's site and artifacts, ready to run.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .args(args)
            .env("MUMBLE_SITE_DIR", self.site())
            .env("MUMBLE_ARTIFACTS_DIR", self.artifacts())
            .env_remove("MUMBLE_TEMPLATES_DIR")
            .env("NO_COLOR", "1");
        command
    }

    pub(crate) fn xtask(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run the xtask binary")
    }

    /// `deploy --yes --output json`, which must succeed; returns the report.
    pub(crate) fn deploy(&self) -> Value {
        let output = self.xtask(&["deploy", "--stage", &self.name, "--yes", "--output", "json"]);
        json_of(&output, "deploy")
    }
}

/// The command's stdout as JSON, after checking it succeeded.
pub(crate) fn json_of(output: &Output, what: &str) -> Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} failed:\n{stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{what} --output json printed something that is not JSON ({error}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Every file under `dir` as an object key (`assets/js/app.js`).
fn files_under(dir: &Path) -> Vec<String> {
    let mut keys = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(dir).unwrap().to_owned();
                keys.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    keys.sort();
    keys
}

pub(crate) fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn deploys_sync_exactly_what_changed() {
    endpoint();
    let stage = TestStage::new();
    let site_files = files_under(&stage.site());
    assert!(
        site_files.len() >= 2,
        "the site needs index.html and one more file"
    );

    // A fresh deploy creates every stack, uploads every artifact and the whole site (plus the
    // generated config.json), and invalidates what it uploaded.
    let first = stage.deploy();
    let actions: Vec<&str> = first["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.len() >= 4 && actions.iter().all(|action| *action == "create"),
        "{actions:?}"
    );
    assert_eq!(strings(&first["artifactsUploaded"]).len(), FUNCTIONS.len());
    let uploaded = strings(&first["site"]["upload"]);
    let generated_config = usize::from(!site_files.contains(&"config.json".to_owned()));
    assert_eq!(
        uploaded.len(),
        site_files.len() + generated_config,
        "{uploaded:?}"
    );
    assert!(
        uploaded.contains(&"config.json".to_owned()) && uploaded.contains(&"index.html".to_owned())
    );
    assert!(
        !first["invalidation"]["id"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{first:#}"
    );
    assert!(
        first["apiUrl"]
            .as_str()
            .is_some_and(|url| url.starts_with("http")),
        "{first:#}"
    );

    // Nothing changed: nothing is uploaded, executed or invalidated.
    let second = stage.deploy();
    assert_eq!(strings(&second["artifactsUploaded"]), Vec::<String>::new());
    assert!(
        second["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["action"] == "unchanged"),
        "{second:#}"
    );
    assert_eq!(strings(&second["site"]["upload"]), Vec::<String>::new());
    assert_eq!(strings(&second["site"]["delete"]), Vec::<String>::new());
    assert!(second["invalidation"].is_null(), "{second:#}");
    assert!(
        second["release"].is_null(),
        "a deploy that changed nothing recorded a release: {second:#}"
    );

    // One site file and one function changed: exactly those are uploaded and invalidated.
    let changed = stage.site().join("index.html");
    let html = std::fs::read_to_string(&changed).unwrap();
    std::fs::write(&changed, html.replace("</body>", "<!-- changed --></body>")).unwrap();
    stage.set_code("health", "v2");
    let third = stage.deploy();
    assert_eq!(strings(&third["site"]["upload"]), ["index.html"]);
    assert_eq!(
        strings(&third["invalidation"]["paths"]),
        ["/", "/index.html"]
    );
    let artifacts = strings(&third["artifactsUploaded"]);
    assert!(
        artifacts.len() == 1 && artifacts[0].starts_with("lambdas/health/"),
        "{artifacts:?}"
    );
    let app = third["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().unwrap().ends_with("-app"))
        .unwrap();
    assert_eq!(app["action"], "update", "{third:#}");

    // A deleted site file is deleted from the bucket and invalidated; the plan is then empty.
    let gone = site_files
        .iter()
        .find(|key| *key != "index.html")
        .unwrap()
        .as_str();
    std::fs::remove_file(stage.site().join(gone)).unwrap();
    let fourth = stage.deploy();
    assert_eq!(strings(&fourth["site"]["delete"]), [gone]);
    assert_eq!(strings(&fourth["site"]["upload"]), Vec::<String>::new());
    assert_eq!(
        strings(&fourth["invalidation"]["paths"]),
        [format!("/{gone}")]
    );
    let plan = json_of(
        &stage.xtask(&["diff", "--stage", &stage.name, "--output", "json"]),
        "diff",
    );
    assert_eq!(
        strings(&plan["site"]["delete"]),
        Vec::<String>::new(),
        "{plan:#}"
    );
    assert_eq!(
        strings(&plan["site"]["upload"]),
        Vec::<String>::new(),
        "{plan:#}"
    );
    assert_eq!(
        strings(&plan["artifacts"]["upload"]),
        Vec::<String>::new(),
        "{plan:#}"
    );

    // The outputs parse and name the site bucket; then the stage goes away.
    let outputs = json_of(
        &stage.xtask(&["outputs", "--stage", &stage.name, "--output", "json"]),
        "outputs",
    );
    let web = &outputs[format!("mumble-{}-web", stage.name)];
    assert!(web["SiteBucketName"].is_string(), "{outputs:#}");
    let destroyed = stage.xtask(&["destroy", "--stage", &stage.name, "--confirm", &stage.name]);
    assert!(
        destroyed.status.success(),
        "{}",
        String::from_utf8_lossy(&destroyed.stderr)
    );
    let after = json_of(
        &stage.xtask(&["outputs", "--stage", &stage.name, "--output", "json"]),
        "outputs",
    );
    assert_eq!(after, serde_json::json!({}));
}

#[test]
fn diff_prices_a_memory_change_and_no_change_as_none() {
    endpoint();
    let stage = TestStage::new();
    stage.deploy();

    // Nothing changed: the plan's cost does not move, and the text says so.
    let plan = json_of(
        &stage.xtask(&["diff", "--stage", &stage.name, "--output", "json"]),
        "diff",
    );
    assert_eq!(plan["cost"]["deltaUsd"].as_f64(), Some(0.0), "{plan:#}");
    assert_eq!(plan["cost"]["changes"], serde_json::json!([]), "{plan:#}");
    assert!(plan["cost"]["afterUsd"].as_f64().unwrap() > 0.0, "{plan:#}");
    let text = stage.xtask(&["diff", "--stage", &stage.name]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("cost: no change"), "{stdout}");

    // The worker (512 MB in dev and personal stages) given 1024 MB costs more, and says why.
    let templates = stage.synth_templates();
    let app = templates.join(format!("mumble-{}-app.yaml", stage.name));
    let template = std::fs::read_to_string(&app).unwrap();
    let worker = template
        .find(&format!("FunctionName: mumble-{}-worker", stage.name))
        .unwrap();
    let memory = worker + template[worker..].find("MemorySize: 512").unwrap();
    let mut bigger = template.clone();
    bigger.replace_range(memory..memory + "MemorySize: 512".len(), "MemorySize: 1024");
    std::fs::write(&app, bigger).unwrap();
    let diff = |output: &str| {
        stage.xtask(&[
            "diff",
            "--stage",
            &stage.name,
            "--templates",
            templates.to_str().unwrap(),
            "--output",
            output,
        ])
    };
    let plan = json_of(&diff("json"), "diff --templates");
    let cost = &plan["cost"];
    assert!(cost["deltaUsd"].as_f64().unwrap() > 0.0, "{plan:#}");
    let change = &cost["changes"][0];
    assert_eq!(change["resource"], "WorkerFunction", "{plan:#}");
    assert_eq!(change["before"], "512 MB x86_64", "{plan:#}");
    assert_eq!(change["after"], "1024 MB x86_64", "{plan:#}");
    let text = diff("text");
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("WorkerFunction compute (x86_64) 512 MB x86_64 → 1024 MB x86_64: +$"),
        "{stdout}"
    );

    let destroyed = stage.xtask(&["destroy", "--stage", &stage.name, "--confirm", &stage.name]);
    assert!(
        destroyed.status.success(),
        "{}",
        String::from_utf8_lossy(&destroyed.stderr)
    );
}

#[test]
fn a_template_error_fails_with_the_resource_and_its_reason() {
    endpoint();
    let stage = TestStage::new();
    let templates = stage.synth_templates();
    // An SQS queue whose maximum message size is below SQS's minimum (1,024 bytes).
    let data = templates.join(format!("mumble-{}-data.yaml", stage.name));
    let template = std::fs::read_to_string(&data).unwrap();
    let broken = template.replacen(
        "Resources:\n",
        "Resources:\n  BrokenQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      MaximumMessageSize: 1\n",
        1,
    );
    assert_ne!(broken, template);
    std::fs::write(&data, broken).unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "deploy",
            "--stage",
            &stage.name,
            "--yes",
            "--templates",
            templates.to_str().unwrap(),
        ])
        .env("MUMBLE_SITE_DIR", stage.site())
        .env("MUMBLE_ARTIFACTS_DIR", stage.artifacts())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "a broken template deployed:\n{stderr}"
    );
    let failure = stderr
        .lines()
        .find(|line| line.starts_with("error: BrokenQueue (AWS::SQS::Queue) CREATE_FAILED"))
        .unwrap_or_else(|| panic!("no failed-resource line:\n{stderr}"));
    assert!(
        failure.contains("MaximumMessageSize"),
        "the reason is missing: {failure}"
    );
    assert!(stderr.contains("ROLLBACK_COMPLETE"), "{stderr}");

    // With the cause fixed, the next deploy says it deletes the rolled-back stack, then creates it.
    let fixed = stage.xtask(&["deploy", "--stage", &stage.name, "--yes"]);
    let stderr = String::from_utf8_lossy(&fixed.stderr);
    assert!(fixed.status.success(), "{stderr}");
    let notice = format!(
        "stack mumble-{}-data is in ROLLBACK_COMPLETE after a failed first create; deleting it",
        stage.name
    );
    assert!(stderr.contains(&notice), "{stderr}");
}

#[test]
fn destroying_a_protected_stage_is_refused() {
    let stage = TestStage::new();
    let output = stage.xtask(&["destroy", "--stage", "prod", "--confirm", "prod"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("stage `prod` is protected") && stderr.contains("refused"),
        "{stderr}"
    );
}

#[test]
fn without_a_terminal_deploy_needs_yes() {
    let stage = TestStage::new();
    let output = stage.xtask(&["deploy", "--stage", &stage.name]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("--yes"), "{stderr}");
}

#[test]
fn rebuilding_unchanged_code_gives_the_same_artifact_key() {
    let build = || {
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["build", "--function", "health", "--output", "json"])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let manifest = json_of(&output, "build");
        manifest["artifacts"][0]["key"].as_str().unwrap().to_owned()
    };
    let first = build();
    // cargo-lambda writes its zip again on every build, stamped with the time of the build: the
    // second build differs from the first exactly where an unstable hash would come from.
    let second = build();
    assert!(
        first.starts_with("lambdas/health/") && first.ends_with(".zip"),
        "{first}"
    );
    assert_eq!(first, second);
}
