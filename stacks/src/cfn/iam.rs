//! IAM policy documents as typed statements.

use indexmap::IndexMap;
use serde::Serialize;

use super::Expr;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    pub version: &'static str,
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    pub fn new(statement: Vec<Statement>) -> Self {
        PolicyDocument {
            version: "2012-10-17",
            statement,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    Service(String),
    Federated(Expr),
    /// Everyone: only in `Deny` statements.
    Anyone,
}

impl Serialize for Principal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (key, value) = match self {
            Principal::Service(service) => ("Service", Expr::lit(service.as_str())),
            Principal::Federated(provider) => ("Federated", provider.clone()),
            Principal::Anyone => return serializer.serialize_str("*"),
        };
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(key, &value)?;
        map.end()
    }
}

impl Principal {
    pub fn service(name: &str) -> Self {
        Principal::Service(name.to_owned())
    }

    pub fn anyone() -> Self {
        Principal::Anyone
    }
}

/// Condition operator (`StringEquals`, `Bool`, ...) to condition key to value(s).
pub type Conditions = IndexMap<&'static str, IndexMap<String, Expr>>;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    pub action: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Expr>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub condition: Conditions,
}

impl Statement {
    pub fn allow(actions: &[&str], resources: Vec<Expr>) -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            action: actions.iter().map(|a| (*a).to_owned()).collect(),
            resource: resources,
            condition: IndexMap::new(),
        }
    }

    pub fn deny(actions: &[&str], resources: Vec<Expr>) -> Self {
        Statement {
            effect: Effect::Deny,
            ..Statement::allow(actions, resources)
        }
    }

    pub fn sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    pub fn when(
        mut self,
        operator: &'static str,
        key: impl Into<String>,
        value: impl Into<Expr>,
    ) -> Self {
        self.condition
            .entry(operator)
            .or_default()
            .insert(key.into(), value.into());
        self
    }
}

/// A statement that refuses every request to a bucket made without TLS.
pub fn deny_insecure_transport(bucket_arn: Expr) -> Statement {
    let objects = match &bucket_arn {
        Expr::GetAtt(id, _) => Expr::sub(format!("${{{id}.Arn}}/*")),
        other => Expr::join("", vec![other.clone(), Expr::lit("/*")]),
    };
    Statement::deny(&["s3:*"], vec![bucket_arn, objects])
        .sid("DenyInsecureTransport")
        .principal(Principal::anyone())
        .when("Bool", "aws:SecureTransport", "false")
}
