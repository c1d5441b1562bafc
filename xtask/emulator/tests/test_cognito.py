"""Cognito calls the site makes where moto differs from AWS (cognito_fixes.py):
ResendConfirmationCode, and sign-in of accounts that must reset their password."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


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


def test_a_reset_required_account_is_told_to_reset_then_signs_in(aws: Any, name: str) -> None:
    cognito = aws("cognito-idp")
    pool = cognito.create_user_pool(PoolName=name, UsernameAttributes=["email"])["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName=name, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    email = f"{name}@example.org"
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=email,
        UserAttributes=[{"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password="Unknown-1234", Permanent=True)
    cognito.admin_reset_user_password(UserPoolId=pool, Username=email)

    for password in ["Unknown-1234", "whatever-the-old-one-was"]:
        with pytest.raises(ClientError) as raised:
            cognito.initiate_auth(
                ClientId=client,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": password},
            )
        assert raised.value.response["Error"]["Code"] == "PasswordResetRequiredException"

    cognito.forgot_password(ClientId=client, Username=email)
    cognito.confirm_forgot_password(
        ClientId=client, Username=email, ConfirmationCode="123456", Password="New-password-1"
    )
    signed_in = cognito.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": "New-password-1"},
    )
    assert signed_in["AuthenticationResult"]["IdToken"]
