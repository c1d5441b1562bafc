//! One module per stack; each is a function from a stage to a template.

pub mod app;
pub mod bootstrap;
pub mod cert;
pub mod data;
pub mod web;

use mumble_contract::Output;

use crate::cfn::{self, Expr, Template};
use crate::settings::Stage;

/// The name under which a stack exports one of its outputs: `mumble-{stage}-{part}-{output}`.
pub fn export_name(stage: &Stage, output: Output) -> String {
    format!("{}-{}", stage.stack_name(output.part()), output.name())
}

/// Imports another stack's exported output.
pub fn import(stage: &Stage, output: Output) -> Expr {
    debug_assert!(output.exported(), "{output} is not exported");
    Expr::import(export_name(stage, output))
}

/// Writes one of the stack's outputs, exported when another stack imports it.
pub fn output(t: &mut Template, stage: &Stage, output: Output, value: Expr) {
    let mut written = cfn::Output::new(output.description(), value);
    if output.exported() {
        written = written.exported_as(export_name(stage, output));
    }
    t.output(output.name(), written);
}

/// An ARN in the stack's partition: `arn:${AWS::Partition}:{rest}` (`rest` may use `${...}`).
pub fn arn(rest: &str) -> Expr {
    Expr::sub(format!("arn:${{AWS::Partition}}:{rest}"))
}

/// The tag every stack of a stage carries (and CloudFormation passes on to its resources), so
/// policies can tell stages apart where AWS names resources by id.
pub const STAGE_TAG: &str = "mumble:stage";

/// `mumble-{stage}-boundary`: the managed policy every role the stacks create must carry.
pub fn boundary_name(stage: &Stage) -> String {
    format!("mumble-{}-boundary", stage.name)
}

/// The ARN of the stage's permissions boundary (made by the bootstrap stack).
pub fn boundary_arn(stage: &Stage) -> Expr {
    arn(&format!(
        "iam::${{AWS::AccountId}}:policy/{}",
        boundary_name(stage)
    ))
}
