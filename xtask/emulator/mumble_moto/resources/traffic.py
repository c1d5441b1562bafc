"""Lambda versions and aliases, and the CodeDeploy application and deployment groups that shift
an alias's traffic: the types moto's CloudFormation skips or half-makes.

moto's own `AWS::Lambda::Version` publishes a version but answers neither `Ref` (the version's
ARN) nor `Fn::GetAtt ... Version`; it has no alias or CodeDeploy handler at all. An alias update
under `UpdatePolicy: CodeDeployLambdaAliasUpdate` goes through `codedeploy_fixes.shift`, which
records the CodeDeploy deployment AWS would run and ends it as a test asked (succeeded unless
told otherwise).
"""

from __future__ import annotations

from typing import Any

from moto.awslambda.utils import get_backend as lambda_backend
from moto.codedeploy.models import codedeploy_backends

from .. import codedeploy_fixes
from .base import EmulatedResource, lower_camel


class Version(EmulatedResource):
    TYPE = "AWS::Lambda::Version"
    ATTRIBUTES = ("Version",)

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Version:
        backend = lambda_backend(account_id, region)
        function_name = props["FunctionName"]
        description = props.get("Description", "")
        # A rollback brings an earlier version back (AWS restores the retained resource): the
        # version published with the same description is that one.
        for published in backend.list_versions_by_function(function_name)[1:]:
            if description and published.description == description:
                return cls(account_id, region, name, published.function_arn, props)
        published = backend.publish_version(function_name, description)
        return cls(account_id, region, name, published.function_arn, props)  # type: ignore[union-attr]

    def update(self, name: str, props: dict[str, Any]) -> Version:
        # Every property is create-only: a change publishes another version. The replaced one
        # stays, as our templates' UpdateReplacePolicy: Retain asks (versions go with the function).
        return type(self).create(self.account_id, self.region, name, props)

    def remove(self) -> None:
        function_name, version = self.physical_id.rsplit(":", 1)
        lambda_backend(self.account_id, self.region).delete_function(function_name, version)

    def attribute(self, name: str) -> Any:
        return self.physical_id.rsplit(":", 1)[1]


class Alias(EmulatedResource):
    TYPE = "AWS::Lambda::Alias"

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Alias:
        alias = lambda_backend(account_id, region).create_alias(
            name=props["Name"],
            function_name=props["FunctionName"],
            function_version=str(props["FunctionVersion"]),
            description=props.get("Description", ""),
            routing_config=props.get("RoutingConfig"),  # type: ignore[arg-type]
        )
        return cls(account_id, region, name, alias.arn, props)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Alias,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EmulatedResource:
        props = cloudformation_json.get("Properties") or {}
        policy = (cloudformation_json.get("UpdatePolicy") or {}).get(
            "CodeDeployLambdaAliasUpdate"
        )
        return original_resource.update_alias(props, policy)

    def update_alias(self, props: dict[str, Any], policy: dict[str, Any] | None) -> Alias:
        if (props["FunctionName"], props["Name"]) != (
            self.props["FunctionName"],
            self.props["Name"],
        ):
            return self.update(self.name, props)  # type: ignore[return-value]
        backend = lambda_backend(self.account_id, self.region)
        current = backend.get_alias(props["Name"], props["FunctionName"]).function_version
        target = str(props["FunctionVersion"])
        if policy and current != target:
            # moto retries a failed update a few times within one stack update: the deployment
            # that failed is reported again rather than run again.
            failed = getattr(self, "failed", None)
            if failed is not None and failed[0] == target:
                raise codedeploy_fixes.DeploymentNotSucceeded(failed[1])
            try:
                # Raises when the deployment did not succeed; the alias stays where it was.
                codedeploy_fixes.shift(
                    self.account_id,
                    self.region,
                    policy["ApplicationName"],
                    policy["DeploymentGroupName"],
                    props["FunctionName"],
                    props["Name"],
                    current,
                    target,
                )
            except codedeploy_fixes.DeploymentNotSucceeded as err:
                self.failed = (target, str(err))
                raise
        self.failed = None
        backend.update_alias(
            props["Name"],
            props["FunctionName"],
            target,
            props.get("Description", ""),
            props.get("RoutingConfig"),  # type: ignore[arg-type]
        )
        self.props = props
        return self

    def remove(self) -> None:
        lambda_backend(self.account_id, self.region).delete_alias(
            self.props["Name"], self.props["FunctionName"]
        )


