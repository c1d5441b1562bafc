"""GetMetricData answers percentile statistics (`p50`, `p95`, `p99.9`) as AWS does.

moto computes Sum, Average, Minimum, Maximum and SampleCount only; any other statistic comes back
as no value, so `cargo xtask status` could not show a function's p95 duration against the
emulator. Percentiles here are nearest-rank over the single values put with PutMetricData
(statistic sets carry no distribution, so they add nothing, as on AWS).
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

from moto.cloudwatch import models

PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")


def percentile(values: list[float], rank: float) -> float | None:
    """The nearest-rank percentile of `values`, or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(math.ceil(rank / 100 * len(ordered)) - 1, 0)
    return ordered[min(index, len(ordered) - 1)]


def install() -> None:
    original = models.Statistics.get_statistics_for_type

    @functools.wraps(original)
    def with_percentiles(self: models.Statistics, stat: str) -> Any:
        match = PERCENTILE.match(stat)
        if match:
            return percentile(self.metric_single_values_list, float(match.group(1)))
        return original(self, stat)

    models.Statistics.get_statistics_for_type = with_percentiles  # type: ignore[method-assign]
