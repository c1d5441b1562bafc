"""The web stack: a real distribution that takes invalidations, with its policies and bucket."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import deploy, outputs, physical_ids, stack_of
from templates import web


@pytest.fixture
def web_stack(aws: Any, name: str) -> dict[str, str]:
    deploy(aws("cloudformation"), name, web(name), change_set_type="CREATE")
    return outputs(aws("cloudformation"), name)


def test_distribution_is_real_and_configured_from_the_template(
    aws: Any, name: str, web_stack: dict[str, str]
) -> None:
    cloudfront = aws("cloudfront")
    distribution = cloudfront.get_distribution(Id=web_stack["DistributionId"])["Distribution"]
    assert distribution["DomainName"] == web_stack["DistributionDomainName"]
    assert web_stack["SiteUrl"] == f"https://{distribution['DomainName']}"
    config = distribution["DistributionConfig"]
    assert config["HttpVersion"] == "http2and3"
    assert config["DefaultRootObject"] == "index.html"
    assert config["Origins"]["Items"][0]["DomainName"].startswith(web_stack["SiteBucketName"])
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    ids = physical_ids(aws("cloudformation"), name)
    assert behavior["ResponseHeadersPolicyId"] == ids["SecurityHeaders"]
    assert [r["ErrorCode"] for r in config["CustomErrorResponses"]["Items"]] == [403, 404]
    control = cloudfront.get_origin_access_control(Id=ids["OriginAccessControl"])
    assert control["OriginAccessControl"]["OriginAccessControlConfig"]["Name"] == f"{name}-oac"


def test_invalidation_completes_the_way_aws_spells_it(aws: Any, web_stack: dict[str, str]) -> None:
    cloudfront = aws("cloudfront")
    distribution_id = web_stack["DistributionId"]
    created = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/index.html", "/app.js"]},
            "CallerReference": str(uuid.uuid4()),
        },
    )["Invalidation"]
    got = cloudfront.get_invalidation(DistributionId=distribution_id, Id=created["Id"])
    assert got["Invalidation"]["Status"] == "Completed"
    # The SDK waiter matches "Completed" exactly; with moto's "COMPLETED" it never returns.
    cloudfront.get_waiter("invalidation_completed").wait(
        DistributionId=distribution_id,
        Id=created["Id"],
        WaiterConfig={"Delay": 1, "MaxAttempts": 2},
    )


def test_bucket_policy_names_the_distribution(aws: Any, web_stack: dict[str, str]) -> None:
    policy = json.loads(aws("s3").get_bucket_policy(Bucket=web_stack["SiteBucketName"])["Policy"])
    condition = policy["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert condition.endswith(f"distribution/{web_stack['DistributionId']}")
    versioning = aws("s3").get_bucket_versioning(Bucket=web_stack["SiteBucketName"])
    assert versioning["Status"] == "Enabled"


def test_update_keeps_the_distribution_and_changes_it(
    aws: Any, name: str, web_stack: dict[str, str]
) -> None:
    cf = aws("cloudformation")
    deploy(cf, name, web(name, comment="site, updated"))
    assert stack_of(cf, name)["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs(cf, name) == web_stack
    config = aws("cloudfront").get_distribution_config(Id=web_stack["DistributionId"])
    assert config["DistributionConfig"]["Comment"] == "site, updated"


def test_delete_removes_distribution_access_control_and_bucket(
    aws: Any, name: str, web_stack: dict[str, str]
) -> None:
    cf = aws("cloudformation")
    ids = physical_ids(cf, name)
    cf.delete_stack(StackName=name)
    cloudfront = aws("cloudfront")
    with pytest.raises(ClientError, match="NoSuchDistribution"):
        cloudfront.get_distribution(Id=web_stack["DistributionId"])
    with pytest.raises(ClientError, match="NoSuchOriginAccessControl"):
        cloudfront.get_origin_access_control(Id=ids["OriginAccessControl"])
    buckets = [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    assert web_stack["SiteBucketName"] not in buckets
