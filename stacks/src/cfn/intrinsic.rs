//! CloudFormation intrinsic functions and pseudo-parameters as a typed value.

use indexmap::IndexMap;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// A string-valued template expression: a literal or an intrinsic function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Lit(String),
    Ref(String),
    GetAtt(String, String),
    /// `Fn::Sub` whose `${...}` names resolve to parameters, resources or pseudo-parameters.
    Sub(String),
    /// `Fn::Sub` with its own variable map.
    SubWith(String, IndexMap<String, Expr>),
    Join(String, Vec<Expr>),
    Select(u32, Box<Expr>),
    Split(String, Box<Expr>),
    If(String, Box<Expr>, Box<Expr>),
    ImportValue(Box<Expr>),
}

/// Values CloudFormation provides in every stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pseudo {
    Region,
    AccountId,
    Partition,
    StackName,
    UrlSuffix,
    NoValue,
}

impl Pseudo {
    pub fn as_str(self) -> &'static str {
        match self {
            Pseudo::Region => "AWS::Region",
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
        }
    }
}

impl Expr {
    pub fn lit(value: impl Into<String>) -> Self {
        Expr::Lit(value.into())
    }

    pub fn r#ref(logical_id: impl Into<String>) -> Self {
        Expr::Ref(logical_id.into())
    }

    pub fn pseudo(pseudo: Pseudo) -> Self {
        Expr::Ref(pseudo.as_str().to_owned())
    }

    pub fn get_att(logical_id: impl Into<String>, attribute: impl Into<String>) -> Self {
        Expr::GetAtt(logical_id.into(), attribute.into())
    }

    pub fn sub(template: impl Into<String>) -> Self {
        Expr::Sub(template.into())
    }

    pub fn sub_with<K: Into<String>>(
        template: impl Into<String>,
        vars: impl IntoIterator<Item = (K, Expr)>,
    ) -> Self {
        Expr::SubWith(
            template.into(),
            vars.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        )
    }

    pub fn join(delimiter: impl Into<String>, parts: Vec<Expr>) -> Self {
        Expr::Join(delimiter.into(), parts)
    }

    pub fn select(index: u32, list: Expr) -> Self {
        Expr::Select(index, Box::new(list))
    }

    pub fn split(delimiter: impl Into<String>, source: Expr) -> Self {
        Expr::Split(delimiter.into(), Box::new(source))
    }

    pub fn if_(condition: impl Into<String>, then: Expr, otherwise: Expr) -> Self {
        Expr::If(condition.into(), Box::new(then), Box::new(otherwise))
    }

    pub fn import(export_name: impl Into<Expr>) -> Self {
        Expr::ImportValue(Box::new(export_name.into()))
    }
}

impl From<&str> for Expr {
    fn from(value: &str) -> Self {
        Expr::Lit(value.to_owned())
    }
}

impl From<String> for Expr {
    fn from(value: String) -> Self {
        Expr::Lit(value)
    }
}

/// Serializes a one-entry map `{ name: value }`, the shape of every intrinsic function.
fn function<S: Serializer, V: Serialize + ?Sized>(
    serializer: S,
    name: &str,
    value: &V,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(name, value)?;
    map.end()
}

/// The element kinds that appear inside intrinsic-function argument lists.
enum Element<'a> {
    Str(&'a str),
    Int(u32),
    Expr(&'a Expr),
    Exprs(&'a [Expr]),
    Vars(&'a IndexMap<String, Expr>),
}

impl Serialize for Element<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Element::Str(s) => serializer.serialize_str(s),
            Element::Int(i) => serializer.serialize_u32(*i),
            Element::Expr(e) => e.serialize(serializer),
            Element::Exprs(list) => list.serialize(serializer),
            Element::Vars(vars) => vars.serialize(serializer),
        }
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Expr::Lit(value) => serializer.serialize_str(value),
            Expr::Ref(name) => function(serializer, "Ref", name),
            Expr::GetAtt(resource, attribute) => function(
                serializer,
                "Fn::GetAtt",
                &[Element::Str(resource), Element::Str(attribute)],
            ),
            Expr::Sub(template) => function(serializer, "Fn::Sub", template),
            Expr::SubWith(template, vars) => function(
                serializer,
                "Fn::Sub",
                &[Element::Str(template), Element::Vars(vars)],
            ),
            Expr::Join(delimiter, parts) => function(
                serializer,
                "Fn::Join",
                &[Element::Str(delimiter), Element::Exprs(parts)],
            ),
            Expr::Select(index, list) => function(
                serializer,
                "Fn::Select",
                &[Element::Int(*index), Element::Expr(list)],
            ),
            Expr::Split(delimiter, source) => function(
                serializer,
                "Fn::Split",
                &[Element::Str(delimiter), Element::Expr(source)],
            ),
            Expr::If(condition, then, otherwise) => function(
                serializer,
                "Fn::If",
                &[
                    Element::Str(condition),
                    Element::Expr(then),
                    Element::Expr(otherwise),
                ],
            ),
            Expr::ImportValue(name) => function(serializer, "Fn::ImportValue", name),
        }
    }
}
