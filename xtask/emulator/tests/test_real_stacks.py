"""Mumble's own templates (the stacks crate's snapshots) deploy, update and delete on the emulator.

The snapshots under stacks/tests/it/snapshots are what `cargo xtask synth` writes, checked by
`cargo test -p stacks`; reading them keeps this test free of a cargo build.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import deploy, outputs, physical_ids, stack_of, tiny_zip

SNAPSHOTS = Path(__file__).resolve().parents[3] / "stacks" / "tests" / "it" / "snapshots"
CONTRACT_OUTPUTS = {
    "data": {
        f"{table}Table{what}"
        for table in ("Users", "Images", "Jobs", "Connections")
        for what in ("Name", "Arn")
    }
    | {"MediaBucketName", "MediaBucketArn"},
    "app": {
        "HttpApiUrl",
        "WebSocketUrl",
        "WebSocketManagementUrl",
        "UserPoolId",
        "UserPoolClientId",
        "AlarmTopicArn",
    },
    "web": {"SiteBucketName", "DistributionId", "DistributionDomainName", "SiteUrl"},
}


def template(stage: str, part: str) -> str | None:
    path = SNAPSHOTS / f"it__snapshots__mumble-{stage}-{part}.snap"
    if part == "cert" and not path.exists():
        return None  # only stages with a domain have a certificate stack
    assert path.exists(), f"{path} is missing; run `cargo insta test -p stacks --accept`"
    # An insta snapshot: a `---`-fenced header, then the template exactly as synthesized.
    return path.read_text().split("\n---\n", 1)[1]


def resource_ids(body: str) -> set[str]:
    return set(yaml.load(body, Loader=yaml.SafeLoader)["Resources"])


def code_keys(aws: Any, bucket: str, body: str) -> dict[str, str]:
    """Upload a tiny zip per function under its content-hash key, as `cargo xtask deploy` does."""
    parameters = yaml.load(body, Loader=yaml.SafeLoader)["Parameters"]
    keys = {}
    for parameter in parameters:
        if parameter.endswith("CodeKey"):
            code = tiny_zip()
            function = parameter.removesuffix("CodeKey").lower()
            keys[parameter] = f"lambdas/{function}/{hashlib.sha256(code).hexdigest()}.zip"
            aws("s3").put_object(Bucket=bucket, Key=keys[parameter], Body=code)
    return keys


def deploy_via_s3(
    aws: Any, endpoint: str, bucket: str, stack: str, body: str, parameters: dict[str, str]
) -> dict[str, Any]:
    """Templates over CloudFormation's inline limit go through the artifacts bucket."""
    key = f"templates/{stack}-{uuid.uuid4().hex}.yaml"
    aws("s3").put_object(Bucket=bucket, Key=key, Body=body.encode())
    cf = aws("cloudformation")
    try:
        status = stack_of(cf, stack)["StackStatus"]
        change_set_type = "UPDATE" if status != "REVIEW_IN_PROGRESS" else "CREATE"
    except cf.exceptions.ClientError:
        change_set_type = "CREATE"
    name = f"cs-{uuid.uuid4().hex[:8]}"
    cf.create_change_set(
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=change_set_type,
        TemplateURL=f"{endpoint}/{bucket}/{key}",
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    described: dict[str, Any] = cf.describe_change_set(StackName=stack, ChangeSetName=name)
    if described["Status"] == "CREATE_COMPLETE":
        cf.execute_change_set(StackName=stack, ChangeSetName=name)
    return described


def failures(cf: Any, stack: str) -> list[str]:
    events = cf.describe_stack_events(StackName=stack)["StackEvents"]
    return [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in events
        if e["ResourceStatus"].endswith("FAILED")
    ]


@pytest.mark.parametrize("stage", ["local", "dev"])
def test_every_stack_of_the_stage_comes_up_updates_and_goes(
    aws: Any, endpoint: str, stage: str
) -> None:
    cf = aws("cloudformation")
    stacks: list[str] = []

    def up(part: str, body: str, parameters: dict[str, str] | None = None) -> dict[str, str]:
        stack = f"mumble-{stage}-{part}"
        if len(body) > 51_200:
            deploy_via_s3(aws, endpoint, artifacts, stack, body, parameters or {})
        else:
            deploy(cf, stack, body, parameters, "CREATE")
        assert stack_of(cf, stack)["StackStatus"] == "CREATE_COMPLETE", failures(cf, stack)
        assert set(physical_ids(cf, stack)) == resource_ids(body)
        assert all(physical_ids(cf, stack).values())
        stacks.append(stack)
        return outputs(cf, stack)

    bootstrap = template(stage, "bootstrap")
    assert bootstrap is not None
    deploy(cf, f"mumble-{stage}-bootstrap", bootstrap, None, "CREATE")
    stacks.append(f"mumble-{stage}-bootstrap")
    artifacts = outputs(cf, f"mumble-{stage}-bootstrap")["ArtifactsBucketName"]

    data_outputs = up("data", template(stage, "data") or "")
    assert CONTRACT_OUTPUTS["data"] <= set(data_outputs)
    exports = {e["Name"] for e in cf.list_exports()["Exports"]}
    assert {f"mumble-{stage}-data-{o}" for o in CONTRACT_OUTPUTS["data"]} <= exports

    app_body = template(stage, "app") or ""
    app_parameters = {"ArtifactsBucket": artifacts, **code_keys(aws, artifacts, app_body)}
    app_outputs = up("app", app_body, app_parameters)
    assert CONTRACT_OUTPUTS["app"] <= set(app_outputs)
    client = aws("cognito-idp")
    client.sign_up(
        ClientId=app_outputs["UserPoolClientId"],
        Username=f"{stage}@example.com",
        Password="Correct-horse-9-battery",
    )

    web_parameters = {}
    cert = template(stage, "cert")
    if cert is not None:
        web_parameters["CertificateArn"] = up("cert", cert)["CertificateArn"]
    web_outputs = up("web", template(stage, "web") or "", web_parameters)
    assert CONTRACT_OUTPUTS["web"] <= set(web_outputs)
    invalidation = aws("cloudfront").create_invalidation(
        DistributionId=web_outputs["DistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": stage},
    )
    assert invalidation["Invalidation"]["Status"] == "Completed"

    # One function's new code: its function and version change, the rest is untouched.
    new_code = tiny_zip()
    new_key = f"lambdas/health/{hashlib.sha256(new_code).hexdigest()}.zip"
    aws("s3").put_object(Bucket=artifacts, Key=new_key, Body=new_code)
    change_set = deploy_via_s3(
        aws,
        endpoint,
        artifacts,
        f"mumble-{stage}-app",
        app_body,
        {**app_parameters, "HealthCodeKey": new_key},
    )
    changes = [c["ResourceChange"] for c in change_set["Changes"]]
    summary = {(c["LogicalResourceId"], c["Action"], c["Replacement"]) for c in changes}
    # The version's description is the code key: a new key publishes a new version (AWS says
    # Replacement True; the emulator compares the property's `Ref` and says False), and the
    # alias moves to it.
    assert summary == {
        ("HealthFunction", "Modify", "False"),
        ("HealthVersion", "Modify", "False"),
        ("HealthLiveAlias", "Modify", "False"),
    }
    assert stack_of(cf, f"mumble-{stage}-app")["StackStatus"] == "UPDATE_COMPLETE"
    # The new code is published as a version and `live` points at it.
    lam = aws("lambda")
    live = lam.get_alias(FunctionName=f"mumble-{stage}-health", Name="live")
    assert live["FunctionVersion"] == "2", live
    published = lam.get_function(FunctionName=f"mumble-{stage}-health", Qualifier="live")
    latest = lam.get_function(FunctionName=f"mumble-{stage}-health")
    assert published["Configuration"]["CodeSha256"] == latest["Configuration"]["CodeSha256"]
    unchanged = deploy(cf, f"mumble-{stage}-web", template(stage, "web") or "", web_parameters)
    assert unchanged["Status"] == "FAILED"

    site_bucket = web_outputs["SiteBucketName"]
    aws("s3").put_object(Bucket=site_bucket, Key="index.html", Body=b"<p>mumble</p>")
    aws("s3").delete_object(Bucket=site_bucket, Key="index.html")
    for stack in reversed(stacks):
        stack_id = stack_of(cf, stack)["StackId"]
        if stack.endswith("-web") or stack.endswith("-bootstrap"):
            empty_versioned_bucket(aws, site_bucket if stack.endswith("-web") else artifacts)
        cf.delete_stack(StackName=stack)
        assert stack_of(cf, stack_id)["StackStatus"] == "DELETE_COMPLETE", failures(cf, stack_id)
    assert not [e for e in cf.list_exports()["Exports"] if e["Name"].startswith(f"mumble-{stage}-")]


def empty_versioned_bucket(aws: Any, bucket: str) -> None:
    s3 = aws("s3")
    listing = s3.list_object_versions(Bucket=bucket)
    for entry in listing.get("Versions", []) + listing.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
