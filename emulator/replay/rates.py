"""When each event is due: rate profiles turned into send offsets (seconds after the replay starts).

``offset(index)`` is exact for every profile (closed forms, no per-event state), so a million-event replay
costs nothing to schedule and event ``i`` is due at the same instant however the producer batches.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from emulator.spec.traffic import RateSpec

if TYPE_CHECKING:
    from emulator.spec.scenario import ScenarioSpec


@dataclass(frozen=True)
class Schedule:
    spec: RateSpec | None

    @property
    def unpaced(self) -> bool:
        return self.spec is None or self.spec.profile == "max"

    @property
    def recorded(self) -> bool:
        return self.spec is not None and self.spec.profile == "recorded"

    def describe(self) -> str:
        s = self.spec
        if s is None or s.profile == "max":
            return "as fast as possible"
        if s.profile == "constant":
            return f"{s.per_second:g}/s"
        if s.profile == "ramp":
            return f"ramp {s.from_:g}/s -> {s.to:g}/s over {s.over_s:g}s"
        if s.profile == "step":
            return "steps " + ", ".join(f"{st.per_second:g}/s for {st.for_s:g}s" for st in s.steps or [])
        if s.profile == "burst":
            return f"burst {s.base:g}/s with {s.peak:g}/s for {s.burst_s:g}s every {s.every_s:g}s"
        return f"recorded timing x{s.speed:g}"

    def offset(self, index: int, recorded_offset: float | None = None) -> float | None:
        """Seconds after the start when event ``index`` is due; None = now."""
        s = self.spec
        if s is None or s.profile == "max":
            return None
        if s.profile == "recorded":
            return None if recorded_offset is None else recorded_offset / s.speed
        if s.profile == "constant":
            assert s.per_second is not None
            return index / s.per_second
        if s.profile == "ramp":
            return _ramp(index, s)
        if s.profile == "step":
            return _step(index, s)
        return _burst(index, s)

    def rate_at(self, t: float) -> float | None:
        """The asked rate at ``t`` seconds (for reports); None when unpaced or recorded."""
        s = self.spec
        if s is None or s.profile in ("max", "recorded"):
            return None
        if s.profile == "constant":
            return s.per_second
        if s.profile == "ramp":
            assert s.from_ is not None and s.to is not None and s.over_s is not None
            return s.from_ + (s.to - s.from_) * min(1.0, t / s.over_s)
        if s.profile == "step":
            elapsed = 0.0
            steps = s.steps or []
            for step in steps:
                elapsed += step.for_s
                if t < elapsed:
                    return step.per_second
            return steps[-1].per_second
        assert s.every_s is not None and s.burst_s is not None
        return s.peak if (t % s.every_s) < s.burst_s else s.base


def _ramp(i: int, s: RateSpec) -> float:
    a, b, span = s.from_, s.to, s.over_s
    assert a is not None and b is not None and span is not None
    in_ramp = (a + b) * span / 2  # events sent during the ramp
    if i >= in_ramp:
        return span + (i - in_ramp) / b
    k = (b - a) / (2 * span)  # N(t) = a t + k t^2
    if abs(k) < 1e-12:
        return i / a
    return (-a + math.sqrt(max(0.0, a * a + 4 * k * i))) / (2 * k)


def _step(i: int, s: RateSpec) -> float:
    steps = s.steps or []
    ends, counts, t, n = [], [], 0.0, 0.0
    for step in steps:
        t += step.for_s
        n += step.per_second * step.for_s
        ends.append(t)
        counts.append(n)
    k = bisect.bisect_right(counts, i)
    if k >= len(steps):
        return ends[-1] + (i - counts[-1]) / steps[-1].per_second
    start_t = ends[k - 1] if k else 0.0
    start_n = counts[k - 1] if k else 0.0
    return start_t + (i - start_n) / steps[k].per_second


def _burst(i: int, s: RateSpec) -> float:
    base, peak, period, burst = s.base, s.peak, s.every_s, s.burst_s
    assert base is not None and peak is not None and period is not None and burst is not None
    in_burst = peak * burst
    per_period = in_burst + base * (period - burst)
    q = math.floor(i / per_period)
    r = i - q * per_period
    if r < in_burst:
        return q * period + r / peak
    return q * period + burst + (r - in_burst) / base


def send_time_warning(spec: ScenarioSpec) -> str | None:
    """Why the scenario cannot finish within ``timeout_s`` (sending its events at its rate takes longer), or None."""
    count = spec.events.count
    due = Schedule(spec.rate).offset(count - 1) if count > 0 else None
    if due is None or due <= spec.timeout_s:
        return None
    return (
        f"{spec.source_path}: sending {count} events at {Schedule(spec.rate).describe()} takes {due:,.0f}s, more "
        f"than timeout_s {spec.timeout_s:g}s: the run will stop sending when the time runs out and fail; raise "
        "timeout_s or the rate, or lower events.count"
    )
