"""Cognito's ResendConfirmationCode, which moto 5.2.5 does not implement.

moto answers it with an HTML "not yet implemented" page and HTTP 500 (without CORS headers, so a
browser sees only a network error). AWS sends a new code and answers with where it went. The
emulator sends no e-mail and its ConfirmSignUp accepts any code, so answering as AWS does, for a
user that exists and is not yet confirmed, is all the site's "Send the code again" needs.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
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
