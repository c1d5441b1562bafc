"""CloudFormation handlers for the resource types moto's CloudFormation skips.

Each handler calls moto's own backend for its service, so the resource is as real as one made
through that service's API: the same ids, the same lookups, the same deletes.
"""

from __future__ import annotations

from . import apigatewayv2, cloudfront, cognito, others, traffic
from .base import register


def install() -> None:
    register(
        apigatewayv2.HANDLERS
        + cloudfront.HANDLERS
        + cognito.HANDLERS
        + others.HANDLERS
        + traffic.HANDLERS
    )
    traffic.install()
