"""AWS::Cognito::UserPool and ::UserPoolClient on moto's cognito-idp backend.

CloudFormation's property names for both are the CreateUserPool / CreateUserPoolClient request
fields, which is what moto's backend stores, so properties pass through as they are.
"""

from __future__ import annotations

from typing import Any

from moto.cognitoidp.models import CognitoIdpBackend, cognitoidp_backends

from .base import EmulatedResource


def _backend(account_id: str, region: str) -> CognitoIdpBackend:
    return cognitoidp_backends[account_id][region]


class UserPool(EmulatedResource):
    TYPE = "AWS::Cognito::UserPool"
    NAME_PROPERTY = "UserPoolName"
    ATTRIBUTES = ("Arn", "ProviderName", "ProviderURL", "UserPoolId")

    @staticmethod
    def _config(props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k != "UserPoolName"}

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> UserPool:
        pool = _backend(account_id, region).create_user_pool(name, cls._config(props))
        return cls(account_id, region, name, pool.id, props)

    def update(self, name: str, props: dict[str, Any]) -> UserPool:
        backend = _backend(self.account_id, self.region)
        # moto reads Schema only when a pool is made; AWS only adds attributes on update.
        config = {k: v for k, v in self._config(props).items() if k != "Schema"}
        backend.update_user_pool(self.physical_id, config)
        backend.describe_user_pool(self.physical_id).name = name
        self.name, self.props = name, props
        return self

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_user_pool(self.physical_id)

    def attribute(self, name: str) -> Any:
        provider = f"cognito-idp.{self.region}.amazonaws.com/{self.physical_id}"
        return {
            "Arn": _backend(self.account_id, self.region).describe_user_pool(self.physical_id).arn,
            "ProviderName": provider,
            "ProviderURL": f"https://{provider}",
            "UserPoolId": self.physical_id,
        }[name]


class UserPoolClient(EmulatedResource):
    TYPE = "AWS::Cognito::UserPoolClient"
    NAME_PROPERTY = "ClientName"
    ATTRIBUTES = ("ClientId", "ClientSecret", "Name")

    @staticmethod
    def _config(name: str, props: dict[str, Any]) -> dict[str, Any]:
        config = {k: v for k, v in props.items() if k not in ("UserPoolId", "GenerateSecret")}
        config["ClientName"] = name
        return config

    @classmethod
    def create(
        cls, account_id: str, region: str, name: str, props: dict[str, Any]
    ) -> UserPoolClient:
        client = _backend(account_id, region).create_user_pool_client(
            props["UserPoolId"], bool(props.get("GenerateSecret")), cls._config(name, props)
        )
        return cls(account_id, region, name, client.id, props)

    def update(self, name: str, props: dict[str, Any]) -> UserPoolClient:
        replaced = ("UserPoolId", "GenerateSecret")
        if any(props.get(k) != self.props.get(k) for k in replaced):
            return super().update(name, props)
        _backend(self.account_id, self.region).update_user_pool_client(
            props["UserPoolId"], self.physical_id, self._config(name, props)
        )
        self.name, self.props = name, props
        return self

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_user_pool_client(
            self.props["UserPoolId"], self.physical_id
        )

    def attribute(self, name: str) -> Any:
        if name == "ClientId":
            return self.physical_id
        if name == "Name":
            return self.name
        client = _backend(self.account_id, self.region).describe_user_pool_client(
            self.props["UserPoolId"], self.physical_id
        )
        return client.secret


HANDLERS: list[type[EmulatedResource]] = [UserPool, UserPoolClient]
