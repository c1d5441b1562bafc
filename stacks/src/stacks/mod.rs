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
