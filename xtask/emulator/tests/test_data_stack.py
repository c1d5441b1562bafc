"""The data stack's bucket settings and exports, and Fn::ImportValue from a later stack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import deploy, outputs, stack_of
from templates import data, importer


@pytest.fixture
def data_stack(aws: Any, name: str) -> dict[str, str]:
    deploy(aws("cloudformation"), f"{name}-data", data(name, name), change_set_type="CREATE")
    return outputs(aws("cloudformation"), f"{name}-data")


def test_bucket_gets_every_setting_of_the_template(aws: Any, data_stack: dict[str, str]) -> None:
    s3, bucket = aws("s3"), data_stack["MediaBucketName"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    cors = s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]
    assert cors["AllowedOrigins"] == ["http://127.0.0.1:5173"]
    assert cors["AllowedMethods"] == ["PUT", "GET", "HEAD"]
    assert cors["MaxAgeSeconds"] == 600
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["ExpireRawAudio"]["Expiration"]["Days"] == 7
    assert rules["ExpireNoncurrentVersions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert policy["Statement"][0]["Sid"] == "DenyInsecureTransport"


def test_outputs_are_exported_and_imported_by_a_later_stack(
    aws: Any, name: str, data_stack: dict[str, str]
) -> None:
    cf = aws("cloudformation")
    exports = {e["Name"]: e["Value"] for e in cf.list_exports()["Exports"]}
    assert exports[f"{name}-MediaBucketName"] == data_stack["MediaBucketName"]
    assert exports[f"{name}-UsersTableName"] == f"{name}-users"
    described = {o["OutputKey"]: o for o in stack_of(cf, f"{name}-data")["Outputs"]}
    assert described["UsersTableName"]["ExportName"] == f"{name}-UsersTableName"

    deploy(cf, f"{name}-app", importer(name, name), change_set_type="CREATE")
    assert outputs(cf, f"{name}-app") == {"UsersTable": f"{name}-users"}
    rule = aws("events").describe_rule(Name=f"{name}-image-created")
    pattern = json.loads(rule["EventPattern"])
    assert pattern["detail"]["bucket"]["name"] == [data_stack["MediaBucketName"]]


def test_new_images_reach_eventbridge_rules(
    aws: Any, name: str, data_stack: dict[str, str]
) -> None:
    """The bucket's EventBridge notification is on, so the image processor's rule fires."""
    cf, sqs = aws("cloudformation"), aws("sqs")
    deploy(cf, f"{name}-app", importer(name, name), change_set_type="CREATE")
    queue_url = sqs.create_queue(QueueName=f"{name}-seen")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws("events").put_targets(
        Rule=f"{name}-image-created", Targets=[{"Id": "seen", "Arn": queue_arn}]
    )
    s3 = aws("s3")
    s3.put_object(Bucket=data_stack["MediaBucketName"], Key="audio/u1/a.webm", Body=b"a")
    s3.put_object(Bucket=data_stack["MediaBucketName"], Key="images/u1/i1.png", Body=b"i")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    keys = [json.loads(m["Body"])["detail"]["object"]["key"] for m in messages]
    assert keys == ["images/u1/i1.png"]


def test_table_and_log_group_settings_apply_on_create_and_update_in_place(
    aws: Any, name: str, data_stack: dict[str, str]
) -> None:
    cf, dynamodb, logs = aws("cloudformation"), aws("dynamodb"), aws("logs")
    table = f"{name}-users"
    ttl = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    dynamodb.put_item(TableName=table, Item={"userId": {"S": "u1"}})

    template = data(name, name, retention=30)
    table_props = template["Resources"]["UsersTable"]["Properties"]
    table_props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": False}
    table_props["DeletionProtectionEnabled"] = True
    change_set = deploy(cf, f"{name}-data", template)
    changes = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in change_set["Changes"]
    }
    assert changes["UsersTable"]["Replacement"] == "False"
    assert stack_of(cf, f"{name}-data")["StackStatus"] == "UPDATE_COMPLETE"
    assert dynamodb.get_item(TableName=table, Key={"userId": {"S": "u1"}})["Item"]
    described = dynamodb.describe_table(TableName=table)["Table"]
    assert described["DeletionProtectionEnabled"] is True
    backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED"
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/{name}/")["logGroups"]
    assert [g["retentionInDays"] for g in groups] == [30]


def test_create_only_change_replaces_the_resource_and_says_so(
    aws: Any, name: str, data_stack: dict[str, str]
) -> None:
    cf, dynamodb = aws("cloudformation"), aws("dynamodb")
    template = data(name, name)
    template["Resources"]["UsersTable"]["Properties"]["TableName"] = f"{name}-people"
    change_set = deploy(cf, f"{name}-data", template)
    change = change_set["Changes"][0]["ResourceChange"]
    assert change["Replacement"] == "True"
    tables = dynamodb.list_tables()["TableNames"]
    assert f"{name}-people" in tables and f"{name}-users" not in tables
    assert outputs(cf, f"{name}-data")["UsersTableName"] == f"{name}-people"
    exports = {e["Name"]: e["Value"] for e in cf.list_exports()["Exports"]}
    assert exports[f"{name}-UsersTableName"] == f"{name}-people"
