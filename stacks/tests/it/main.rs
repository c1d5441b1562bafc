//! Integration tests of the stacks crate: settings, templates, routes and the OpenAPI document.

mod cfn;
mod openapi;
mod permissions;
mod properties;
mod settings;
mod snapshots;

use serde_json::Value;
use stacks::{Part, Settings, Stage, SynthStack};

/// The stages written in `stages.yaml`.
pub const FILE_STAGES: [&str; 4] = ["local", "dev", "staging", "prod"];

pub fn settings() -> Settings {
    Settings::load(concat!(env!("CARGO_MANIFEST_DIR"), "/stages.yaml")).expect("stages.yaml loads")
}

/// A stage with every optional setting in use (hosted zone, GitHub role, alarm e-mail, arm64).
pub fn full_stage() -> Stage {
    Settings::load(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/fixtures/full.yaml"
    ))
    .expect("the fixture loads")
    .stage("live")
    .expect("the fixture defines live")
}

/// Every stage worth checking: the file's, a personal one, and the fixture's.
pub fn all_stages() -> Vec<Stage> {
    let settings = settings();
    let mut stages: Vec<Stage> = FILE_STAGES
        .iter()
        .map(|name| settings.stage(name).expect("file stage"))
        .collect();
    stages.push(settings.stage("alice").expect("personal stage"));
    stages.push(full_stage());
    stages
}

pub fn stack(stage: &Stage, part: Part) -> Option<SynthStack> {
    stacks::synth(stage).into_iter().find(|s| s.part == part)
}

/// The template as CloudFormation sees it.
pub fn json(stack: &SynthStack) -> Value {
    serde_json::to_value(&stack.template).expect("templates serialize")
}

/// `(logical id, resource)` pairs of one type.
pub fn resources_of<'a>(template: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    template["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(id, r)| (id.as_str(), r))
        .collect()
}
