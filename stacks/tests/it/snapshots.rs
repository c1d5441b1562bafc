//! Snapshots of every stack of every stage: a reviewer sees each template change in the diff.

use crate::{FILE_STAGES, full_stage, settings};

#[test]
fn every_stack_of_every_stage() {
    let settings = settings();
    let mut stages: Vec<_> = FILE_STAGES
        .iter()
        .map(|name| settings.stage(name).unwrap())
        .collect();
    stages.push(full_stage());
    for stage in stages {
        for stack in stacks::synth(&stage) {
            insta::assert_snapshot!(stack.name.clone(), stack.template.to_yaml());
        }
    }
}
