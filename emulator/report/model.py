"""Typed, forgiving reads of ``RunResult.report_data()``.

The report is written for runs that went wrong, so nothing here trusts the shape of its input: a missing key, a
``None`` or a stray string becomes "no data" instead of an exception.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from emulator.nesting import deeper_than

BATCH_KINDS = ("retries", "bisects", "partial_failures", "throttles")
RECORD_KINDS = ("records_dead_lettered", "records_filtered", "records_discarded")
_BUDGET = re.compile(r"<=\s*([0-9.eE+-]+)\s*ms")
# C0 controls other than tab/newline/CR are not allowed in XML 1.0 and render as nothing in HTML; lone surrogates
# (json.loads lets "\ud800" through) cannot even be encoded as UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class Budget(NamedTuple):
    key: str  # p50, p95, p99 or max
    ms: float
    passed: bool


class Invocation(NamedTuple):
    t: float
    function: str
    duration_ms: float
    cold: bool
    error: bool


@dataclass(frozen=True)
class Throughput:
    bucket_s: float
    sent: list[float]
    delivered: list[float]
    asked: float | None
    asked_profile: list[float] | None = None  # the asked rate per bucket, for rate profiles


def num(value: Any) -> float | None:
    """A finite float, or None for anything else (bools included: ``True`` is not a latency)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def clean(text: Any) -> str:
    """``str(text)`` without the control characters that make XML invalid (ANSI colour codes in logs)."""
    return _CONTROL.sub(_visible, text if isinstance(text, str) else str(text))


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# Deeper JSON is shown as it came: indenting it would grow a report quadratically (2 spaces a level a line).
PRETTY_DEPTH = 64


def pretty(value: Any) -> str:
    """JSON (given parsed, or as text) indented for a report; other text, or JSON nested deeper than
    ``PRETTY_DEPTH``, as it is, cleaned."""
    text = value if isinstance(value, str) else None
    try:
        parsed = json.loads(text) if text is not None else value
        if not deeper_than(parsed, PRETTY_DEPTH):
            return clean(json.dumps(parsed, indent=2, default=str, ensure_ascii=False))
        return clean(text if text is not None else json.dumps(parsed, default=str, ensure_ascii=False))
    except (ValueError, RecursionError):  # not JSON, or nested past what the parser reads
        return clean(text) if text is not None else "(nested too deeply to show)"


def short_queue(url: Any) -> str:
    """``http://host/123/orders-dlq`` -> ``orders-dlq``: the name a reader knows the queue by."""
    text = clean(url)
    return text.rstrip("/").rsplit("/", 1)[-1] or text


def mapping(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def items(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, list) else []


def series(data: dict[str, Any]) -> dict[str, Any]:
    return mapping(data, "series")


def expectations(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in items(data, "expectations") if isinstance(e, dict)]


def latency_points(data: dict[str, Any]) -> list[tuple[float, float]]:
    out = []
    for p in items(series(data), "latency"):
        if isinstance(p, list | tuple) and len(p) >= 2:
            t, ms = num(p[0]), num(p[1])
            if t is not None and ms is not None:
                out.append((t, max(ms, 0.0)))
    return out


def budgets(data: dict[str, Any]) -> list[Budget]:
    """Latency budgets from expectations named ``latency.p99`` with ``expected: "<= 5000 ms"``."""
    out = []
    for e in expectations(data):
        name = str(e.get("name", ""))
        match = _BUDGET.search(str(e.get("expected", "")))
        if name.startswith("latency.") and match:
            try:
                ms = float(match.group(1))
            except ValueError:
                continue
            out.append(Budget(name.split(".", 1)[1], ms, bool(e.get("passed"))))
    return out


def percentiles(data: dict[str, Any]) -> dict[str, float]:
    lat = mapping(data, "latency_ms")
    return {k: v for k in ("p50", "p95", "p99", "max") if (v := num(lat.get(k))) is not None}


def throughput(data: dict[str, Any]) -> Throughput:
    tp = mapping(series(data), "throughput")
    bucket = num(tp.get("bucket_s"))

    def floats(key: str) -> list[float]:
        return [max(0.0, num(v) or 0.0) for v in items(tp, key)]

    return Throughput(
        bucket_s=bucket if bucket is not None and bucket > 0 else 1.0,
        sent=floats("sent_per_s"),
        delivered=floats("delivered_per_s"),
        asked=num(tp.get("asked_per_s")),
        asked_profile=floats("asked_profile_per_s") or None,
    )


def mapping_events(data: dict[str, Any]) -> list[tuple[float, str, float]]:
    out = []
    for e in items(series(data), "mapping_events"):
        if isinstance(e, list | tuple) and len(e) >= 3:
            t, n = num(e[0]), num(e[2])
            if t is not None and n is not None:
                out.append((t, str(e[1]), n))
    return out


def invocations(data: dict[str, Any]) -> list[Invocation]:
    out = []
    for e in items(series(data), "invocations"):
        if isinstance(e, list | tuple) and len(e) >= 5:
            t, ms = num(e[0]), num(e[2])
            if t is not None and ms is not None:
                out.append(Invocation(t, clean(e[1]), max(ms, 0.0), bool(e[3]), bool(e[4])))
    return out


def time_domain(data: dict[str, Any]) -> tuple[float, float]:
    """Seconds since the replay began that every time chart shares, so they line up one above the other."""
    tp = throughput(data)
    ends = [len(tp.sent) * tp.bucket_s, len(tp.delivered) * tp.bucket_s]
    ends += [t + ms / 1000 for t, ms in latency_points(data)]
    ends += [t for t, _, _ in mapping_events(data)]
    hi = max([e for e in ends if e > 0], default=1.0)
    return 0.0, hi
