"""Cognito calls the site makes that moto lacks: ResendConfirmationCode."""

from typing import Any

import pytest


def _pool(aws: Any, name: str) -> tuple[Any, str]:
    idp = aws("cognito-idp")
    pool = idp.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName=name)["UserPoolClient"]
    return idp, client["ClientId"]


def test_resend_confirmation_code_answers_as_aws(aws: Any, name: str) -> None:
    idp, client = _pool(aws, name)
    email = f"{name}@example.com"
    idp.sign_up(
        ClientId=client,
        Username=email,
        Password="Mumble-test-1",
        UserAttributes=[{"Name": "email", "Value": email}],
    )
    details = idp.resend_confirmation_code(ClientId=client, Username=email)["CodeDeliveryDetails"]
    assert details == {
        "Destination": f"{name[0]}***@e***.com",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }


def test_resend_confirmation_code_refuses_unknown_and_confirmed_users(aws: Any, name: str) -> None:
    idp, client = _pool(aws, name)
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.resend_confirmation_code(ClientId=client, Username="nobody@example.com")
    email = f"{name}@example.com"
    idp.sign_up(ClientId=client, Username=email, Password="Mumble-test-1")
    idp.confirm_sign_up(ClientId=client, Username=email, ConfirmationCode="123456")
    with pytest.raises(idp.exceptions.InvalidParameterException):
        idp.resend_confirmation_code(ClientId=client, Username=email)
