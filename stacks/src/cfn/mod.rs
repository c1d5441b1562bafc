//! The CloudFormation template model: intrinsic functions, templates, IAM policy documents.

pub mod iam;
mod intrinsic;
mod template;

pub use intrinsic::{Expr, Pseudo};
pub use template::{
    CfnLint, CfnLintConfig, Condition, Export, Metadata, Output, Parameter, ParameterSource,
    Policy, Resource, Template,
};
