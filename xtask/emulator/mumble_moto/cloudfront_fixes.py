"""CloudFront invalidations report `Completed`, as AWS spells it.

moto says `COMPLETED`; the AWS SDKs' InvalidationCompleted waiter matches `Completed` exactly,
so against plain moto `cargo xtask invalidate --wait` would wait until its time bound.
Invalidations finish at once here (there is no cache to clear).
"""

from __future__ import annotations

import functools
from typing import Any

from moto.cloudfront import models


def install() -> None:
    init = models.Invalidation.__init__

    @functools.wraps(init)
    def init_completed(self: models.Invalidation, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.status = "Completed"

    models.Invalidation.__init__ = init_completed  # type: ignore[method-assign]
