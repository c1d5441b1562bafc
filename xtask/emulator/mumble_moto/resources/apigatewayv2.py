"""AWS::ApiGatewayV2::* on moto's API Gateway v2 backend (HTTP and WebSocket APIs)."""

from __future__ import annotations

import hashlib
from typing import Any

from moto.apigatewayv2.models import ApiGatewayV2Backend, apigatewayv2_backends

from .base import EmulatedResource, lower_camel, tag_map


def _backend(account_id: str, region: str) -> ApiGatewayV2Backend:
    return apigatewayv2_backends[account_id][region]


class Api(EmulatedResource):
    TYPE = "AWS::ApiGatewayV2::Api"
    NAME_PROPERTY = "Name"
    ATTRIBUTES = ("ApiEndpoint", "ApiId")

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Api:
        backend = _backend(account_id, region)
        api = backend.create_api(
            api_key_selection_expression=props.get("ApiKeySelectionExpression"),
            cors_configuration=lower_camel(props.get("CorsConfiguration")),
            description=props.get("Description"),
            disable_schema_validation=props.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"),
            name=name,
            protocol_type=props.get("ProtocolType", "HTTP"),
            route_selection_expression=props.get("RouteSelectionExpression"),
            tags=tag_map(props.get("Tags")),
            version=props.get("Version"),
        )
        backend.tag_resource(api.arn, tag_map(props.get("Tags")))
        return cls(account_id, region, name, api.api_id, props)

    def update(self, name: str, props: dict[str, Any]) -> Api:
        if props.get("ProtocolType", "HTTP") != self.props.get("ProtocolType", "HTTP"):
            return super().update(name, props)
        backend = _backend(self.account_id, self.region)
        backend.update_api(
            api_id=self.physical_id,
            api_key_selection_expression=props.get("ApiKeySelectionExpression"),
            cors_configuration=lower_camel(props.get("CorsConfiguration")),
            description=props.get("Description"),
            disable_schema_validation=props.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"),
            name=name,
            route_selection_expression=props.get("RouteSelectionExpression"),
            version=props.get("Version"),
        )
        if "CorsConfiguration" not in props:
            backend.delete_cors_configuration(self.physical_id)
        self.name, self.props = name, props
        return self

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_api(self.physical_id)

    def attribute(self, name: str) -> Any:
        if name == "ApiId":
            return self.physical_id
        return _backend(self.account_id, self.region).get_api(self.physical_id).api_endpoint


class Stage(EmulatedResource):
    TYPE = "AWS::ApiGatewayV2::Stage"
    NAME_PROPERTY = "StageName"

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Stage:
        config = lower_camel({k: v for k, v in props.items() if k not in ("ApiId", "Tags")})
        config["stageName"] = name
        config["tags"] = tag_map(props.get("Tags"))
        _backend(account_id, region).create_stage(props["ApiId"], config)
        return cls(account_id, region, name, name, props)

    def update(self, name: str, props: dict[str, Any]) -> Stage:
        # Settings change in place; moto has no UpdateStage, so the stage is recreated under
        # the same name and API, which is what a caller can observe of an in-place update.
        return super().update(name, props)

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_stage(self.props["ApiId"], self.name)


class Authorizer(EmulatedResource):
    TYPE = "AWS::ApiGatewayV2::Authorizer"
    ATTRIBUTES = ("AuthorizerId",)

    @staticmethod
    def _args(props: dict[str, Any]) -> dict[str, Any]:
        return dict(
            auth_creds_arn=props.get("AuthorizerCredentialsArn"),
            auth_payload_format_version=props.get("AuthorizerPayloadFormatVersion"),
            auth_result_ttl=props.get("AuthorizerResultTtlInSeconds"),
            authorizer_uri=props.get("AuthorizerUri"),
            authorizer_type=props.get("AuthorizerType"),
            enable_simple_response=props.get("EnableSimpleResponses"),
            identity_source=props.get("IdentitySource"),
            identity_validation_expr=props.get("IdentityValidationExpression"),
            jwt_config=lower_camel(props.get("JwtConfiguration")),
            name=props.get("Name"),
        )

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Authorizer:
        authorizer = _backend(account_id, region).create_authorizer(
            props["ApiId"], **cls._args(props)
        )
        return cls(account_id, region, name, authorizer.id, props)

    def update(self, name: str, props: dict[str, Any]) -> Authorizer:
        if props["ApiId"] != self.props["ApiId"]:
            return super().update(name, props)
        _backend(self.account_id, self.region).update_authorizer(
            props["ApiId"], self.physical_id, **self._args(props)
        )
        self.props = props
        return self

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_authorizer(
            self.props["ApiId"], self.physical_id
        )

    def attribute(self, name: str) -> Any:
        return self.physical_id


