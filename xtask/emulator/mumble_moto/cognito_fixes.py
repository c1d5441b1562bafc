"""Cognito as the site and `cargo xtask migrate` use it, where moto 5.2.5 differs from AWS.

- ResendConfirmationCode is not implemented: moto answers it with an HTML "not yet implemented"
  page and HTTP 500 (without CORS headers, so a browser sees only a network error). AWS sends a
  new code and answers with where it went. The emulator sends no e-mail and its ConfirmSignUp
  accepts any code, so answering as AWS does, for a user that exists and is not yet confirmed, is
  all the site's "Send the code again" needs.
- Accounts in `RESET_REQUIRED`: moto checks the password first (so a moved account answers
  "Incorrect username or password") and leaves the status as it was after ConfirmForgotPassword,
  so the site's "Mumble has moved" path (accounts made by `cargo xtask migrate`) could not be
  exercised locally. Here signing in answers `PasswordResetRequiredException`, and a confirmed
  forgot-password reset makes them `CONFIRMED`, as on AWS.
- Finding a user by e-mail rebuilt every user's attribute dictionary on each call, so a pool of
  10,000 users (the migration's bench) took minutes; the lookup reads the dictionary moto already
  keeps up to date (`attribute_lookup`) instead, with the same result.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.cognitoidp import models
from moto.core.exceptions import JsonRESTError

_PASSWORD_FLOWS = {"USER_PASSWORD_AUTH", "USER_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"}


class PasswordResetRequiredException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("PasswordResetRequiredException", "Password reset required for the user")


def install() -> None:
    models.CognitoIdpUserPool._get_user = _get_user  # type: ignore[method-assign]
    _install_resend_confirmation_code()
    _install_reset_required()


def _install_resend_confirmation_code() -> None:
    from moto.cognitoidp.exceptions import (
        InvalidParameterException,
        ResourceNotFoundError,
        UserNotFoundError,
    )
    from moto.cognitoidp.models import UserStatus
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import ActionResult

    def resend_confirmation_code(self: Any) -> Any:
        client_id = self._get_param("ClientId")
        username = self._get_param("Username")
        backend = self._get_region_agnostic_backend()
        for region_backend in _region_backends(backend):
            for pool in region_backend.user_pools.values():
                if client_id not in pool.clients:
                    continue
                user = pool._get_user(username)
                if not user:
                    raise UserNotFoundError("Username/client id combination not found.")
                if user.status == UserStatus["CONFIRMED"]:
                    raise InvalidParameterException("User is already confirmed.")
                email = next(
                    (a["Value"] for a in user.attributes if a["Name"] == "email"), username
                )
                return ActionResult(
                    {
                        "CodeDeliveryDetails": {
                            "Destination": _mask(email),
                            "DeliveryMedium": "EMAIL",
                            "AttributeName": "email",
                        }
                    }
                )
        raise ResourceNotFoundError(client_id)

    CognitoIdpResponse.resend_confirmation_code = resend_confirmation_code


def _install_reset_required() -> None:
    backend = models.CognitoIdpBackend
    initiate = backend.initiate_auth
    admin_initiate = backend.admin_initiate_auth
    confirm = backend.confirm_forgot_password

    @functools.wraps(initiate)
    def initiate_auth(self: Any, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
        if auth_flow in _PASSWORD_FLOWS:
            pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
            if _reset_required(pool, (auth_parameters or {}).get("USERNAME")):
                raise PasswordResetRequiredException()
        return initiate(self, client_id, auth_flow, auth_parameters)

    @functools.wraps(admin_initiate)
    def admin_initiate_auth(self: Any, user_pool_id: str, client_id: str, auth_flow: str, auth_parameters: dict[str, str]) -> Any:
        if auth_flow in _PASSWORD_FLOWS:
            if _reset_required(self.user_pools.get(user_pool_id), (auth_parameters or {}).get("USERNAME")):
                raise PasswordResetRequiredException()
        return admin_initiate(self, user_pool_id, client_id, auth_flow, auth_parameters)

    @functools.wraps(confirm)
    def confirm_forgot_password(self: Any, client_id: str, username: str, password: str, confirmation_code: str) -> Any:
        result = confirm(self, client_id, username, password, confirmation_code)
        pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
        user = pool._get_user(username) if pool is not None else None
        if user is not None and user.status is models.UserStatus.RESET_REQUIRED:
            user.status = models.UserStatus.CONFIRMED
        return result

    backend.initiate_auth = initiate_auth  # type: ignore[method-assign]
    backend.admin_initiate_auth = admin_initiate_auth  # type: ignore[method-assign]
    backend.confirm_forgot_password = confirm_forgot_password  # type: ignore[method-assign]


def _reset_required(pool: Any, username: str | None) -> bool:
    user = pool._get_user(username) if pool is not None and username else None
    return user is not None and user.status is models.UserStatus.RESET_REQUIRED


def _get_user(self: Any, username: str) -> Any:
    attribute_types = self.extended_config.get("UsernameAttributes")
    if attribute_types:
        # A copy: the server is threaded, and another request may add a user meanwhile
        # ("dictionary changed size during iteration" would be an HTTP 500).
        for user in list(self.users.values()):
            lookup = user.attribute_lookup
            if any(lookup.get(kind) == username for kind in attribute_types):
                return user
    return self.users.get(username)


def _region_backends(backend: Any) -> list[Any]:
    """moto's region-agnostic backend wraps the real ones; reach them whatever its shape."""
    from moto.cognitoidp.models import cognitoidp_backends

    if hasattr(backend, "user_pools"):
        return [backend]
    return [
        region_backend
        for account in cognitoidp_backends.values()
        for region_backend in account.values()
    ]


def _mask(email: str) -> str:
    """AWS shows the destination masked: a***@e***.com."""
    name, _, domain = email.partition("@")
    if not domain:
        return f"{email[:1]}***"
    host, _, tld = domain.rpartition(".")
    return f"{name[:1]}***@{host[:1]}***.{tld}" if host else f"{name[:1]}***@{domain}"
