//! One module per stack; each is a function from a stage to a template.

pub mod app;
pub mod bootstrap;
pub mod cert;
pub mod data;
pub mod web;

use crate::cfn::Expr;
use crate::settings::Stage;

/// The name under which a stack exports one of its outputs: `mumble-{stage}-{part}-{output}`.
pub fn export_name(stage: &Stage, part: crate::Part, output: &str) -> String {
    format!("{}-{output}", stage.stack_name(part))
}

/// Imports another stack's exported output.
pub fn import(stage: &Stage, part: crate::Part, output: &str) -> Expr {
    Expr::import(export_name(stage, part, output))
}

/// An ARN in the stack's partition: `arn:${AWS::Partition}:{rest}` (`rest` may use `${...}`).
pub fn arn(rest: &str) -> Expr {
    Expr::sub(format!("arn:${{AWS::Partition}}:{rest}"))
}
