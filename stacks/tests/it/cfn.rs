//! The template model serializes to the shapes CloudFormation reads.

use serde_json::json;
use stacks::cfn::{Condition, Expr, Pseudo, Resource, Template};
use stacks::resources::sqs::Queue;

fn value(expr: &Expr) -> serde_json::Value {
    serde_json::to_value(expr).unwrap()
}

#[test]
fn intrinsic_functions_have_cloudformation_shapes() {
    assert_eq!(value(&Expr::lit("x")), json!("x"));
    assert_eq!(value(&Expr::r#ref("Bucket")), json!({"Ref": "Bucket"}));
    assert_eq!(
        value(&Expr::pseudo(Pseudo::AccountId)),
        json!({"Ref": "AWS::AccountId"})
    );
    assert_eq!(
        value(&Expr::get_att("Fn", "Arn")),
        json!({"Fn::GetAtt": ["Fn", "Arn"]})
    );
    assert_eq!(
        value(&Expr::sub("${AWS::Region}")),
        json!({"Fn::Sub": "${AWS::Region}"})
    );
    assert_eq!(
        value(&Expr::sub_with("${A}/x", [("A", Expr::import("e"))])),
        json!({"Fn::Sub": ["${A}/x", {"A": {"Fn::ImportValue": "e"}}]})
    );
    assert_eq!(
        value(&Expr::join(",", vec![Expr::lit("a"), Expr::r#ref("B")])),
        json!({"Fn::Join": [",", ["a", {"Ref": "B"}]]})
    );
    assert_eq!(
        value(&Expr::select(1, Expr::split("/", Expr::r#ref("U")))),
        json!({"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "U"}]}]})
    );
    assert_eq!(
        value(&Expr::if_(
            "HasDomain",
            Expr::lit("a"),
            Expr::pseudo(Pseudo::NoValue)
        )),
        json!({"Fn::If": ["HasDomain", "a", {"Ref": "AWS::NoValue"}]})
    );
}

#[test]
fn resources_carry_their_attributes_and_conditions_serialize() {
    let mut template = Template::new("t");
    template.conditions.insert(
        "IsProd".into(),
        Condition::Not(Box::new(Condition::Equals(
            Expr::pseudo(Pseudo::StackName),
            Expr::lit("x"),
        ))),
    );
    let queue = Queue {
        queue_name: "q".into(),
        message_retention_period: 60,
        sqs_managed_sse_enabled: true,
    };
    template.add(
        "Queue",
        Resource::new(queue)
            .depends_on("Other")
            .stateful(true)
            // The test checks the metadata shape cfn-lint reads.
            .lint_ignore("W1234"),
    );
    let value = serde_json::to_value(&template).unwrap();
    assert_eq!(
        value["Conditions"]["IsProd"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "AWS::StackName"}, "x"]}]})
    );
    assert_eq!(
        value["Resources"]["Queue"],
        json!({
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": "q", "MessageRetentionPeriod": 60, "SqsManagedSseEnabled": true},
            "DependsOn": ["Other"],
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["W1234"]}}}
        })
    );
    let yaml = template.to_yaml();
    assert!(!yaml.contains(" !"), "no YAML tags in templates: {yaml}");
}