class CodeDeployApplication(EmulatedResource):
    TYPE = "AWS::CodeDeploy::Application"
    NAME_PROPERTY = "ApplicationName"

    @classmethod
    def create(
        cls, account_id: str, region: str, name: str, props: dict[str, Any]
    ) -> CodeDeployApplication:
        codedeploy_backends[account_id][region].create_application(
            name, props.get("ComputePlatform", "Server"), props.get("Tags") or []
        )
        return cls(account_id, region, name, name, props)

    def remove(self) -> None:
        # moto has no DeleteApplication: the application and its groups go as AWS deletes them.
        backend = codedeploy_backends[self.account_id][self.region]
        backend.applications.pop(self.physical_id, None)
        backend.deployment_groups.pop(self.physical_id, None)


class DeploymentGroup(EmulatedResource):
    TYPE = "AWS::CodeDeploy::DeploymentGroup"
    NAME_PROPERTY = "DeploymentGroupName"

    @classmethod
    def create(
        cls, account_id: str, region: str, name: str, props: dict[str, Any]
    ) -> DeploymentGroup:
        codedeploy_backends[account_id][region].create_deployment_group(
            application_name=props["ApplicationName"],
            deployment_group_name=name,
            deployment_config_name=props.get("DeploymentConfigName"),
            ec2_tag_filters=None,
            on_premises_instance_tag_filters=None,
            auto_scaling_groups=None,
            service_role_arn=props["ServiceRoleArn"],
            alarm_configuration=lower_camel(props.get("AlarmConfiguration")),
            auto_rollback_configuration=lower_camel(props.get("AutoRollbackConfiguration")),
            deployment_style=lower_camel(props.get("DeploymentStyle")),
        )
        return cls(account_id, region, name, name, props)

    def update(self, name: str, props: dict[str, Any]) -> DeploymentGroup:
        # UpdateDeploymentGroup in place: the same group, the new settings.
        self.remove()
        return type(self).create(self.account_id, self.region, name, props)

    def remove(self) -> None:
        backend = codedeploy_backends[self.account_id][self.region]
        backend.deployment_groups.get(self.props["ApplicationName"], {}).pop(
            self.physical_id, None
        )


def _references(value: Any, logical_id: str) -> bool:
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        get_att = value.get("Fn::GetAtt")
        if isinstance(get_att, list) and get_att[:1] == [logical_id]:
            return True
        if isinstance(get_att, str) and get_att.split(".", 1)[0] == logical_id:
            return True
        return any(_references(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(_references(v, logical_id) for v in value)
    return False


def install() -> None:
    """A changed `AWS::Lambda::Version` is a new version (every property is create-only), so
    what refers to it changes too, as AWS updates an alias whose version was replaced; moto's
    diff listed only resources whose own JSON or parameters changed."""
    from moto.cloudformation.parsing import ResourceMap

    original = ResourceMap.build_resource_diff

    def build_resource_diff(
        self: ResourceMap, other_template: dict[str, Any], parameters: Any = None
    ) -> dict[str, Any]:
        by_action = original(self, other_template, parameters)
        new = other_template.get("Resources", {})
        modified = by_action["Modify"]
        for logical_id in list(modified):
            if new.get(logical_id, {}).get("Type") != Version.TYPE:
                continue
            for name, resource in new.items():
                if name not in modified and name in self._resource_json_map:
                    if _references(resource, logical_id):
                        modified.append(name)
        return by_action

    ResourceMap.build_resource_diff = build_resource_diff  # type: ignore[method-assign]


HANDLERS: list[type[EmulatedResource]] = [
    Version,
    Alias,
    CodeDeployApplication,
    DeploymentGroup,
]
