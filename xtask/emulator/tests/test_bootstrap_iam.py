"""The bootstrap roles' policies, with the emulator enforcing IAM: neither role can make itself
(or the other) administrator, or change another stage's roles.

The emulator's CloudFormation does not act as its execution role, so the roles are made in IAM
directly with the inline policies of the stacks crate's bootstrap template (the snapshot of the
fixture stage that has a GitHub deploy role), assumed through STS, and asked to do what they must
not. Their trust policies are replaced by one naming a test user: GitHub's OIDC cannot be had here.

This module runs its own emulator: `POST /moto-api/reset-auth` makes a server check every later
request against IAM, which would break every other test on the shared one. What moto's checks
cover (actions and resource ARNs, explicit deny first) and what they do not (conditions, the
resource of a create) is in xtask/emulator/README.md.
"""

from __future__ import annotations

import datetime
import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from conftest import running_emulator
from test_real_stacks import template

ACCOUNT = "123456789012"
# The fixture stage with every optional setting, a GitHub deploy role among them.
STAGE = "live"
REGION = "eu-west-1"
OTHER = "other"
ADMIN = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{kind}/{name}"


# What the template's Fn::Sub, Fn::GetAtt and Ref resolve to in this account.
NAMES = {
    "AWS::Partition": "aws",
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "ArtifactsBucket": f"mumble-{STAGE}-bootstrap-artifactsbucket-test",
    "ArtifactsBucket.Arn": f"arn:aws:s3:::mumble-{STAGE}-bootstrap-artifactsbucket-test",
    "CloudFormationRole.Arn": arn("role", f"mumble-{STAGE}-cloudformation"),
    "DeployRole.Arn": arn("role", f"mumble-{STAGE}-deploy"),
    "GitHubOidcProvider": arn("oidc-provider", "token.actions.githubusercontent.com"),
}


def resolve(value: Any) -> Any:
    if isinstance(value, list):
        return [resolve(v) for v in value]
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda m: NAMES[m.group(1)], value["Fn::Sub"])
        if "Fn::GetAtt" in value:
            return NAMES[".".join(value["Fn::GetAtt"])]
        if "Ref" in value:
            return NAMES[value["Ref"]]
        return {k: resolve(v) for k, v in value.items()}
    if isinstance(value, datetime.date):
        return value.isoformat()  # YAML reads `Version: 2012-10-17` as a date
    return value


def bootstrap() -> dict[str, Any]:
    body = template(STAGE, "bootstrap")
    assert body is not None
    return resolve(yaml.load(body, Loader=yaml.SafeLoader)["Resources"])


class Denied(AssertionError):
    pass


def denied(call: Any, *args: Any, **kwargs: Any) -> None:
    try:
        call(*args, **kwargs)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        assert "AccessDenied" in code, f"{call.__name__}: {code}"
        return
    raise Denied(f"{call.__name__}{kwargs} was allowed")


