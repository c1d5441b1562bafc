"""Bootstrap (OIDC trust) and certificate stacks, and the plugin's moto version pin."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import EMULATOR, deploy, outputs, physical_ids


def test_oidc_provider_is_real_and_updates_in_place(aws: Any, name: str) -> None:
    cf, iam = aws("cloudformation"), aws("iam")
    url = f"https://{name}.token.actions.example.com"

    def template(thumbprint: str) -> dict[str, Any]:
        return {
            "Resources": {
                "GitHubOidcProvider": {
                    "Type": "AWS::IAM::OIDCProvider",
                    "Properties": {
                        "Url": url,
                        "ClientIdList": ["sts.amazonaws.com"],
                        "ThumbprintList": [thumbprint],
                    },
                }
            },
            "Outputs": {"ProviderArn": {"Value": {"Fn::GetAtt": ["GitHubOidcProvider", "Arn"]}}},
        }

    deploy(cf, name, template("a" * 40), change_set_type="CREATE")
    arn = outputs(cf, name)["ProviderArn"]
    assert arn == physical_ids(cf, name)["GitHubOidcProvider"]
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == [
        "sts.amazonaws.com"
    ]
    deploy(cf, name, template("b" * 40))
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["ThumbprintList"] == ["b" * 40]
    cf.delete_stack(StackName=name)
    with pytest.raises(ClientError, match=r"NoSuchEntity|not found"):
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)


def test_certificate_and_alias_record_exist(aws: Any, name: str) -> None:
    cf = aws("cloudformation")
    domain = f"{name}.example.com"
    zone_id = aws("route53").create_hosted_zone(Name=domain, CallerReference=name)["HostedZone"][
        "Id"
    ]
    zone_id = zone_id.rsplit("/", 1)[-1]
    template = {
        "Resources": {
            "Certificate": {
                "Type": "AWS::CertificateManager::Certificate",
                "Properties": {
                    "DomainName": domain,
                    "ValidationMethod": "DNS",
                    "DomainValidationOptions": [{"DomainName": domain, "HostedZoneId": zone_id}],
                },
            },
            "SiteRecord": {
                "Type": "AWS::Route53::RecordSet",
                "Properties": {
                    "HostedZoneId": zone_id,
                    "Name": domain,
                    "Type": "A",
                    "AliasTarget": {
                        "DNSName": "d111111abcdef8.cloudfront.net",
                        "HostedZoneId": "Z2FDTNDATAQYW2",
                        "EvaluateTargetHealth": False,
                    },
                },
            },
        },
        "Outputs": {"CertificateArn": {"Value": {"Ref": "Certificate"}}},
    }
    deploy(cf, name, template, change_set_type="CREATE")
    arn = outputs(cf, name)["CertificateArn"]
    acm = aws("acm")
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainName"] == domain
    records = aws("route53").list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    alias = [r for r in records if r["Type"] == "A"]
    assert alias[0]["AliasTarget"]["DNSName"].startswith("d111111abcdef8.cloudfront.net")
    cf.delete_stack(StackName=name)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        acm.describe_certificate(CertificateArn=arn)


def test_plugin_refuses_another_moto_version() -> None:
    code = (
        "import sys, moto; sys.path.insert(0, sys.argv[1]); moto.__version__ = '9.9.9'; "
        "import mumble_moto; mumble_moto.install()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(EMULATOR.parent)], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "supports moto 5.2.5 only, but moto 9.9.9 is installed" in result.stderr
