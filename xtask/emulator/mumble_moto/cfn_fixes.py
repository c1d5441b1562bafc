"""CloudFormation stack behaviour brought in line with AWS where our deploy depends on it.

moto runs CloudFormation synchronously inside the API call; so does this module, but it makes
the outcome look like AWS's: per-resource stack events, a failed resource with its reason and
a rolled-back stack instead of an HTTP 500, Outputs and Exports after a change set, the
"no changes" change set, parameter-only changes shown as Modify with a Replacement flag, and
stack deletion in reverse dependency order.

One file over 500 lines: change sets, events, rollback and deletion are one state machine over
moto's stack objects.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import yaml
from moto.cloudformation import models, parsing, responses
from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
from moto.cloudformation.models import (
    ChangeSet,
    CloudFormationBackend,
    Event,
    Stack,
)
from moto.cloudformation.parsing import ResourceMap

# Type names moto creates without a model object; everything else needs a handler.
_NO_HANDLER_NEEDED = tuple(parsing.NULL_MODELS)


class ResourceFailed(Exception):
    """A resource could not be created, updated or deleted; carries AWS's status reason."""

    def __init__(self, logical_id: str, reason: str):
        super().__init__(reason)
        self.logical_id = logical_id
        self.reason = reason


def install() -> None:
    _read_yaml_dates_as_strings()
    _patch_resource_events()
    _patch_change_sets()
    _patch_stack_deletion()
    _patch_template_urls()
    _add_missing_actions()


def _read_yaml_dates_as_strings() -> None:
    """CloudFormation reads `Version: 2012-10-17` in a YAML template as the string IAM expects;
    moto's PyYAML loader made it a date, which then failed as "Object of type date is not JSON
    serializable" in every policy document. moto parses templates with `yaml.Loader`, so that
    loader (and only it: the attribute is set on the class itself) drops the timestamp rule."""
    timestamp = "tag:yaml.org,2002:timestamp"
    yaml.Loader.yaml_implicit_resolvers = {
        first: [resolver for resolver in resolvers if resolver[0] != timestamp]
        for first, resolvers in yaml.Loader.yaml_implicit_resolvers.items()
    }


def _patch_template_urls() -> None:
    """A TemplateURL that points at the emulator itself (http://127.0.0.1:PORT/bucket/key, what
    an SDK configured with AWS_ENDPOINT_URL produces) is path-style; moto only knew that for
    `localhost` and read the host's first label as the bucket name."""
    from moto.cloudformation import utils

    original = utils.get_stack_from_s3_url

    @functools.wraps(original)
    def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
        parts = urlparse(template_url)
        if parts.hostname in ("127.0.0.1", "localhost"):
            template_url = parts._replace(netloc="localhost").geturl()
        return original(template_url, account_id, partition)

    utils.get_stack_from_s3_url = get_stack_from_s3_url
    responses.get_stack_from_s3_url = get_stack_from_s3_url  # type: ignore[attr-defined]
    models.get_stack_from_s3_url = get_stack_from_s3_url  # type: ignore[attr-defined]


# --- per-resource events and failures --------------------------------------------------------


def _stack_of(resources: ResourceMap) -> Stack | None:
    return getattr(resources, "mumble_stack", None)


def _event(
    stack: Stack,
    logical_id: str,
    resource_type: str,
    status: str,
    physical_id: str = "",
    reason: str | None = None,
) -> None:
    last = stack.events[-1] if stack.events else None
    if (
        last is not None
        and last.logical_resource_id == logical_id
        and last.resource_status == status
        and last.resource_status_reason == reason
    ):
        return  # moto retries failed updates and deletes; AWS reports each failure once
    stack.events.append(
        Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=logical_id,
            physical_resource_id=physical_id,
            resource_type=resource_type,
            resource_status=status,
            resource_status_reason=reason,
            resource_properties=None,
        )
    )


def _reason(err: BaseException) -> str:
    if isinstance(err, ResourceFailed):
        return err.reason
    if isinstance(err, KeyError):
        return f"Property {err.args[0]} is missing or references an unknown value"
    message = getattr(err, "message", None) or (err.args[0] if err.args else None)
    return f"{type(err).__name__}: {message}" if message else type(err).__name__


@functools.cache
def _schema(resource_type: str) -> dict[str, Any] | None:
    try:
        from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

        return PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema  # type: ignore[no-any-return]
    except Exception:
        return None  # cfn-lint not installed or type unknown to it: nothing to check against


