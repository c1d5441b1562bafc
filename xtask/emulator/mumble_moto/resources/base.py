"""The shape every plugin CloudFormation handler shares, and how handlers join moto's model map."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

# moto's "not found" exceptions across services, by class name.
_GONE = re.compile(r"NotFound|NoSuch|Missing|Unknown")


class EmulatedResource(CloudFormationModel):
    """One resource made through moto's own backend; `physical_id` is what `Ref` returns.

    Subclasses set TYPE, NAME_PROPERTY (the property CloudFormation names the resource by, if
    any) and ATTRIBUTES (what Fn::GetAtt accepts), and implement `create`, `remove`, `attribute`
    (when ATTRIBUTES is not empty) and, where AWS updates the resource in place, `update`. The
    default update replaces the resource, as CloudFormation does for create-only properties.
    """

    TYPE: ClassVar[str] = ""
    NAME_PROPERTY: ClassVar[str] = ""
    ATTRIBUTES: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, account_id: str, region: str, name: str, physical_id: str, props: dict[str, Any]
    ):
        self.account_id = account_id
        self.region = region
        self.name = name
        self.physical_id = physical_id
        self.props = props

    # --- what moto's CloudFormation engine calls ---------------------------------------------

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return self.attribute(attribute_name)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedResource:
        props = cloudformation_json.get("Properties") or {}
        return cls.create(account_id, region_name, resource_name, props)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: EmulatedResource,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EmulatedResource:
        props = cloudformation_json.get("Properties") or {}
        # moto draws a fresh random name on every update; AWS keeps a generated name.
        name = props.get(cls.NAME_PROPERTY) if cls.NAME_PROPERTY else None
        return original_resource.update(name or original_resource.name, props)

    def is_created(self) -> bool:
        return True

    # --- what subclasses provide ---------------------------------------------------------------

    @classmethod
    def create(
        cls, account_id: str, region: str, name: str, props: dict[str, Any]
    ) -> EmulatedResource:
        raise NotImplementedError

    def update(self, name: str, props: dict[str, Any]) -> EmulatedResource:
        if name == self.name:
            # Same name: the old one must go first or the new one would collide with it.
            self.remove()
            return type(self).create(self.account_id, self.region, name, props)
        replacement = type(self).create(self.account_id, self.region, name, props)
        self.remove()
        return replacement

    def delete(self, account_id: str, region_name: str) -> None:
        try:
            self.remove()
        except Exception as err:
            if _GONE.search(type(err).__name__):
                return  # already gone with its parent (an API's routes go with the API)
            if not isinstance(err, (TypeError, AttributeError)):
                raise
            # moto treats these two from `delete` as "no delete method" and moves on silently.
            raise RuntimeError(f"deleting {self.TYPE} {self.physical_id}: {err}") from err

    def remove(self) -> None:
        raise NotImplementedError

    def attribute(self, name: str) -> Any:
        raise UnformattedGetAttTemplateException()


def register(handlers: list[type[EmulatedResource]]) -> None:
    """Put handlers into moto's (cached) model lookups, replacing any moto handler of that type."""
    model_list = parsing.get_model_list()
    model_map = parsing.get_model_map()
    name_map = parsing.get_name_type_map()
    for handler in handlers:
        replaced = model_map.get(handler.TYPE)
        if replaced is not None and replaced in model_list:
            model_list.remove(replaced)
        if handler not in model_list:
            model_list.append(handler)
        model_map[handler.TYPE] = handler
        name_map[handler.TYPE] = handler.NAME_PROPERTY


def lower_camel(value: Any) -> Any:
    """CloudFormation spells nested keys PascalCase; API Gateway v2's JSON API camelCase."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: lower_camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [lower_camel(v) for v in value]
    return value


def tag_list(tags: Any) -> list[dict[str, str]]:
    """CloudFormation takes tags as a list of Key/Value or as a map, depending on the type."""
    if isinstance(tags, dict):
        return [{"Key": k, "Value": str(v)} for k, v in tags.items()]
    return list(tags or [])


def tag_map(tags: Any) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list(tags)}
