//! Mumble's infrastructure as typed data: stage settings in, CloudFormation templates out.

pub mod cfn;
pub mod functions;
pub mod openapi;
pub mod resources;
pub mod routes;
pub mod settings;
mod stacks;

pub use cfn::Template;
pub use functions::{FUNCTIONS, FunctionKind, FunctionSpec};
pub use settings::{Settings, SettingsError, Stage};

/// The stacks of a stage, in deploy order (destroy in reverse).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The artifacts bucket (and the GitHub deploy role), in the stage's region.
    Bootstrap,
    /// The site's certificate, in us-east-1 as CloudFront requires; only for stages with a domain.
    Cert,
    /// Tables and the media bucket.
    Data,
    /// Functions, APIs, user pool, schedules, alarms.
    App,
    /// The site bucket and its CloudFront distribution.
    Web,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::Bootstrap,
        Part::Cert,
        Part::Data,
        Part::App,
        Part::Web,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Part::Bootstrap => "bootstrap",
            Part::Cert => "cert",
            Part::Data => "data",
            Part::App => "app",
            Part::Web => "web",
        }
    }
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
