"""IAM enforcement (iam_fixes.py): resources named as AWS names them, presigned URLs, roles made
by CloudFormation, and the log line per refusal. An emulator of this module's own: enforcement
is on for the whole process, and the session's emulator takes dummy credentials."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
import requests

from conftest import EMULATOR, REGION, _free_port

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def enforcing() -> Iterator[tuple[str, Any]]:
    port = _free_port()
    log = tempfile.NamedTemporaryFile(suffix=".log")
    process = subprocess.Popen(
        [sys.executable, str(EMULATOR), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("emulator did not listen within 30 s") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.kill()
        process.wait()
        log.close()


def _client(endpoint: str, service: str, key: dict[str, str]) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, **key)


@pytest.fixture(scope="module")
def admin(enforcing: tuple[str, Any]) -> dict[str, str]:
    endpoint, _ = enforcing
    requests.post(f"{endpoint}/moto-api/reset-auth", data=b"3").raise_for_status()
    iam = _client(endpoint, "iam", {"aws_access_key_id": "x", "aws_secret_access_key": "x"})
    iam.create_user(UserName="admin")
    iam.put_user_policy(
        UserName="admin",
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def _role(endpoint: str, admin: dict[str, str], name: str, statements: list[dict[str, Any]]) -> dict[str, str]:
    """A role made by CloudFormation (as our stacks make them), assumed."""
    template = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
                    },
                    "Policies": [
                        {"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}
                    ],
                },
            }
        },
        "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}}},
    }
    cfn = _client(endpoint, "cloudformation", admin)
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    arn = cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"][0]["OutputValue"]
    credentials = _client(endpoint, "sts", admin).assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
    return {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }


def _denied(call: Any) -> bool:
    try:
        call()
    except botocore.exceptions.ClientError as error:
        return "AccessDenied" in str(error) or error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return False


def test_dummy_credentials_are_refused(enforcing: tuple[str, Any], admin: dict[str, str]) -> None:
    endpoint, _ = enforcing
    dummy = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    with pytest.raises(botocore.exceptions.ClientError):
        _client(endpoint, "dynamodb", dummy).list_tables()


def test_dynamodb_and_ssm_are_checked_per_resource(enforcing: tuple[str, Any], admin: dict[str, str]) -> None:
    endpoint, log = enforcing
    ddb = _client(endpoint, "dynamodb", admin)
    for table in ("mine", "theirs"):
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    ssm = _client(endpoint, "ssm", admin)
    for name in ("/app/a", "/app/b"):
        ssm.put_parameter(Name=name, Value="v", Type="SecureString")
    role = _role(
        endpoint,
        admin,
        "per-resource",
        [
            {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/mine"},
            {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/a"},
        ],
    )
    as_role = lambda service: _client(endpoint, service, role)  # noqa: E731
    as_role("dynamodb").get_item(TableName="mine", Key={"k": {"S": "1"}})
    assert _denied(lambda: as_role("dynamodb").get_item(TableName="theirs", Key={"k": {"S": "1"}}))
    assert _denied(lambda: as_role("dynamodb").put_item(TableName="mine", Item={"k": {"S": "1"}}))
    as_role("ssm").get_parameters(Names=["/app/a"], WithDecryption=True)
    assert _denied(lambda: as_role("ssm").get_parameters(Names=["/app/a", "/app/b"], WithDecryption=True))
    assert _denied(lambda: as_role("ssm").get_parameter(Name="/app/a", WithDecryption=True))
    log.seek(0)
    lines = log.read().decode()
    assert f"dynamodb:GetItem arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/theirs" in lines
    assert f"ssm:GetParameters arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/b" in lines


def test_s3_prefixes_presigned_urls_and_delete_objects(enforcing: tuple[str, Any], admin: dict[str, str]) -> None:
    endpoint, _ = enforcing
    s3 = _client(endpoint, "s3", admin)
    s3.create_bucket(Bucket="media-iam")
    role = _role(
        endpoint,
        admin,
        "prefixes",
        [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": "arn:aws:s3:::media-iam/audio/*"}],
    )
    as_role = _client(endpoint, "s3", role)
    allowed = as_role.generate_presigned_url("put_object", Params={"Bucket": "media-iam", "Key": "audio/a"})
    assert requests.put(allowed, data=b"a").status_code == 200
    refused = as_role.generate_presigned_url("put_object", Params={"Bucket": "media-iam", "Key": "images/a"})
    assert requests.put(refused, data=b"a").status_code == 403
    s3.put_object(Bucket="media-iam", Key="images/b", Body=b"b")
    errors = as_role.delete_objects(Bucket="media-iam", Delete={"Objects": [{"Key": "images/b"}]}).get("Errors", [])
    assert [e["Code"] for e in errors] == ["AccessDenied"]
    deleted = as_role.delete_objects(Bucket="media-iam", Delete={"Objects": [{"Key": "audio/a"}]})
    assert [d["Key"] for d in deleted.get("Deleted", [])] == ["audio/a"]
