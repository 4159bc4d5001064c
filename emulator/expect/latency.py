"""Latency percentiles from an HDR histogram (microsecond resolution, 3 significant digits)."""

from __future__ import annotations

from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

PERCENTILES = (50.0, 95.0, 99.0)


def summarize(latencies_ms: Iterable[float]) -> dict[str, float | None]:
    histogram = HdrHistogram(1, 3_600_000_000, 3)
    n = 0
    for value in latencies_ms:
        histogram.record_value(max(1, int(value * 1000)))
        n += 1
    if n == 0:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    out: dict[str, float | None] = {
        f"p{int(p)}": histogram.get_value_at_percentile(p) / 1000 for p in PERCENTILES
    }
    out["max"] = histogram.get_max_value() / 1000
    out["count"] = n
    return out
