"""S3 as our stacks use it.

1. AWS::S3::Bucket properties moto's CloudFormation handler ignores. moto applies only
   BucketEncryption and Tags from a template. Our stacks also rely on versioning (the site sync
   keeps old objects), the public access block, CORS (browser uploads through presigned URLs),
   lifecycle rules and notifications (EventBridge for new images); each is applied here through
   the same backend calls as the S3 API, on create and on update.
2. Bucket policy statements with a Condition. moto cannot evaluate conditions and applies such a
   statement as if it always matched, so our TLS-only policy ("Deny s3:* when
   aws:SecureTransport is false") denied every object request. A conditional statement is
   skipped instead: the emulator stands in for AWS's HTTPS endpoints, where that Deny never
   matches, and the CloudFront-only Allow (condition on the distribution's ARN) matches no
   emulator caller anyway.
3. Deleting a non-empty bucket from a stack. moto left the bucket in place and reported the
   resource deleted; AWS fails the delete ("The bucket you tried to delete is not empty") and
   the stack goes to DELETE_FAILED.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.s3.exceptions import BucketNotEmpty
from moto.s3.models import FakeBucket, S3Backend, s3_backends
from moto.utilities.utils import get_partition


def _cors_rules(config: dict[str, Any]) -> list[dict[str, Any]]:
    keys = {
        "AllowedMethods": "AllowedMethod",
        "AllowedOrigins": "AllowedOrigin",
        "AllowedHeaders": "AllowedHeader",
        "ExposedHeaders": "ExposeHeader",
        "Id": "ID",
    }
    rules = []
    for rule in config.get("CorsRules", []):
        api = {keys[k]: v for k, v in rule.items() if k in keys}
        if "MaxAge" in rule:
            api["MaxAgeSeconds"] = str(rule["MaxAge"])
        rules.append(api)
    return rules


def _lifecycle_rules(config: dict[str, Any]) -> list[dict[str, Any]]:
    rules = []
    for rule in config.get("Rules", []):
        api: dict[str, Any] = {
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "Id" in rule:
            api["ID"] = rule["Id"]
        if "ExpirationInDays" in rule:
            api["Expiration"] = {"Days": rule["ExpirationInDays"]}
        noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") or rule.get(
            "NoncurrentVersionExpirationInDays"
        )
        if noncurrent:
            api["NoncurrentVersionExpiration"] = {"NoncurrentDays": noncurrent}
        if "AbortIncompleteMultipartUpload" in rule:
            api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        rules.append(api)
    return rules


def _notifications(config: dict[str, Any]) -> dict[str, Any]:
    def targets(key: str, arn_key: str, api_arn_key: str) -> list[dict[str, Any]]:
        out = []
        for target in config.get(key, []):
            api: dict[str, Any] = {api_arn_key: target[arn_key], "Event": [target["Event"]]}
            rules = target.get("Filter", {}).get("S3Key", {}).get("Rules")
            if rules:
                api["Filter"] = {"S3Key": {"FilterRule": rules}}
            out.append(api)
        return out

    api: dict[str, Any] = {
        "CloudFunctionConfiguration": targets("LambdaConfigurations", "Function", "CloudFunction"),
        "QueueConfiguration": targets("QueueConfigurations", "Queue", "Queue"),
        "TopicConfiguration": targets("TopicConfigurations", "Topic", "Topic"),
    }
    if config.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        api["EventBridgeConfiguration"] = {}
    return api


def _apply(backend: S3Backend, name: str, props: dict[str, Any]) -> None:
    versioning = props.get("VersioningConfiguration")
    if versioning:
        backend.put_bucket_versioning(name, versioning["Status"])
    if "PublicAccessBlockConfiguration" in props:
        backend.put_public_access_block(name, props["PublicAccessBlockConfiguration"])
    else:
        backend.delete_public_access_block(name)
    if "CorsConfiguration" in props:
        backend.put_bucket_cors(name, _cors_rules(props["CorsConfiguration"]))
    else:
        backend.delete_bucket_cors(name)
    if "LifecycleConfiguration" in props:
        backend.put_bucket_lifecycle(name, _lifecycle_rules(props["LifecycleConfiguration"]))
    if "NotificationConfiguration" in props:
        backend.put_bucket_notification_configuration(
            name, _notifications(props["NotificationConfiguration"])
        )
    if "OwnershipControls" in props:
        backend.put_bucket_ownership_controls(name, props["OwnershipControls"])


def _permission_ignoring_conditional_statements(
    self: FakeBucket, action: str, resource: str
) -> Any:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    policy["Statement"] = [s for s in statements if "Condition" not in s]
    if not policy["Statement"]:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


def _delete_from_cloudformation_json(
    cls: type[FakeBucket],
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> None:
    backend = s3_backends[account_id][get_partition(region_name)]
    if backend.get_bucket(resource_name).keys:
        raise BucketNotEmpty(resource_name)
    backend.delete_bucket(resource_name)


def install() -> None:
    FakeBucket.get_permission = _permission_ignoring_conditional_statements  # type: ignore[method-assign]
    FakeBucket.delete_from_cloudformation_json = classmethod(_delete_from_cloudformation_json)  # type: ignore[method-assign,assignment]
    create = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    update = FakeBucket.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    @functools.wraps(create)
    def create_with_settings(
        cls: type[FakeBucket],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeBucket:
        bucket = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = s3_backends[account_id][get_partition(region_name)]
        _apply(backend, bucket.name, cloudformation_json.get("Properties") or {})
        return bucket

    @functools.wraps(update)
    def update_with_settings(
        cls: type[FakeBucket],
        original_resource: FakeBucket,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> FakeBucket:
        bucket = update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        backend = s3_backends[account_id][get_partition(region_name)]
        _apply(backend, bucket.name, cloudformation_json.get("Properties") or {})
        return bucket

    FakeBucket.create_from_cloudformation_json = classmethod(create_with_settings)  # type: ignore[method-assign,assignment]
    FakeBucket.update_from_cloudformation_json = classmethod(update_with_settings)  # type: ignore[method-assign,assignment]