def _validate(logical_id: str, resource_json: dict[str, Any]) -> None:
    """What AWS checks before calling a resource handler: known property names, required ones."""
    resource_type = resource_json["Type"]
    if resource_type.startswith("Custom::") or resource_type in _NO_HANDLER_NEEDED:
        return
    if parsing.resource_class_from_type(resource_type) is None:
        raise ResourceFailed(
            logical_id,
            f"the emulator has no CloudFormation handler for {resource_type}; "
            "add one in xtask/emulator/mumble_moto/resources",
        )
    schema = _schema(resource_type)
    if schema is None:
        return
    props = resource_json.get("Properties") or {}
    prefix = f"Properties validation failed for resource {logical_id} with message: #: "
    for key in props:
        if key not in schema.get("properties", {}):
            raise ResourceFailed(logical_id, f"{prefix}extraneous key [{key}] is not permitted")
    for key in schema.get("required", []):
        if key not in props:
            raise ResourceFailed(logical_id, f"{prefix}required key [{key}] not found")


def _create_only_changed(resource_type: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    schema = _schema(resource_type) or {}
    create_only = [p.rsplit("/", 1)[-1] for p in schema.get("createOnlyProperties", [])]
    old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
    return any(old_props.get(p) != new_props.get(p) for p in create_only)


def _patch_resource_events() -> None:
    create = parsing.parse_and_create_resource
    update = parsing.parse_and_update_resource

    @functools.wraps(create)
    def create_with_events(
        logical_id: str,
        resource_json: dict[str, Any],
        resources_map: ResourceMap,
        account_id: str,
        region_name: str,
    ) -> Any:
        stack = _stack_of(resources_map)
        condition = resource_json.get("Condition")
        if stack is None or (condition and not resources_map.lazy_condition_map[condition]):
            return create(logical_id, resource_json, resources_map, account_id, region_name)
        resource_type = resource_json["Type"]
        _event(stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
        try:
            _validate(logical_id, resource_json)
            resource = create(logical_id, resource_json, resources_map, account_id, region_name)
        except ResourceFailed as err:
            # A dependency failed: AWS cancels the resources waiting on it.
            reason = err.reason if err.logical_id == logical_id else "Resource creation cancelled"
            _event(stack, logical_id, resource_type, "CREATE_FAILED", reason=reason)
            raise
        except Exception as err:
            reason = _reason(err)
            _event(stack, logical_id, resource_type, "CREATE_FAILED", reason=reason)
            raise ResourceFailed(logical_id, reason) from err
        physical_id = getattr(resource, "physical_resource_id", "") or ""
        _event(stack, logical_id, resource_type, "CREATE_COMPLETE", str(physical_id))
        return resource

    @functools.wraps(update)
    def update_with_events(
        logical_id: str,
        resource_json: dict[str, Any],
        resources_map: ResourceMap,
        account_id: str,
        region_name: str,
    ) -> Any:
        stack = _stack_of(resources_map)
        resource_type = resource_json["Type"]
        original = resources_map._parsed_resources.get(logical_id)
        if stack is not None:
            _event(stack, logical_id, resource_type, "UPDATE_IN_PROGRESS")
        try:
            _validate(logical_id, resource_json)
            handler = parsing.resource_class_from_type(resource_type)
            if hasattr(handler.update_from_cloudformation_json, "__isabstractmethod__"):
                resource = _update_without_handler(
                    logical_id, resource_json, resources_map, account_id, region_name
                )
            else:
                resource = update(logical_id, resource_json, resources_map, account_id, region_name)
        except Exception as err:
            reason = _reason(err)
            if stack is not None:
                _event(stack, logical_id, resource_type, "UPDATE_FAILED", reason=reason)
            raise ResourceFailed(logical_id, reason) from err
        if stack is not None:
            physical_id = getattr(resource or original, "physical_resource_id", "") or ""
            _event(stack, logical_id, resource_type, "UPDATE_COMPLETE", str(physical_id))
        return resource

    parsing.parse_and_create_resource = create_with_events
    parsing.parse_and_update_resource = update_with_events


def _update_without_handler(
    logical_id: str,
    resource_json: dict[str, Any],
    resources_map: ResourceMap,
    account_id: str,
    region_name: str,
) -> Any:
    """moto has no update for some types (DynamoDB tables, log groups) and then *drops* the
    resource from the stack. Replace it when a create-only property changed, as AWS would;
    otherwise keep it as it is (the change is not applied, but the resource stays managed)."""
    original = resources_map._parsed_resources[logical_id]
    old_json = resources_map.mumble_previous_json.get(logical_id, {})  # type: ignore[attr-defined]
    if not _create_only_changed(resource_json["Type"], old_json, resource_json):
        return original
    resources_map._delete_resource(original, old_json or resource_json)
    del resources_map._parsed_resources[logical_id]
    return resources_map[logical_id]


# --- change sets -----------------------------------------------------------------------------


def _patch_change_sets() -> None:
    make_resource_map = Stack._create_resource_map

    def create_resource_map(self: Stack) -> ResourceMap:
        resources = make_resource_map(self)
        resources.mumble_stack = self  # type: ignore[attr-defined]
        return resources

    Stack._create_resource_map = create_resource_map  # type: ignore[method-assign]

    # Modify needs the resource's previous definition to decide about replacement.
    resource_map_update = ResourceMap.update

    def update_remembering_previous(
        self: ResourceMap, template: dict[str, Any], parameters: dict[str, Any] | None = None
    ) -> None:
        self.mumble_previous_json = dict(self._resource_json_map)  # type: ignore[attr-defined]
        resource_map_update(self, template, parameters)

    ResourceMap.update = update_remembering_previous  # type: ignore[method-assign]

    ChangeSet.diff = _diff  # type: ignore[method-assign]
    _wrap(CloudFormationBackend, "create_change_set", _create_change_set)
    _wrap(CloudFormationBackend, "execute_change_set", _execute_change_set)

    # AWS answers an unchanged UPDATE change set with a FAILED change set ("didn't contain
    # changes"), which the backend already models; moto's response layer raised "No updates
    # are to be performed." first whenever the request had parameters.
    validate_update = responses.CloudFormationResponse._validate_different_update

    def validate_different_update(self: Any, *args: Any) -> None:
        if self._get_action() == "CreateChangeSet":
            return
        validate_update(self, *args)

    responses.CloudFormationResponse._validate_different_update = validate_different_update  # type: ignore[method-assign]

    # AWS's ChangeSetType defaults to UPDATE; moto's to CREATE, which silently made a second
    # stack of the same name when a caller left it out.
    get_param = responses.CloudFormationResponse._get_param

    def get_param_with_aws_defaults(self: Any, param_name: str, if_none: Any = None) -> Any:
        if param_name == "ChangeSetType" and self._get_action() == "CreateChangeSet":
            if_none = "UPDATE"
        return get_param(self, param_name, if_none)

    responses.CloudFormationResponse._get_param = get_param_with_aws_defaults  # type: ignore[method-assign]


def _wrap(cls: type, name: str, wrapper: Callable[..., Any]) -> None:
    original = getattr(cls, name)

    @functools.wraps(original)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        return wrapper(original, self, *args, **kwargs)

    setattr(cls, name, wrapped)


def _diff(self: ChangeSet) -> list[models.Change]:
    """Resource changes as AWS lists them, including those driven only by parameter values."""
    resources = self.stack.resource_map
    old = resources._resource_json_map
    new = self.template_dict.get("Resources", {})
    by_action = resources.build_resource_diff(self.template_dict, self.parameters)
    changes = []
    for action in ("Add", "Modify", "Remove"):
        for logical_id in by_action[action]:
            resource_type = (new.get(logical_id) or old[logical_id])["Type"]
            change = models.Change(action, logical_id, resource_type)
            existing = resources._parsed_resources.get(logical_id)
            if existing is not None and action != "Add":
                change.physical_resource_id = str(getattr(existing, "physical_resource_id", ""))  # type: ignore[attr-defined]
            if action == "Modify":
                replaced = _create_only_changed(resource_type, old[logical_id], new[logical_id])
                change.replacement = "True" if replaced else "False"  # type: ignore[attr-defined]
            changes.append(change)
    return changes


def _live_stack(backend: CloudFormationBackend, name: str) -> Stack | None:
    return next((s for s in backend.stacks.values() if s.name == name), None)


def _create_change_set(
    original: Callable[..., tuple[str, str]],
    self: CloudFormationBackend,
    stack_name: str,
    change_set_name: str,
    template: str,
    parameters: dict[str, str],
    description: str,
    change_set_type: str,
    *args: Any,
    **kwargs: Any,
) -> tuple[str, str]:
    existing = _live_stack(self, stack_name)
    if change_set_type == "CREATE" and existing is not None:
        if existing.status != "REVIEW_IN_PROGRESS":
            raise AlreadyExistsException(f"Stack [{stack_name}] already exists")
        # A stack that only ever had an unexecuted change set: AWS creates the next one on it.
        # moto would add a second stack of the same name, so the first one goes.
        del self.stacks[existing.stack_id]
    if change_set_type == "UPDATE" and existing is not None:
        if existing.status in ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
            raise ValidationError(
                existing.stack_id,
                message=f"Stack:{existing.stack_id} is in {existing.status} state "
                "and can not be updated.",
            )
    change_set_id, stack_id = original(
        self,
        stack_name,
        change_set_name,
        template,
        parameters,
        description,
        change_set_type,
        *args,
        **kwargs,
    )
    return change_set_id, stack_id


def _execute_change_set(
    original: Callable[..., None],
    self: CloudFormationBackend,
    change_set_name: str,
    stack_name: str | None = None,
) -> None:
    change_set = self.describe_change_set(change_set_name)
    assert change_set is not None
    if change_set.execution_status != "AVAILABLE":
        raise ValidationError(
            message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current "
            f"execution status of [{change_set.execution_status}]"
        )
    stack = self.stacks[change_set.stack_id]
    # A stack made by a CREATE change set got its own empty export table; Fn::ImportValue
    # must see the region's.
    stack.cross_stack_resources = self.exports
    stack.resource_map.cross_stack_resources = self.exports
    previous = (stack.template, dict(stack.parameters), stack.status)
    try:
        original(self, change_set_name, stack_name)
    except Exception as err:
        _roll_back(self, stack, change_set, previous, err)
        return
    stack.parameters = dict(change_set.parameters)
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.output_map = stack._create_output_map()
    _publish_exports(self, stack)


def _publish_exports(backend: CloudFormationBackend, stack: Stack) -> None:
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    for export in stack.exports:
        owner = backend.exports.get(export.name)
        if owner is not None and owner.exporting_stack_id != stack.stack_id:
            raise ValidationError(
                stack.stack_id,
                message=f"Export with name {export.name} is already exported by stack "
                f"{owner.exporting_stack_id}",
            )
        backend.exports[export.name] = export


def _roll_back(
    backend: CloudFormationBackend,
    stack: Stack,
    change_set: ChangeSet,
    previous: tuple[Any, dict[str, str], str],
    err: Exception,
) -> None:
    """What AWS does when a change set fails: the API call succeeded, the stack rolls back."""
    template, parameters, _ = previous
    failed = err.logical_id if isinstance(err, ResourceFailed) else stack.name
    change_set.execution_status = "EXECUTE_FAILED"
    if change_set.change_set_type == "CREATE":
        reason = (
            f"The following resource(s) failed to create: [{failed}]. Rollback requested by user."
        )
        stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
        try:
            _delete_in_reverse_creation_order(stack.resource_map)
        except Exception as cleanup_err:
            stack.status = "ROLLBACK_FAILED"
            stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=_reason(cleanup_err))
            return
        stack.status = "ROLLBACK_COMPLETE"
        stack._add_stack_event("ROLLBACK_COMPLETE")
        return
    reason = f"The following resource(s) failed to update: [{failed}]."
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    try:
        stack.resource_map.update(Stack.parse_template(template), parameters)
    except Exception as rollback_err:
        stack.status = "UPDATE_ROLLBACK_FAILED"
        stack.mumble_rollback_to = (template, parameters)  # type: ignore[attr-defined]
        stack._add_stack_event(
            "UPDATE_ROLLBACK_FAILED", resource_status_reason=_reason(rollback_err)
        )
        return
    _finish_update_rollback(stack, template, parameters)


def _finish_update_rollback(stack: Stack, template: Any, parameters: dict[str, str]) -> None:
    stack.template = template
    stack.parameters = parameters
    stack._parse_template()
    stack.output_map = stack._create_output_map()
    stack.status = "UPDATE_ROLLBACK_COMPLETE"
    stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")


# --- deletion --------------------------------------------------------------------------------


def _delete_in_reverse_creation_order(self: ResourceMap) -> None:
    """moto deletes in set order and retries on errors; AWS deletes dependents first. Creation
    order (dependencies are created on first reference) reversed is a dependents-first order."""
    stack = _stack_of(self)
    created = [
        logical_id
        for logical_id, resource in self._parsed_resources.items()
        if logical_id in self._resource_json_map
        and resource is not None
        and not isinstance(resource, str)
    ]
    for logical_id in reversed(created):
        resource_json = self._resource_json_map[logical_id]
        resource = self._parsed_resources[logical_id]
        resource_type = resource_json["Type"]
        physical_id = str(getattr(resource, "physical_resource_id", "") or "")
        if resource_json.get("DeletionPolicy") == "Retain":
            if stack is not None:
                _event(stack, logical_id, resource_type, "DELETE_SKIPPED", physical_id)
            continue
        if stack is not None:
            _event(stack, logical_id, resource_type, "DELETE_IN_PROGRESS", physical_id)
        try:
            self._delete_resource(resource, resource_json)
        except Exception as err:
            if stack is not None:
                _event(stack, logical_id, resource_type, "DELETE_FAILED", physical_id, _reason(err))
            raise ResourceFailed(logical_id, _reason(err)) from err
        self._parsed_resources.pop(logical_id)
        if stack is not None:
            _event(stack, logical_id, resource_type, "DELETE_COMPLETE", physical_id)


def _patch_stack_deletion() -> None:
    ResourceMap.delete = _delete_in_reverse_creation_order  # type: ignore[method-assign]

    def delete_stack(
        original: Callable[..., None], self: CloudFormationBackend, name_or_stack_id: str
    ) -> None:
        stack = self.stacks.get(name_or_stack_id) or _live_stack(self, name_or_stack_id)
        if stack is None:
            return  # AWS: deleting a stack that does not exist succeeds
        if stack.enable_termination_protection:
            raise ValidationError(
                stack.stack_id,
                message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection "
                "is enabled",
            )
        try:
            original(self, stack.stack_id)
        except ResourceFailed as err:
            # moto had already dropped the stack; AWS keeps it, in DELETE_FAILED.
            self.deleted_stacks.pop(stack.stack_id, None)
            self.stacks[stack.stack_id] = stack
            stack.status = "DELETE_FAILED"
            stack._add_stack_event(
                "DELETE_FAILED",
                resource_status_reason="The following resource(s) failed to delete: "
                f"[{err.logical_id}]. ",
            )

    _wrap(CloudFormationBackend, "delete_stack", delete_stack)


# --- actions moto 5.2.5 does not implement ---------------------------------------------------


def _add_missing_actions() -> None:
    """UpdateTerminationProtection (protected stages) and ContinueUpdateRollback (`cargo xtask
    recover`); moto answered both with "not yet implemented"."""
    from moto.core.responses import ActionResult, EmptyResult

    def update_termination_protection(self: Any) -> ActionResult:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        stack.enable_termination_protection = self._get_bool_param("EnableTerminationProtection")
        return ActionResult({"StackId": stack.stack_id})

    def continue_update_rollback(self: Any) -> EmptyResult:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        skipped = set(self._get_param("ResourcesToSkip", []))
        _continue_update_rollback(stack, skipped)
        return EmptyResult()

    responses.CloudFormationResponse.update_termination_protection = update_termination_protection  # type: ignore[attr-defined]
    responses.CloudFormationResponse.continue_update_rollback = continue_update_rollback  # type: ignore[attr-defined]


def _continue_update_rollback(stack: Stack, skipped: set[str]) -> None:
    if stack.status != "UPDATE_ROLLBACK_FAILED":
        raise ValidationError(
            stack.stack_id,
            message=f"Stack {stack.stack_id} is in {stack.status} state "
            "and can not continue update rollback.",
        )
    template, parameters = stack.mumble_rollback_to  # type: ignore[attr-defined]
    target = Stack.parse_template(template)
    current = stack.resource_map._resource_json_map
    for logical_id in skipped:
        # AWS marks a skipped resource UPDATE_COMPLETE and rolls back the rest around it.
        if logical_id in current:
            target.setdefault("Resources", {})[logical_id] = current[logical_id]
            _event(
                stack,
                logical_id,
                current[logical_id]["Type"],
                "UPDATE_COMPLETE",
                reason="Resource skipped during UpdateRollback",
            )
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        stack.resource_map.update(target, parameters)
    except Exception as err:
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=_reason(err))
        return
    _finish_update_rollback(stack, template, parameters)
