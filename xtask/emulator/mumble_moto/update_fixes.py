"""DynamoDB tables and log groups: the settings moto's CloudFormation skips, and in-place updates.

moto's table handler ignores TimeToLiveSpecification and PointInTimeRecoverySpecification, and
neither a table nor a log group has an update handler (cfn_fixes would otherwise keep the
resource unchanged). Here both apply their settings on create and update in place through the
same backend calls as their APIs; a create-only change (a new TableName or LogGroupName, a new
key schema) replaces the resource, as AWS does.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.logs.models import LogGroup, logs_backends


def _apply_table_settings(account_id: str, region: str, name: str, props: dict[str, Any]) -> None:
    backend = dynamodb_backends[account_id][region]
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        backend.update_time_to_live(name, ttl)
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr is not None:
        backend.update_continuous_backups(
            name, {"PointInTimeRecoveryEnabled": bool(pitr.get("PointInTimeRecoveryEnabled"))}
        )


def _update_table(
    cls: type[Table],
    original_resource: Table,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> Table:
    props = cloudformation_json["Properties"]
    name = props.get("TableName", original_resource.name)
    if name != original_resource.name or props.get("KeySchema") != original_resource.schema:
        created = cls.create_from_cloudformation_json(
            props.get("TableName", new_resource_name), cloudformation_json, account_id, region_name
        )
        cls.delete_from_cloudformation_json(
            original_resource.name, cloudformation_json, account_id, region_name
        )
        return created  # type: ignore[no-any-return]
    backend = dynamodb_backends[account_id][region_name]
    backend.update_table(
        name=name,
        attr_definitions=props.get("AttributeDefinitions"),  # type: ignore[arg-type]
        global_index=[],
        throughput=props.get("ProvisionedThroughput"),  # type: ignore[arg-type]
        billing_mode=props.get("BillingMode", "PROVISIONED"),
        stream_spec=props.get("StreamSpecification"),  # type: ignore[arg-type]
        deletion_protection_enabled=bool(props.get("DeletionProtectionEnabled", False)),
        warm_throughput=None,
    )
    original_resource.tags = list(props.get("Tags", []))
    _apply_table_settings(account_id, region_name, name, props)
    return original_resource


def _update_log_group(
    cls: type[LogGroup],
    original_resource: LogGroup,
    new_resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
) -> LogGroup:
    props = cloudformation_json["Properties"]
    backend = logs_backends[account_id][region_name]
    if props.get("LogGroupName", original_resource.name) != original_resource.name:
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(  # type: ignore[no-any-return]
            props.get("LogGroupName", new_resource_name),
            cloudformation_json,
            account_id,
            region_name,
        )
    if props.get("RetentionInDays"):
        backend.put_retention_policy(original_resource.name, props["RetentionInDays"])
    else:
        backend.delete_retention_policy(original_resource.name)
    return original_resource


def install() -> None:
    create_table = Table.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    @functools.wraps(create_table)
    def create_table_with_settings(
        cls: type[Table],
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Table:
        table = create_table(
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        props = cloudformation_json.get("Properties") or {}
        _apply_table_settings(account_id, region_name, table.name, props)
        return table  # type: ignore[no-any-return]

    Table.create_from_cloudformation_json = classmethod(create_table_with_settings)  # type: ignore[method-assign,assignment]
    Table.update_from_cloudformation_json = classmethod(_update_table)  # type: ignore[method-assign,assignment]
    LogGroup.update_from_cloudformation_json = classmethod(_update_log_group)  # type: ignore[method-assign,assignment]
