"""Change-set flows the deploy relies on: failures roll back with a reason, as on AWS."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import deploy, outputs, stack_of


def queue(name: str, **extra: Any) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name, **extra}}


def reasons(cf: Any, stack: str) -> dict[tuple[str, str], str]:
    events = cf.describe_stack_events(StackName=stack)["StackEvents"]
    return {
        (e["LogicalResourceId"], e["ResourceStatus"]): e.get("ResourceStatusReason", "")
        for e in events
    }


def queue_names(aws: Any, prefix: str) -> list[str]:
    urls = aws("sqs").list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    return [url.rsplit("/", 1)[-1] for url in urls]


def test_invalid_property_fails_the_resource_and_rolls_back_the_create(aws: Any, name: str) -> None:
    cf = aws("cloudformation")
    template = {
        "Resources": {
            "Good": queue(f"{name}-good"),
            "Bad": {**queue(f"{name}-bad", Colour="blue"), "DependsOn": "Good"},
        }
    }
    deploy(cf, name, template, change_set_type="CREATE")
    assert stack_of(cf, name)["StackStatus"] == "ROLLBACK_COMPLETE"
    events = reasons(cf, name)
    assert events[("Bad", "CREATE_FAILED")] == (
        "Properties validation failed for resource Bad with message: "
        "#: extraneous key [Colour] is not permitted"
    )
    assert "[Bad]" in events[(name, "ROLLBACK_IN_PROGRESS")]
    assert ("Good", "DELETE_COMPLETE") in events
    assert queue_names(aws, name) == []
    with pytest.raises(ClientError, match="ROLLBACK_COMPLETE state and can not be updated"):
        deploy(cf, name, {"Resources": {"Good": queue(f"{name}-good")}}, change_set_type="UPDATE")
    # The deploy's way out: delete the rolled-back stack, then create it afresh.
    cf.delete_stack(StackName=name)
    deploy(cf, name, {"Resources": {"Good": queue(f"{name}-good")}}, change_set_type="CREATE")
    assert stack_of(cf, name)["StackStatus"] == "CREATE_COMPLETE"
    assert queue_names(aws, name) == [f"{name}-good"]


def test_failed_update_rolls_back_to_the_previous_template(aws: Any, name: str) -> None:
    cf = aws("cloudformation")
    deploy(cf, name, {"Resources": {"First": queue(f"{name}-first")}}, change_set_type="CREATE")
    broken = {
        "Resources": {
            "First": queue(f"{name}-first"),
            "Second": queue(f"{name}-second"),
            "Third": {"Type": "AWS::SQS::Queue", "DependsOn": "Second", "Properties": {"Nope": 1}},
        }
    }
    deploy(cf, name, broken)
    assert stack_of(cf, name)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "extraneous key [Nope]" in reasons(cf, name)[("Third", "CREATE_FAILED")]
    assert queue_names(aws, name) == [f"{name}-first"]


def test_missing_required_property_is_named(aws: Any, name: str) -> None:
    cf = aws("cloudformation")
    template = {
        "Resources": {
            "Api": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "$default"}}
        }
    }
    deploy(cf, name, template, change_set_type="CREATE")
    assert "required key [ApiId] not found" in reasons(cf, name)[("Api", "CREATE_FAILED")]


def test_a_type_without_a_handler_fails_loudly_instead_of_being_skipped(
    aws: Any, name: str
) -> None:
    cf = aws("cloudformation")
    template = {
        "Resources": {
            "Pipe": {
                "Type": "AWS::Pipes::Pipe",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/x",
                    "Source": "a",
                    "Target": "b",
                },
            }
        }
    }
    deploy(cf, name, template, change_set_type="CREATE")
    assert stack_of(cf, name)["StackStatus"] == "ROLLBACK_COMPLETE"
    assert (
        "no CloudFormation handler for AWS::Pipes::Pipe"
        in reasons(cf, name)[("Pipe", "CREATE_FAILED")]
    )


def test_create_change_set_for_an_existing_stack_is_refused(aws: Any, name: str) -> None:
    cf = aws("cloudformation")
    deploy(cf, name, {"Resources": {"Q": queue(f"{name}-q")}}, change_set_type="CREATE")
    with pytest.raises(ClientError, match="AlreadyExistsException"):
        deploy(cf, name, {"Resources": {"Q": queue(f"{name}-q")}}, change_set_type="CREATE")


def test_a_dry_run_change_set_leaves_a_stack_the_next_create_reuses(aws: Any, name: str) -> None:
    """`deploy --dry-run` creates and deletes a change set; the stack stays REVIEW_IN_PROGRESS."""
    cf = aws("cloudformation")
    template = json.dumps(
        {"Resources": {"Q": queue(f"{name}-q")}, "Outputs": {"Url": {"Value": {"Ref": "Q"}}}}
    )
    cf.create_change_set(
        StackName=name, ChangeSetName="dry", ChangeSetType="CREATE", TemplateBody=template
    )
    cf.delete_change_set(StackName=name, ChangeSetName="dry")
    assert stack_of(cf, name)["StackStatus"] == "REVIEW_IN_PROGRESS"
    deploy(cf, name, template, change_set_type="CREATE")
    stacks = [s for s in cf.describe_stacks()["Stacks"] if s["StackName"] == name]
    assert [s["StackStatus"] for s in stacks] == ["CREATE_COMPLETE"]
    assert outputs(cf, name)["Url"].endswith(f"/{name}-q")


def test_deleting_a_stack_with_a_non_empty_bucket_fails_like_aws(aws: Any, name: str) -> None:
    cf, s3 = aws("cloudformation"), aws("s3")
    bucket = f"{name}-keep"
    deploy(
        cf,
        name,
        {"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}}},
        change_set_type="CREATE",
    )
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"<p>hi</p>")
    cf.delete_stack(StackName=name)
    assert stack_of(cf, name)["StackStatus"] == "DELETE_FAILED"
    assert ("B", "DELETE_FAILED") in reasons(cf, name)
    s3.delete_object(Bucket=bucket, Key="index.html")
    cf.delete_stack(StackName=name)
    with pytest.raises(ClientError, match="does not exist"):
        stack_of(cf, name)


def test_lambda_works_without_docker_and_without_a_config_call(aws: Any, name: str) -> None:
    lam = aws("lambda")
    role = aws("iam").create_role(
        RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps({"Statement": []})
    )["Role"]["Arn"]
    from conftest import tiny_zip

    lam.create_function(
        FunctionName=f"{name}-fn",
        Runtime="provided.al2023",
        Handler="bootstrap",
        Role=role,
        Code={"ZipFile": tiny_zip()},
    )
    response = lam.invoke(FunctionName=f"{name}-fn", Payload=json.dumps({"id": str(uuid.uuid4())}))
    assert response["StatusCode"] == 200


def test_template_url_on_the_emulator_is_read_path_style(
    aws: Any, endpoint: str, name: str
) -> None:
    """Templates over 51,200 bytes go through S3; the URL then names the emulator's address."""
    cf, s3 = aws("cloudformation"), aws("s3")
    s3.create_bucket(Bucket=f"{name}-templates")
    body = json.dumps({"Resources": {"Q": queue(f"{name}-q")}})
    s3.put_object(Bucket=f"{name}-templates", Key="app.json", Body=body.encode())
    cf.create_change_set(
        StackName=name,
        ChangeSetName="from-url",
        ChangeSetType="CREATE",
        TemplateURL=f"{endpoint}/{name}-templates/app.json",
    )
    cf.execute_change_set(StackName=name, ChangeSetName="from-url")
    assert stack_of(cf, name)["StackStatus"] == "CREATE_COMPLETE"
    assert queue_names(aws, name) == [f"{name}-q"]


