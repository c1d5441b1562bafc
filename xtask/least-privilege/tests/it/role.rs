//! A function's role exactly as the stacks crate synthesizes it, made in the enforcing emulator
//! by CloudFormation and assumed through STS.
//!
//! Only the role's trust policy is replaced (the test assumes the role, not Lambda). Its inline
//! policies keep every statement; their references (`Fn::ImportValue` of the data stack's
//! exports, `Fn::Sub`, `Fn::GetAtt`, `Ref`) become the test's own tables, bucket and names.

use std::collections::HashMap;
use std::future::Future;
use std::sync::OnceLock;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use serde_json::{Map, Value, json};

use crate::enforced::{ACCOUNT, Enforcing, REGION};

/// The stage whose templates the roles come from.
pub const STAGE: &str = "dev";

/// The app stack of [`STAGE`] as CloudFormation would receive it.
fn app_template() -> &'static Value {
    static TEMPLATE: OnceLock<Value> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let settings = stacks::Settings::load(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../stacks/stages.yaml"
        ))
        .expect("stacks/stages.yaml loads");
        let stage = settings.stage(STAGE).expect("the dev stage");
        let app = stacks::synth(&stage)
            .into_iter()
            .find(|stack| stack.part == stacks::Part::App)
            .expect("an app stack");
        serde_json::to_value(&app.template).expect("templates serialize")
    })
}

/// The function's resource of kind `suffix` (`Role`, `Function`) in the app template.
fn resource(function: &str, suffix: &str) -> &'static Value {
    let spec = stacks::functions::function(function)
        .unwrap_or_else(|| panic!("no function named {function}"));
    let id = format!("{}{suffix}", spec.pascal);
    let found = &app_template()["Resources"][&id];
    assert!(found.is_object(), "the app stack has no {id}");
    found
}

/// What the template's references stand for in one test.
pub struct Names {
    /// Export name (`mumble-dev-data-JobsTableArn`) to value.
    pub exports: HashMap<String, String>,
}

