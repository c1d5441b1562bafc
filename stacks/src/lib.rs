//! Mumble's infrastructure as typed data: stage settings in, CloudFormation templates out.

pub mod cfn;
pub mod environment;
pub mod functions;
pub mod monitoring;
pub mod openapi;
pub mod resources;
pub mod routes;
pub mod settings;
mod stacks;

pub use cfn::Template;
pub use functions::{FUNCTIONS, FunctionKind, FunctionSpec};
pub use mumble_contract::{Output, Part};
pub use settings::{Settings, SettingsError, Stage, TrafficShifting};
pub use stacks::STAGE_TAG;

/// One synthesized stack, ready to write or deploy.
#[derive(Clone, Debug)]
pub struct SynthStack {
    /// `mumble-{stage}-{part}`.
    pub name: String,
    pub part: Part,
    pub region: String,
    pub template: Template,
}

/// Every stack of a stage, in deploy order.
pub fn synth(stage: &Stage) -> Vec<SynthStack> {
    Part::ALL
        .into_iter()
        .filter_map(|part| {
            let (region, template) = match part {
                Part::Bootstrap => (&*stage.region, stacks::bootstrap::template(stage)),
                Part::Cert => (stacks::cert::REGION, stacks::cert::template(stage)?),
                Part::Data => (&*stage.region, stacks::data::template(stage)),
                Part::App => (&*stage.region, stacks::app::template(stage)),
                Part::Web => (&*stage.region, stacks::web::template(stage)),
            };
            Some(SynthStack {
                name: stage.stack_name(part),
                part,
                region: region.to_owned(),
                template,
            })
        })
        .collect()
}