class Integration(EmulatedResource):
    TYPE = "AWS::ApiGatewayV2::Integration"
    ATTRIBUTES = ("IntegrationId",)

    @staticmethod
    def _args(props: dict[str, Any]) -> dict[str, Any]:
        return dict(
            connection_id=props.get("ConnectionId"),
            connection_type=props.get("ConnectionType"),
            content_handling_strategy=props.get("ContentHandlingStrategy"),
            credentials_arn=props.get("CredentialsArn"),
            description=props.get("Description"),
            integration_method=props.get("IntegrationMethod"),
            integration_subtype=props.get("IntegrationSubtype"),
            integration_type=props.get("IntegrationType"),
            integration_uri=props.get("IntegrationUri"),
            passthrough_behavior=props.get("PassthroughBehavior"),
            payload_format_version=props.get("PayloadFormatVersion"),
            request_parameters=props.get("RequestParameters"),
            request_templates=props.get("RequestTemplates"),
            response_parameters=props.get("ResponseParameters"),
            template_selection_expression=props.get("TemplateSelectionExpression"),
            timeout_in_millis=props.get("TimeoutInMillis"),
            tls_config=lower_camel(props.get("TlsConfig")),
        )

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Integration:
        integration = _backend(account_id, region).create_integration(
            props["ApiId"], **cls._args(props)
        )
        return cls(account_id, region, name, integration.id, props)

    def update(self, name: str, props: dict[str, Any]) -> Integration:
        if props["ApiId"] != self.props["ApiId"]:
            return super().update(name, props)
        _backend(self.account_id, self.region).update_integration(
            api_id=props["ApiId"], integration_id=self.physical_id, **self._args(props)
        )
        self.props = props
        return self

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_integration(
            self.props["ApiId"], self.physical_id
        )

    def attribute(self, name: str) -> Any:
        return self.physical_id


class Route(EmulatedResource):
    TYPE = "AWS::ApiGatewayV2::Route"
    ATTRIBUTES = ("RouteId",)

    @staticmethod
    def _args(props: dict[str, Any]) -> dict[str, Any]:
        return dict(
            api_key_required=props.get("ApiKeyRequired", False),
            authorization_scopes=props.get("AuthorizationScopes"),
            authorization_type=props.get("AuthorizationType", "NONE"),
            authorizer_id=props.get("AuthorizerId"),
            model_selection_expression=props.get("ModelSelectionExpression"),
            operation_name=props.get("OperationName"),
            request_models=props.get("RequestModels"),
            request_parameters=lower_camel(props.get("RequestParameters")),
            route_key=props.get("RouteKey"),
            route_response_selection_expression=props.get("RouteResponseSelectionExpression"),
            target=props.get("Target"),
        )

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Route:
        route = _backend(account_id, region).create_route(props["ApiId"], **cls._args(props))
        return cls(account_id, region, name, route.route_id, props)

    def update(self, name: str, props: dict[str, Any]) -> Route:
        if props["ApiId"] != self.props["ApiId"]:
            return super().update(name, props)
        _backend(self.account_id, self.region).update_route(
            api_id=props["ApiId"], route_id=self.physical_id, **self._args(props)
        )
        self.props = props
        return self

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_route(self.props["ApiId"], self.physical_id)

    def attribute(self, name: str) -> Any:
        return self.physical_id


class RouteResponse(EmulatedResource):
    """A WebSocket route's response (lets `$connect` and actions answer the client)."""

    TYPE = "AWS::ApiGatewayV2::RouteResponse"

    @classmethod
    def create(
        cls, account_id: str, region: str, name: str, props: dict[str, Any]
    ) -> RouteResponse:
        response = _backend(account_id, region).create_route_response(
            props["ApiId"],
            props["RouteId"],
            route_response_key=props["RouteResponseKey"],
            model_selection_expression=props.get("ModelSelectionExpression"),  # type: ignore[arg-type]
            response_models=props.get("ResponseModels"),  # type: ignore[arg-type]
        )
        return cls(account_id, region, name, response.id, props)

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_route_response(
            self.props["ApiId"], self.props["RouteId"], self.physical_id
        )


class DomainName(EmulatedResource):
    TYPE = "AWS::ApiGatewayV2::DomainName"
    NAME_PROPERTY = "DomainName"
    ATTRIBUTES = ("RegionalDomainName", "RegionalHostedZoneId")

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> DomainName:
        _backend(account_id, region).create_domain_name(
            domain_name=name,
            domain_name_configurations=props.get("DomainNameConfigurations", []),
            mutual_tls_authentication=props.get("MutualTlsAuthentication", {}),
            tags=tag_map(props.get("Tags")),
        )
        return cls(account_id, region, name, name, props)

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_domain_name(self.name)

    def attribute(self, name: str) -> Any:
        # Regional custom domains resolve to a per-domain execute-api host and the region's
        # API Gateway hosted zone; only Route 53 alias records read these.
        if name == "RegionalDomainName":
            digest = hashlib.sha256(self.name.encode()).hexdigest()[:10]
            return f"d-{digest}.execute-api.{self.region}.amazonaws.com"
        return "Z1UJRXOUMOOFQ8"


class ApiMapping(EmulatedResource):
    TYPE = "AWS::ApiGatewayV2::ApiMapping"
    ATTRIBUTES = ("ApiMappingId",)

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> ApiMapping:
        mapping = _backend(account_id, region).create_api_mapping(
            api_id=props["ApiId"],
            api_mapping_key=props.get("ApiMappingKey", ""),
            domain_name=props["DomainName"],
            stage=props["Stage"],
        )
        return cls(account_id, region, name, mapping.api_mapping_id, props)

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_api_mapping(
            self.physical_id, self.props["DomainName"]
        )

    def attribute(self, name: str) -> Any:
        return self.physical_id


HANDLERS: list[type[EmulatedResource]] = [
    Api,
    Stage,
    Authorizer,
    Integration,
    Route,
    RouteResponse,
    DomainName,
    ApiMapping,
]
