"""WebSocket APIs get a `wss://` endpoint, as on AWS.

moto gives every API Gateway v2 API an `https://` ApiEndpoint; for a WebSocket API AWS answers
`wss://{id}.execute-api.{region}.amazonaws.com`, and the app stack's WebSocketUrl output is
built from it.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.apigatewayv2 import models


def install() -> None:
    init = models.Api.__init__

    @functools.wraps(init)
    def init_with_scheme(self: models.Api, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if self.protocol_type == "WEBSOCKET":
            self.api_endpoint = "wss://" + self.api_endpoint.removeprefix("https://")

    models.Api.__init__ = init_with_scheme  # type: ignore[method-assign]
