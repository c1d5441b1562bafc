"""GetMetricData answers percentiles over the values put, as `cargo xtask status` reads them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any


def test_percentiles_are_nearest_rank_over_the_values_put(aws: Any, name: str) -> None:
    cloudwatch = aws("cloudwatch")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    metric = {
        "Namespace": "AWS/Lambda",
        "MetricName": "Duration",
        "Dimensions": [{"Name": "FunctionName", "Value": name}],
    }
    cloudwatch.put_metric_data(
        Namespace=metric["Namespace"],
        MetricData=[
            {
                "MetricName": metric["MetricName"],
                "Dimensions": metric["Dimensions"],
                "Timestamp": now - timedelta(minutes=5),
                "Value": float(value),
                "Unit": "Milliseconds",
            }
            for value in range(1, 101)
        ],
    )
    queries = [
        {
            "Id": stat.replace(".", "_"),
            "MetricStat": {"Metric": metric, "Period": 3600, "Stat": stat},
        }
        for stat in ("p50", "p95", "p99.9", "Maximum")
    ]
    results = cloudwatch.get_metric_data(
        MetricDataQueries=queries,
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
    )["MetricDataResults"]
    values = {r["Id"]: r["Values"] for r in results}
    assert values == {"p50": [50.0], "p95": [95.0], "p99_9": [100.0], "Maximum": [100.0]}
