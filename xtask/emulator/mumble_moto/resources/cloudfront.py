"""AWS::CloudFront::* on moto's CloudFront backend.

CloudFormation writes CloudFront lists as plain lists; the CloudFront API (and moto's backend,
which stores the parsed API request) wraps each in `{"Quantity": n, "Items": [...]}` and spells
a few keys differently. `_distribution_config` translates one into the other.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.cloudfront.models import CloudFrontBackend, cloudfront_backends
from moto.core.utils import utcnow
from moto.utilities.utils import get_partition

from .base import EmulatedResource, tag_list


def _backend(account_id: str, region: str) -> CloudFrontBackend:
    return cloudfront_backends[account_id][get_partition(region)]


def _items(values: list[Any] | None) -> dict[str, Any]:
    values = list(values or [])
    return {"Quantity": len(values), "Items": values} if values else {"Quantity": 0}


def _cache_behavior(cfn: dict[str, Any]) -> dict[str, Any]:
    api = {k: v for k, v in cfn.items() if k not in ("AllowedMethods", "CachedMethods")}
    allowed = cfn.get("AllowedMethods", ["GET", "HEAD"])
    api["AllowedMethods"] = {
        **_items(allowed),
        "CachedMethods": _items(cfn.get("CachedMethods", ["GET", "HEAD"])),
    }
    for key in ("FunctionAssociations", "LambdaFunctionAssociations"):
        api[key] = _items(cfn.get(key))
    for key in ("TrustedKeyGroups", "TrustedSigners"):
        if key in cfn:
            api[key] = _items(cfn[key])
    return api


def _origin(cfn: dict[str, Any]) -> dict[str, Any]:
    api = {k: v for k, v in cfn.items() if k not in ("OriginCustomHeaders", "CustomOriginConfig")}
    if "S3OriginConfig" in cfn:
        # With Origin Access Control the identity is empty; moto requires the key.
        api["S3OriginConfig"] = {"OriginAccessIdentity": "", **cfn["S3OriginConfig"]}
    if "CustomOriginConfig" in cfn:
        custom = dict(cfn["CustomOriginConfig"])
        custom["OriginSslProtocols"] = _items(custom.pop("OriginSSLProtocols", ["TLSv1.2"]))
        api["CustomOriginConfig"] = custom
    api["CustomHeaders"] = _items(cfn.get("OriginCustomHeaders"))
    return api


def _distribution_config(cfn: dict[str, Any], caller_reference: str) -> dict[str, Any]:
    renamed = {"IPV6Enabled": "IsIPV6Enabled"}
    api: dict[str, Any] = {"CallerReference": caller_reference, "Comment": ""}
    for key, value in cfn.items():
        api[renamed.get(key, key)] = value
    api["Aliases"] = _items(cfn.get("Aliases"))
    api["Origins"] = _items([_origin(o) for o in cfn.get("Origins", [])])
    api["DefaultCacheBehavior"] = _cache_behavior(cfn.get("DefaultCacheBehavior", {}))
    api["CacheBehaviors"] = _items([_cache_behavior(b) for b in cfn.get("CacheBehaviors", [])])
    api["CustomErrorResponses"] = _items(
        [
            {**r, "ResponseCode": str(r["ResponseCode"])} if "ResponseCode" in r else r
            for r in cfn.get("CustomErrorResponses", [])
        ]
    )
    if "ViewerCertificate" in cfn:
        cert_keys = {
            "AcmCertificateArn": "ACMCertificateArn",
            "IamCertificateId": "IAMCertificateId",
            "SslSupportMethod": "SSLSupportMethod",
        }
        api["ViewerCertificate"] = {
            cert_keys.get(k, k): v for k, v in cfn["ViewerCertificate"].items()
        }
    geo = cfn.get("Restrictions", {}).get("GeoRestriction")
    if geo:
        api["Restrictions"] = {
            "GeoRestriction": {
                "RestrictionType": geo["RestrictionType"],
                **_items(geo.get("Locations")),
            }
        }
    return api


class Distribution(EmulatedResource):
    TYPE = "AWS::CloudFront::Distribution"
    ATTRIBUTES = ("DomainName", "Id")

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> Distribution:
        config = _distribution_config(props["DistributionConfig"], str(uuid.uuid4()))
        dist, _, _ = _backend(account_id, region).create_distribution(
            config, tag_list(props.get("Tags"))
        )
        return cls(account_id, region, name, dist.distribution_id, props)

    def update(self, name: str, props: dict[str, Any]) -> Distribution:
        backend = _backend(self.account_id, self.region)
        dist, _ = backend.get_distribution(self.physical_id)
        caller_reference = dist.distribution_config.caller_reference
        config = _distribution_config(props["DistributionConfig"], caller_reference)
        backend.update_distribution(config, self.physical_id, if_match=True)
        self.props = props
        return self

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_distribution(self.physical_id, if_match=True)

    def attribute(self, name: str) -> Any:
        if name == "Id":
            return self.physical_id
        dist, _ = _backend(self.account_id, self.region).get_distribution(self.physical_id)
        return dist.domain_name


class OriginAccessControl(EmulatedResource):
    TYPE = "AWS::CloudFront::OriginAccessControl"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(
        cls, account_id: str, region: str, name: str, props: dict[str, Any]
    ) -> OriginAccessControl:
        control = _backend(account_id, region).create_origin_access_control(
            dict(props["OriginAccessControlConfig"])
        )
        return cls(account_id, region, name, control.id, props)

    def update(self, name: str, props: dict[str, Any]) -> OriginAccessControl:
        _backend(self.account_id, self.region).update_origin_access_control(
            self.physical_id, dict(props["OriginAccessControlConfig"])
        )
        self.props = props
        return self

    def remove(self) -> None:
        _backend(self.account_id, self.region).delete_origin_access_control(self.physical_id)

    def attribute(self, name: str) -> Any:
        return self.physical_id


class _Policy(EmulatedResource):
    """moto 5.2.5 has no API for cache or response-headers policies.

    The policy is kept on the CloudFront backend (in `mumble_policies`) so a distribution can
    reference a stable id and a stack update or delete acts on the same record; no CloudFront
    API call can read it back.
    """

    CONFIG_PROPERTY = ""
    ATTRIBUTES = ("Id", "LastModifiedTime")

    @staticmethod
    def _store(account_id: str, region: str) -> dict[str, dict[str, Any]]:
        backend = _backend(account_id, region)
        if not hasattr(backend, "mumble_policies"):
            backend.mumble_policies = {}  # type: ignore[attr-defined]
        return backend.mumble_policies  # type: ignore[attr-defined,no-any-return]

    @classmethod
    def create(cls, account_id: str, region: str, name: str, props: dict[str, Any]) -> _Policy:
        policy_id = str(uuid.uuid4())
        cls._store(account_id, region)[policy_id] = dict(props[cls.CONFIG_PROPERTY])
        policy = cls(account_id, region, name, policy_id, props)
        policy.modified = utcnow()
        return policy

    def update(self, name: str, props: dict[str, Any]) -> _Policy:
        self._store(self.account_id, self.region)[self.physical_id] = dict(
            props[self.CONFIG_PROPERTY]
        )
        self.props = props
        self.modified = utcnow()
        return self

    def remove(self) -> None:
        self._store(self.account_id, self.region).pop(self.physical_id, None)

    def attribute(self, name: str) -> Any:
        return self.physical_id if name == "Id" else self.modified.isoformat()


class ResponseHeadersPolicy(_Policy):
    TYPE = "AWS::CloudFront::ResponseHeadersPolicy"
    CONFIG_PROPERTY = "ResponseHeadersPolicyConfig"


class CachePolicy(_Policy):
    TYPE = "AWS::CloudFront::CachePolicy"
    CONFIG_PROPERTY = "CachePolicyConfig"


HANDLERS: list[type[EmulatedResource]] = [
    Distribution,
    OriginAccessControl,
    ResponseHeadersPolicy,
    CachePolicy,
]
