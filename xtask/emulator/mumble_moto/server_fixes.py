"""moto's server answers each request faster, with the same answers.

For every request moto 5.2.5 lists its own package folder (`os.listdir` and an `isdir` per
service, under the lock every request takes) to tell a service name from a host name, and
inspects the service's response class for its method names. Neither changes while the server
runs, so both are worked out once: `cargo xtask bench migrate` spent about a tenth of the
emulator's time on them.
"""

from __future__ import annotations

import functools
from typing import Any


def install() -> None:
    from moto import backends
    from moto.core import responses, utils

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]

    @functools.cache
    def method_names(clazz: Any) -> frozenset[str]:
        return frozenset(utils.method_names_from_class(clazz))

    responses.method_names_from_class = method_names  # type: ignore[assignment]
