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
- Finding a user by e-mail walks every user of the pool, so making 10,000 accounts (the
  migration's bench) took quadratic time: two thirds of the emulator's time went to that walk. The
  lookup goes through an index by e-mail and phone number, kept up to date as users are added
  (moto only ever appends to a pool's users) and rebuilt after an attribute changes or a user is
  deleted; a hit is checked against the user itself, and anything the index cannot vouch for is
  looked up the old way, so the answers are moto's.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

from moto.cognitoidp import models
from moto.core.exceptions import JsonRESTError

_PASSWORD_FLOWS = {"USER_PASSWORD_AUTH", "USER_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"}


class PasswordResetRequiredException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("PasswordResetRequiredException", "Password reset required for the user")


def install() -> None:
    models.CognitoIdpUserPool._get_user = _get_user  # type: ignore[method-assign]
    _reindex_on_attribute_changes()
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
        found = _index_of(self).find(self.users, attribute_types, username)
        if found is not _UNKNOWN:
            return found if found is not None else self.users.get(username)
        # A copy: the server is threaded, and another request may add a user meanwhile
        # ("dictionary changed size during iteration" would be an HTTP 500).
        for user in list(self.users.values()):
            lookup = user.attribute_lookup
            if any(lookup.get(kind) == username for kind in attribute_types):
                return user
    return self.users.get(username)


_UNKNOWN = object()
_INDEXES: "weakref.WeakKeyDictionary[Any, _UserIndex]" = weakref.WeakKeyDictionary()


def _reindex_on_attribute_changes() -> None:
    """A user's new e-mail or phone number goes into the index of the pool that holds them."""
    for name in ("update_attributes", "delete_attributes"):
        original = getattr(models.CognitoIdpUser, name)

        @functools.wraps(original)
        def changed(self: Any, *args: Any, _original: Any = original) -> Any:
            try:
                return _original(self, *args)
            finally:
                for index in list(_INDEXES.values()):
                    index.changed(self)

        setattr(models.CognitoIdpUser, name, changed)


def _index_of(pool: Any) -> "_UserIndex":
    index = _INDEXES.get(pool)
    if index is None:
        index = _INDEXES[pool] = _UserIndex()
    return index


class _UserIndex:
    """A pool's users by the values of their e-mail and phone number. An entry may be stale (the
    user deleted, or their attribute changed since): a hit is checked, and a stale one sends the
    caller to moto's walk. A miss is an answer: every user the pool holds is in the index under
    their current values."""

    _KINDS = ("email", "phone_number")

    def __init__(self) -> None:
        self.users: Any = None
        self.count = 0
        self.last: str | None = None
        self.by_value: dict[tuple[str, str], Any] = {}

    def find(self, users: Any, kinds: list[str], value: str) -> Any:
        """The user, `None` when there is none, or `_UNKNOWN` when the index cannot tell."""
        try:
            self._catch_up(users)
        except RuntimeError:  # the users changed while being read: let the caller walk them
            return _UNKNOWN
        for kind in kinds:
            user = self.by_value.get((kind, value))
            if user is None:
                continue
            if users.get(user.username) is not user or user.attribute_lookup.get(kind) != value:
                return _UNKNOWN
            return user
        return None

    def changed(self, user: Any) -> None:
        if self.users is not None and self.users.get(user.username) is user:
            self._add(user)

    def _add(self, user: Any) -> None:
        for kind in self._KINDS:
            value = user.attribute_lookup.get(kind)
            if value is None:
                continue
            held = self.by_value.get((kind, value))
            stale = held is not None and (
                self.users.get(held.username) is not held or held.attribute_lookup.get(kind) != value
            )
            # The first user to hold a value keeps it, as moto's walk in insertion order finds.
            if held is None or stale:
                self.by_value[(kind, value)] = user

    def _catch_up(self, users: Any) -> None:
        last = next(reversed(users), None) if users else None
        if self.users is users and self.count == len(users) and self.last == last:
            return
        added = []
        if self.users is users and len(users) > self.count:
            # moto only ever appends users: index those after the last one indexed.
            for username in reversed(users):
                if username == self.last:
                    break
                added.append(users[username])
            else:
                added = []
        if not added:
            # Users were deleted (or this is the first lookup): index them all again.
            self.by_value = {}
            added = list(reversed(list(users.values())))
        self.users = users
        for user in reversed(added):
            self._add(user)
        self.count, self.last = len(users), last


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
