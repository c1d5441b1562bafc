"""Lambda without Docker, from the first request on.

moto picks its Lambda backend per call from `use_docker`: functions created while it is true
live in a different backend from those created after `POST /moto-api/config` flips it. No
Docker here (nor in CI), so the emulator starts with Docker off and every client sees one
backend without a set-up call.
"""

from __future__ import annotations


def install() -> None:
    from moto.core.config import default_user_config

    default_user_config["lambda"] = {"use_docker": False}
