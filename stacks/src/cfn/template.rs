//! A CloudFormation template: parameters, conditions, resources with their attributes, outputs.

use indexmap::IndexMap;
use serde::Serialize;

use super::Expr;
use crate::resources::Properties;

#[derive(Clone, Debug, Serialize)]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    pub format_version: &'static str,
    #[serde(rename = "Description")]
    pub description: String,
    #[serde(rename = "Parameters", skip_serializing_if = "IndexMap::is_empty")]
    pub parameters: IndexMap<String, Parameter>,
    #[serde(rename = "Conditions", skip_serializing_if = "IndexMap::is_empty")]
    pub conditions: IndexMap<String, Condition>,
    #[serde(rename = "Resources")]
    pub resources: IndexMap<String, Resource>,
    #[serde(rename = "Outputs", skip_serializing_if = "IndexMap::is_empty")]
    pub outputs: IndexMap<String, Output>,
}

impl Template {
    pub fn new(description: impl Into<String>) -> Self {
        Template {
            format_version: "2010-09-09",
            description: description.into(),
            parameters: IndexMap::new(),
            conditions: IndexMap::new(),
            resources: IndexMap::new(),
            outputs: IndexMap::new(),
        }
    }

    /// Adds a resource and returns its logical id, so callers can `Ref` what they just added.
    pub fn add(&mut self, logical_id: impl Into<String>, resource: impl Into<Resource>) -> String {
        let logical_id = logical_id.into();
        let previous = self.resources.insert(logical_id.clone(), resource.into());
        assert!(previous.is_none(), "duplicate logical id {logical_id}");
        logical_id
    }

    pub fn output(&mut self, name: impl Into<String>, output: Output) {
        self.outputs.insert(name.into(), output);
    }

    /// The template as YAML. The model holds only ordered maps, so the text is the same on every run.
    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(self).expect("a template holds only string-keyed maps and scalars")
    }
}

/// Where the deploy takes a parameter's value from: the template states it, so the deploy never
/// matches parameters by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParameterSource {
    /// An earlier stack's output (one in another region, which a stack cannot import).
    Output(mumble_contract::Output),
    /// The content-addressed key of a function's zip in the artifacts bucket.
    CodeKey { function: &'static str },
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(skip)]
    pub source: ParameterSource,
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint_description: Option<String>,
}

impl Parameter {
    pub fn string(source: ParameterSource, description: impl Into<String>) -> Self {
        Parameter {
            source,
            kind: "String",
            description: description.into(),
            default: None,
            allowed_pattern: None,
            constraint_description: None,
        }
    }

    pub fn pattern(mut self, pattern: impl Into<String>, explanation: impl Into<String>) -> Self {
        self.allowed_pattern = Some(pattern.into());
        self.constraint_description = Some(explanation.into());
        self
    }
}

/// Condition functions, used in the template's `Conditions` section.
#[derive(Clone, Debug)]
pub enum Condition {
    Equals(Expr, Expr),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    /// A reference to another named condition.
    Named(String),
}

impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Condition::Equals(a, b) => map.serialize_entry("Fn::Equals", &[a, b])?,
            Condition::Not(inner) => map.serialize_entry("Fn::Not", &[inner])?,
            Condition::And(all) => map.serialize_entry("Fn::And", all)?,
            Condition::Or(any) => map.serialize_entry("Fn::Or", any)?,
            Condition::Named(name) => map.serialize_entry("Condition", name)?,
        }
        map.end()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Policy {
    Delete,
    Retain,
    Snapshot,
}

/// A resource with its type, properties and CloudFormation resource attributes.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    /// `Type` and `Properties`, from the typed properties of each resource type.
    #[serde(flatten)]
    pub properties: Properties,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_replace_policy: Option<Policy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_policy: Option<UpdatePolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
}

/// How CloudFormation applies an update to the resource; here only a Lambda alias's traffic
/// shifting through CodeDeploy.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdatePolicy {
    pub code_deploy_lambda_alias_update: CodeDeployLambdaAliasUpdate,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeDeployLambdaAliasUpdate {
    pub application_name: Expr,
    pub deployment_group_name: Expr,
}

impl Resource {
    pub fn new(properties: impl Into<Properties>) -> Self {
        Resource {
            properties: properties.into(),
            depends_on: Vec::new(),
            condition: None,
            deletion_policy: None,
            update_replace_policy: None,
            update_policy: None,
            metadata: None,
        }
    }

    pub fn depends_on(mut self, logical_id: impl Into<String>) -> Self {
        self.depends_on.push(logical_id.into());
        self
    }

    /// A resource holding data: kept (with its data) when the stack is deleted or the resource
    /// replaced in a protected stage, deleted otherwise. Explicit either way, so it is a decision.
    pub fn stateful(self, protected: bool) -> Self {
        self.policy(if protected {
            Policy::Retain
        } else {
            Policy::Delete
        })
    }

    /// A resource CloudFormation never deletes, on replacement or with the stack: something else
    /// removes it (a function's versions go with the function).
    pub fn kept(self) -> Self {
        self.policy(Policy::Retain)
    }

    /// Traffic to the resource (a Lambda alias) shifts through this CodeDeploy deployment group.
    pub fn code_deploy(mut self, application: &str, group: &str) -> Self {
        self.update_policy = Some(UpdatePolicy {
            code_deploy_lambda_alias_update: CodeDeployLambdaAliasUpdate {
                application_name: Expr::r#ref(application),
                deployment_group_name: Expr::r#ref(group),
            },
        });
        self
    }

    /// A resource whose contents may go with the stack in every stage.
    pub fn disposable(self) -> Self {
        self.policy(Policy::Delete)
    }

    fn policy(mut self, policy: Policy) -> Self {
        self.deletion_policy = Some(policy);
        self.update_replace_policy = Some(policy);
        self
    }

    /// Silences a cfn-lint rule for this resource only; callers say why next to the call.
    pub fn lint_ignore(mut self, rule: &'static str) -> Self {
        self.metadata
            .get_or_insert_with(Metadata::default)
            .cfn_lint
            .config
            .ignore_checks
            .push(rule);
        self
    }
}

impl<P: Into<Properties>> From<P> for Resource {
    fn from(properties: P) -> Self {
        Resource::new(properties)
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Metadata {
    #[serde(rename = "cfn-lint")]
    pub cfn_lint: CfnLint,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CfnLint {
    pub config: CfnLintConfig,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CfnLintConfig {
    pub ignore_checks: Vec<&'static str>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    pub description: String,
    pub value: Expr,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub export: Option<Export>,
}

impl Output {
    pub fn new(description: impl Into<String>, value: Expr) -> Self {
        Output {
            description: description.into(),
            value,
            export: None,
        }
    }

    pub fn exported_as(mut self, name: impl Into<String>) -> Self {
        self.export = Some(Export {
            name: Expr::Lit(name.into()),
        });
        self
    }
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Export {
    pub name: Expr,
}