def test_termination_protection_stops_a_delete(aws: Any, name: str) -> None:
    cf = aws("cloudformation")
    deploy(cf, name, {"Resources": {"Q": queue(f"{name}-q")}}, change_set_type="CREATE")
    cf.update_termination_protection(StackName=name, EnableTerminationProtection=True)
    assert stack_of(cf, name)["EnableTerminationProtection"] is True
    with pytest.raises(
        ClientError, match="cannot be deleted while TerminationProtection is enabled"
    ):
        cf.delete_stack(StackName=name)
    assert queue_names(aws, name) == [f"{name}-q"]
    cf.update_termination_protection(StackName=name, EnableTerminationProtection=False)
    cf.delete_stack(StackName=name)
    assert queue_names(aws, name) == []


def test_continue_update_rollback_is_refused_for_a_healthy_stack(aws: Any, name: str) -> None:
    cf = aws("cloudformation")
    deploy(cf, name, {"Resources": {"Q": queue(f"{name}-q")}}, change_set_type="CREATE")
    with pytest.raises(
        ClientError, match="CREATE_COMPLETE state and can not continue update rollback"
    ):
        cf.continue_update_rollback(StackName=name)


def test_change_set_type_defaults_to_update_as_on_aws(aws: Any, name: str) -> None:
    cf = aws("cloudformation")
    body = json.dumps({"Resources": {"Q": queue(f"{name}-q")}})
    with pytest.raises(ClientError, match="does not exist"):
        cf.create_change_set(StackName=name, ChangeSetName="implicit", TemplateBody=body)
    deploy(cf, name, body, change_set_type="CREATE")
    cf.create_change_set(
        StackName=name,
        ChangeSetName="implicit",
        TemplateBody=json.dumps({"Resources": {"Q": queue(f"{name}-q"), "R": queue(f"{name}-r")}}),
    )
    cf.execute_change_set(StackName=name, ChangeSetName="implicit")
    assert stack_of(cf, name)["StackStatus"] == "UPDATE_COMPLETE"
    assert sorted(queue_names(aws, name)) == [f"{name}-q", f"{name}-r"]
