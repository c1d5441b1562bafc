"""Mumble's extensions to moto, loaded into the emulator process before the server starts.

Why a plugin at all: moto's own service APIs (API Gateway v2, CloudFront, Cognito, ...) work,
but its CloudFormation engine silently skips many resource types and differs from AWS in a few
places that our deploy relies on (Outputs after a change set, invalidation status spelling).
Every difference closed here is listed in ../README.md. The product code never knows.

The plugin patches moto internals, so it is pinned to one moto version: `install()` refuses any
other, because a silently half-working patch is worse than a clear stop.
"""

from __future__ import annotations

import moto

MOTO_VERSION = "5.2.5"


class UnsupportedMotoVersion(SystemExit):
    pass


_installed = False


def install() -> None:
    """Apply every patch. Idempotent, so tests may import the plugin in-process too."""
    if moto.__version__ != MOTO_VERSION:
        raise UnsupportedMotoVersion(
            f"mumble_moto supports moto {MOTO_VERSION} only, but moto {moto.__version__} is "
            f"installed; reinstall the tools venv (`moto[server]=={MOTO_VERSION}`, see "
            "xtask/tools-requirements.txt) or port xtask/emulator/mumble_moto to the new moto "
            "and update the pin"
        )
    global _installed
    if _installed:
        return
    _installed = True

    # Imported here so that a wrong moto version fails with the message above, not an ImportError.
    from . import (
        apigatewayv2_fixes,
        cfn_fixes,
        cloudfront_fixes,
        cloudwatch_fixes,
        codedeploy_fixes,
        cognito_fixes,
        events_fixes,
        iam_fixes,
        lambda_fixes,
        persistence,
        resources,
        s3_fixes,
        server_fixes,
        update_fixes,
    )

    server_fixes.install()
    lambda_fixes.install()
    apigatewayv2_fixes.install()
    cfn_fixes.install()
    cloudfront_fixes.install()
    cloudwatch_fixes.install()
    codedeploy_fixes.install()
    cognito_fixes.install()
    events_fixes.install()
    iam_fixes.install()
    s3_fixes.install()
    update_fixes.install()
    resources.install()
    persistence.install()