@pytest.fixture(scope="module")
def enforced() -> Iterator[dict[str, Any]]:
    """An emulator holding the bootstrap roles and a function role of two stages; then IAM on."""
    with running_emulator() as endpoint:

        def client(service: str, **credentials: str) -> Any:
            return boto3.client(
                service,
                endpoint_url=endpoint,
                region_name=REGION,
                aws_access_key_id=credentials.get("AccessKeyId", "test"),
                aws_secret_access_key=credentials.get("SecretAccessKey", "test"),
                aws_session_token=credentials.get("SessionToken"),
            )

        resources = bootstrap()
        iam = client("iam")
        iam.create_user(UserName="operator")
        iam.put_user_policy(
            UserName="operator",
            PolicyName="assume",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": arn("user", "operator")},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
        boundary = resources["PermissionsBoundary"]["Properties"]
        iam.create_policy(
            PolicyName=boundary["ManagedPolicyName"],
            PolicyDocument=json.dumps(boundary["PolicyDocument"]),
        )
        for logical_id in ("CloudFormationRole", "DeployRole"):
            properties = resources[logical_id]["Properties"]
            iam.create_role(RoleName=properties["RoleName"], AssumeRolePolicyDocument=trust)
            for policy in properties["Policies"]:
                iam.put_role_policy(
                    RoleName=properties["RoleName"],
                    PolicyName=policy["PolicyName"],
                    PolicyDocument=json.dumps(policy["PolicyDocument"]),
                )
        # A function role of this stage and one of another stage, as the app stacks make them.
        function_trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
        for stage in (STAGE, OTHER):
            iam.create_role(
                RoleName=f"mumble-{stage}-app-WorkerRole-TEST",
                AssumeRolePolicyDocument=function_trust,
                PermissionsBoundary=arn("policy", f"mumble-{stage}-boundary"),
            )

        # From here on every request is checked against IAM.
        urllib.request.urlopen(
            urllib.request.Request(
                f"{endpoint}/moto-api/reset-auth",
                data=b"0",
                method="POST",
                # Not a form: the server reads the body as the number.
                headers={"Content-Type": "text/plain"},
            )
        ).read()

        operator = client("sts", AccessKeyId=key["AccessKeyId"], SecretAccessKey=key["SecretAccessKey"])

        def assume(role: str) -> Any:
            credentials = operator.assume_role(RoleArn=arn("role", role), RoleSessionName="test")
            return lambda service: client(service, **credentials["Credentials"])

        yield {
            "cloudformation": assume(f"mumble-{STAGE}-cloudformation"),
            "deploy": assume(f"mumble-{STAGE}-deploy"),
        }


BOOTSTRAP_ROLES = [f"mumble-{STAGE}-deploy", f"mumble-{STAGE}-cloudformation"]


@pytest.mark.parametrize("acting", ["cloudformation", "deploy"])
@pytest.mark.parametrize("target", BOOTSTRAP_ROLES)
def test_neither_bootstrap_role_can_widen_a_bootstrap_role(
    enforced: dict[str, Any], acting: str, target: str
) -> None:
    iam = enforced[acting]("iam")
    denied(iam.put_role_policy, RoleName=target, PolicyName="admin", PolicyDocument=ADMIN)
    denied(
        iam.attach_role_policy,
        RoleName=target,
        PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess",
    )
    denied(iam.update_assume_role_policy, RoleName=target, PolicyDocument=ADMIN)
    denied(iam.delete_role_policy, RoleName=target, PolicyName="deploy-stage")


def test_the_cloudformation_role_changes_this_stages_function_roles_only(
    enforced: dict[str, Any],
) -> None:
    iam = enforced["cloudformation"]("iam")
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
        }
    )
    # Its own stage's function role: allowed, so the denials around it are about the target.
    iam.put_role_policy(
        RoleName=f"mumble-{STAGE}-app-WorkerRole-TEST", PolicyName="p", PolicyDocument=policy
    )
    denied(
        iam.put_role_policy,
        RoleName=f"mumble-{OTHER}-app-WorkerRole-TEST",
        PolicyName="p",
        PolicyDocument=policy,
    )
    # Taking a role's boundary off is never allowed.
    denied(iam.delete_role_permissions_boundary, RoleName=f"mumble-{STAGE}-app-WorkerRole-TEST")
    # A role without the boundary (moto cannot evaluate the `iam:PermissionsBoundary` condition,
    # see the README; the stacks' property tests check the condition itself).
    denied(
        iam.create_role,
        RoleName=f"mumble-{STAGE}-app-Unbounded",
        AssumeRolePolicyDocument=policy,
    )


def test_the_deploy_role_has_no_iam_powers_of_its_own(enforced: dict[str, Any]) -> None:
    iam = enforced["deploy"]("iam")
    denied(
        iam.put_role_policy,
        RoleName=f"mumble-{STAGE}-app-WorkerRole-TEST",
        PolicyName="admin",
        PolicyDocument=ADMIN,
    )
    denied(iam.create_role, RoleName=f"mumble-{STAGE}-app-Mine", AssumeRolePolicyDocument=ADMIN)
