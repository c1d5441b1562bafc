"""The app stack's resource types come up as real emulator resources, update and go away."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from conftest import deploy, outputs, physical_ids, stack_of, tiny_zip
from templates import app


@pytest.fixture
def app_stack(aws: Any, name: str) -> dict[str, Any]:
    s3 = aws("s3")
    bucket = f"{name}-artifacts"
    s3.create_bucket(Bucket=bucket)
    for key in ("lambdas/health/a.zip", "lambdas/health/b.zip"):
        s3.put_object(Bucket=bucket, Key=key, Body=tiny_zip())
    parameters = {"ArtifactsBucket": bucket, "HealthCodeKey": "lambdas/health/a.zip"}
    deploy(aws("cloudformation"), name, app(name), parameters, "CREATE")
    return parameters


def test_outputs_after_a_create_change_set_name_the_real_resources(
    aws: Any, name: str, app_stack: dict[str, Any]
) -> None:
    cf = aws("cloudformation")
    assert stack_of(cf, name)["StackStatus"] == "CREATE_COMPLETE"
    out = outputs(cf, name)
    apis = {a["ApiId"]: a for a in aws("apigatewayv2").get_apis()["Items"]}
    http_api = apis[physical_ids(cf, name)["HttpApi"]]
    assert out["HttpApiUrl"] == http_api["ApiEndpoint"]
    assert http_api["CorsConfiguration"]["AllowOrigins"] == ["http://127.0.0.1:5173"]
    websocket = apis[physical_ids(cf, name)["WebSocketApi"]]
    assert out["WebSocketUrl"] == f"{websocket['ApiEndpoint']}/local"
    assert out["WebSocketUrl"].startswith("wss://")
    pool = aws("cognito-idp").describe_user_pool(UserPoolId=out["UserPoolId"])["UserPool"]
    assert pool["Name"] == f"{name}-users"
    assert out["AlarmTopicArn"] in [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]]


def test_user_pool_and_client_accept_a_sign_up_and_sign_in(
    aws: Any, name: str, app_stack: dict[str, Any]
) -> None:
    out = outputs(aws("cloudformation"), name)
    idp = aws("cognito-idp")
    email = f"{name}@example.com"
    idp.sign_up(ClientId=out["UserPoolClientId"], Username=email, Password="Correct-horse-9")
    idp.admin_confirm_sign_up(UserPoolId=out["UserPoolId"], Username=email)
    tokens = idp.initiate_auth(
        ClientId=out["UserPoolClientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "Correct-horse-9"},
    )["AuthenticationResult"]
    assert tokens["IdToken"].count(".") == 2
    with pytest.raises(ClientError, match="InvalidPasswordException"):
        # The template's password policy is in force: 12 characters at least.
        idp.sign_up(ClientId=out["UserPoolClientId"], Username=f"x{email}", Password="Sh0rt-pw")


def test_http_api_has_its_routes_authorizer_integration_and_stage(
    aws: Any, name: str, app_stack: dict[str, Any]
) -> None:
    cf, gateway = aws("cloudformation"), aws("apigatewayv2")
    ids = physical_ids(cf, name)
    api = ids["HttpApi"]
    routes = {r["RouteKey"]: r for r in gateway.get_routes(ApiId=api)["Items"]}
    assert set(routes) == {"GET /api/v1/health", "GET /api/v1/me"}
    assert routes["GET /api/v1/health"]["AuthorizationType"] == "NONE"
    assert routes["GET /api/v1/me"]["AuthorizerId"] == ids["HttpApiAuthorizer"]
    assert routes["GET /api/v1/me"]["Target"] == f"integrations/{ids['HealthIntegration']}"
    authorizer = gateway.get_authorizer(ApiId=api, AuthorizerId=ids["HttpApiAuthorizer"])
    pool_id = outputs(cf, name)["UserPoolId"]
    assert authorizer["JwtConfiguration"] == {
        "Audience": [outputs(cf, name)["UserPoolClientId"]],
        "Issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}",
    }
    integration = gateway.get_integration(ApiId=api, IntegrationId=ids["HealthIntegration"])
    function_arn = aws("lambda").get_function(FunctionName=ids["HealthFunction"])["Configuration"][
        "FunctionArn"
    ]
    assert integration["IntegrationUri"] == function_arn
    stage = gateway.get_stage(ApiId=api, StageName="$default")
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100
    ws_routes = gateway.get_routes(ApiId=ids["WebSocketApi"])["Items"]
    assert [r["RouteKey"] for r in ws_routes] == ["$connect"]


def test_alarm_subscription_permission_invoke_config_and_schedule_exist(
    aws: Any, name: str, app_stack: dict[str, Any]
) -> None:
    cf = aws("cloudformation")
    ids = physical_ids(cf, name)
    alarm = aws("cloudwatch").describe_alarms(AlarmNames=[f"{name}-health-errors"])["MetricAlarms"][
        0
    ]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": f"{name}-health"}]
    assert alarm["AlarmActions"] == [outputs(cf, name)["AlarmTopicArn"]]
    subscriptions = aws("sns").list_subscriptions_by_topic(TopicArn=ids["AlarmTopic"])
    assert [s["Endpoint"] for s in subscriptions["Subscriptions"]] == ["ops@example.com"]
    lam = aws("lambda")
    policy = json.loads(lam.get_policy(FunctionName=f"{name}-health")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == [ids["GetHealthPermission"]]
    invoke_config = lam.get_function_event_invoke_config(FunctionName=f"{name}-health")
    assert invoke_config["MaximumRetryAttempts"] == 2
    targets = aws("events").list_targets_by_rule(Rule=f"{name}-cleanup")["Targets"]
    assert [t["Arn"] for t in targets] == [
        lam.get_function(FunctionName=f"{name}-health")["Configuration"]["FunctionArn"]
    ]


def test_update_change_set_modifies_in_place_and_applies_parameter_changes(
    aws: Any, name: str, app_stack: dict[str, Any]
) -> None:
    cf = aws("cloudformation")
    before = physical_ids(cf, name)
    code_before = aws("lambda").get_function(FunctionName=f"{name}-health")["Configuration"][
        "CodeSha256"
    ]
    parameters = {**app_stack, "HealthCodeKey": "lambdas/health/b.zip"}
    change_set = deploy(
        cf, name, app(name, cors_origin="https://example.com", threshold=5), parameters
    )

    changes = {
        c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in change_set["Changes"]
    }
    assert changes["HttpApi"]["Action"] == "Modify"
    assert changes["HttpApi"]["Replacement"] == "False"
    # Only the parameter changed for the function: AWS still lists it as modified.
    assert changes["HealthFunction"]["Action"] == "Modify"
    assert stack_of(cf, name)["StackStatus"] == "UPDATE_COMPLETE"
    assert physical_ids(cf, name) == before
    api = aws("apigatewayv2").get_api(ApiId=before["HttpApi"])
    assert api["CorsConfiguration"]["AllowOrigins"] == ["https://example.com"]
    alarm = aws("cloudwatch").describe_alarms(AlarmNames=[f"{name}-health-errors"])
    assert alarm["MetricAlarms"][0]["Threshold"] == 5
    code_after = aws("lambda").get_function(FunctionName=f"{name}-health")["Configuration"][
        "CodeSha256"
    ]
    assert code_after != code_before


def test_unchanged_update_gives_a_failed_change_set_not_an_error(
    aws: Any, name: str, app_stack: dict[str, Any]
) -> None:
    change_set = deploy(aws("cloudformation"), name, app(name), app_stack, "UPDATE")
    assert change_set["Status"] == "FAILED"
    assert "didn't contain changes" in change_set["StatusReason"]


def test_stack_deletion_removes_every_resource(
    aws: Any, name: str, app_stack: dict[str, Any]
) -> None:
    cf = aws("cloudformation")
    ids = physical_ids(cf, name)
    pool_id = outputs(cf, name)["UserPoolId"]
    stack_id = stack_of(cf, name)["StackId"]
    cf.delete_stack(StackName=name)

    assert stack_of(cf, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    api_ids = [a["ApiId"] for a in aws("apigatewayv2").get_apis()["Items"]]
    assert ids["HttpApi"] not in api_ids and ids["WebSocketApi"] not in api_ids
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        aws("cognito-idp").describe_user_pool(UserPoolId=pool_id)
    alarms = aws("cloudwatch").describe_alarms(AlarmNames=[f"{name}-health-errors"])
    assert alarms["MetricAlarms"] == []
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        aws("lambda").get_function(FunctionName=f"{name}-health")
    subscriptions = aws("sns").list_subscriptions()["Subscriptions"]
    assert ids["AlarmEmail"] not in [s["SubscriptionArn"] for s in subscriptions]
    statuses = [
        e["ResourceStatus"] for e in cf.describe_stack_events(StackName=stack_id)["StackEvents"]
    ]
    assert "DELETE_FAILED" not in statuses
