"""Cognito calls the site makes where moto differs from AWS (cognito_fixes.py):
ResendConfirmationCode, sign-in of accounts that must reset their password, and finding users by
e-mail in a pool that changes."""

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


def test_users_are_found_by_email_as_the_pool_changes(aws: Any, name: str) -> None:
    cognito = aws("cognito-idp")
    pool = cognito.create_user_pool(PoolName=name, UsernameAttributes=["email"])["UserPool"]["Id"]

    def create(email: str) -> str:
        user = cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS")["User"]
        return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")

    def sub_of(email: str) -> str | None:
        try:
            user = cognito.admin_get_user(UserPoolId=pool, Username=email)
        except cognito.exceptions.UserNotFoundException:
            return None
        return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")

    subs = {f"{name}-{n}@example.org": create(f"{name}-{n}@example.org") for n in range(30)}
    assert all(sub_of(email) == sub for email, sub in subs.items())
    with pytest.raises(cognito.exceptions.UsernameExistsException):
        create(f"{name}-7@example.org")

    # An e-mail changed: found under the new one only.
    cognito.admin_update_user_attributes(
        UserPoolId=pool, Username=f"{name}-3@example.org", UserAttributes=[{"Name": "email", "Value": f"{name}-new@example.org"}]
    )
    assert sub_of(f"{name}-3@example.org") is None
    assert sub_of(f"{name}-new@example.org") == subs[f"{name}-3@example.org"]

    # Deleted, then made again: a new account under the same e-mail.
    cognito.admin_delete_user(UserPoolId=pool, Username=f"{name}-5@example.org")
    assert sub_of(f"{name}-5@example.org") is None
    again = create(f"{name}-5@example.org")
    assert again != subs[f"{name}-5@example.org"]
    assert sub_of(f"{name}-5@example.org") == again
    assert sub_of(f"{name}-29@example.org") == subs[f"{name}-29@example.org"]