impl Names {
    /// `value` with every intrinsic function replaced by a plain string.
    pub fn resolve(&self, value: &Value) -> Value {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().expect("one entry");
                match key.as_str() {
                    "Fn::ImportValue" => {
                        let name = self.resolve(arg);
                        let name = name.as_str().expect("an export name");
                        Value::String(self.exports.get(name).cloned().unwrap_or_else(|| {
                            panic!("the test gives no value for the export {name}")
                        }))
                    }
                    "Fn::Sub" => Value::String(self.sub(arg)),
                    "Fn::GetAtt" => {
                        let parts = arg.as_array().expect("Fn::GetAtt takes a list");
                        let id = parts[0].as_str().expect("a logical id");
                        Value::String(stand_in(id))
                    }
                    "Ref" => {
                        let id = arg.as_str().expect("Ref takes a name");
                        Value::String(pseudo(id).map_or_else(|| stand_in(id), str::to_owned))
                    }
                    _ => Value::Object(self.resolve_map(map)),
                }
            }
            Value::Object(map) => Value::Object(self.resolve_map(map)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.resolve(v)).collect()),
            other => other.clone(),
        }
    }

    fn resolve_map(&self, map: &Map<String, Value>) -> Map<String, Value> {
        map.iter()
            .map(|(k, v)| (k.clone(), self.resolve(v)))
            .collect()
    }

    fn sub(&self, arg: &Value) -> String {
        let (text, vars) = match arg {
            Value::String(text) => (text.as_str(), Map::new()),
            Value::Array(parts) => (
                parts[0].as_str().expect("Fn::Sub text"),
                parts[1].as_object().cloned().unwrap_or_default(),
            ),
            other => panic!("unexpected Fn::Sub {other}"),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').expect("a closed ${...}") + start;
            let name = &rest[start + 2..end];
            let value = match vars.get(name) {
                Some(var) => self.resolve(var).as_str().expect("a string").to_owned(),
                None => pseudo(name).map_or_else(
                    || stand_in(name.split('.').next().unwrap_or(name)),
                    str::to_owned,
                ),
            };
            out.push_str(&value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn pseudo(name: &str) -> Option<&'static str> {
    Some(match name {
        "AWS::Region" => REGION,
        "AWS::AccountId" => ACCOUNT,
        "AWS::Partition" => "aws",
        "AWS::URLSuffix" => "amazonaws.com",
        "AWS::StackName" => "mumble-dev-app",
        _ => return None,
    })
}

/// The app stack's own resources (log groups, the dead-letter queue, the WebSocket API): the
/// handlers never call them, so any distinct value does.
fn stand_in(id: &str) -> String {
    format!("arn:aws:test:{REGION}:{ACCOUNT}:{id}")
}

/// A function running under its own role.
pub struct Role {
    pub function: &'static str,
    pub arn: String,
    /// The SDK configuration the function's adapters are built from: the role's credentials.
    pub sdk: SdkConfig,
    /// The function's environment as synthesized, with the test's names.
    pub environment: Map<String, Value>,
    access_key_id: String,
    emulator: &'static Enforcing,
}

impl Role {
    /// Creates `function`'s synthesized role in the emulator and assumes it.
    pub async fn assume(
        emulator: &'static Enforcing,
        names: &Names,
        function: &'static str,
    ) -> Role {
        let admin = emulator.admin();
        let mut properties = resource(function, "Role")["Properties"].clone();
        properties["Policies"] = names.resolve(&properties["Policies"]);
        properties["AssumeRolePolicyDocument"] = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": "*", "Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole"
            }]
        });
        let template = json!({
            "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": properties}},
            "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}}}
        });
        let cfn = aws_sdk_cloudformation::Client::new(&admin);
        let stack = format!("role-{function}-{}", uuid::Uuid::new_v4().simple());
        cfn.create_stack()
            .stack_name(&stack)
            .template_body(template.to_string())
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "create the {function} role: {}",
                    aws_sdk_cloudformation::error::DisplayErrorContext(e)
                )
            });
        let described = cfn
            .describe_stacks()
            .stack_name(&stack)
            .send()
            .await
            .expect("describe the role's stack");
        let role_arn = described
            .stacks()
            .first()
            .and_then(|s| s.outputs().first())
            .and_then(|o| o.output_value())
            .unwrap_or_else(|| panic!("the {function} role was not made: {described:?}"))
            .to_owned();
        let assumed = aws_sdk_sts::Client::new(&admin)
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(function)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "assume the {function} role: {}",
                    aws_sdk_sts::error::DisplayErrorContext(e)
                )
            });
        let credentials = assumed
            .credentials()
            .expect("AssumeRole answers credentials");
        let access_key_id = credentials.access_key_id().to_owned();
        let sdk = emulator.sdk_config(Credentials::new(
            &access_key_id,
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            None,
            "assumed-role",
        ));
        let environment = names
            .resolve(&resource(function, "Function")["Properties"]["Environment"]["Variables"])
            .as_object()
            .cloned()
            .unwrap_or_default();
        Role {
            function,
            arn: role_arn,
            sdk,
            environment,
            access_key_id,
            emulator,
        }
    }

    /// The value of the function's environment variable `name`, as deployed.
    pub fn env(&self, name: &str) -> String {
        self.environment
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{} has no environment variable {name}", self.function))
            .to_owned()
    }

    /// Runs `step` (a call of the function's handler), then fails the test if the role was
    /// refused anything on the way, naming the function, the step, the actions and resources.
    pub async fn run<T>(&self, step: &str, call: impl Future<Output = T>) -> T {
        let out = call.await;
        let denied = self.emulator.denials(&self.access_key_id);
        assert!(
            denied.is_empty(),
            "AccessDenied: the {} role, as synthesized, lacks (during \"{step}\"):\n  {}\n\
             declare it in stacks/src/functions.rs (the emulator's log: {})",
            self.function,
            denied.join("\n  "),
            self.emulator.log.display()
        );
        out
    }
}
