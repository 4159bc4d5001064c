"""``pipemu tune``: one recording replayed under every combination of the varied settings, time-scaled, on one
embedded backend (reset between trials); each trial's latency, throughput, invocations, retries and projected
cost; the Pareto front of latency against cost; the cheapest setting that meets the latency budget.

Time scaling: a trial replays at the scenario's rate x ``time_scale`` with AWS's waits (batching windows,
retry backoff) ``time_scale`` times shorter, so a window gathers as many records as it would on AWS and batch
counts transfer, as long as the handler keeps up (the throughput column shows whether it did). Costs are
projected at the scenario's own rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.expect.latency import summarize
from emulator.spec.scenario import ScenarioSpec
from emulator.tune.grid import Combination
from emulator.tune.timing import AwsTiming, modelled_latencies, timing_for

PERCENTILES = ("p50", "p95", "p99", "max")


@dataclass(frozen=True)
class Trial:
    combo: Combination
    latency_ms: dict[str, float | None]  # what the recommendation judges: modelled (aws_timing) or measured
    measured_ms: dict[str, float | None]
    throughput_eps: float
    invocations: int
    retries: int
    per_million_usd: float | None
    per_month_usd: float | None
    failures: tuple[str, ...]  # the scenario's other expectations this trial failed
    seconds: float
    timing: AwsTiming | None = None
    saturated: bool = False  # a backlog built up here: local capacity, not AWS, set the pace
    report: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def p99(self) -> float | None:
        return self.latency_ms.get("p99")


def _other_failures(result: Any) -> tuple[str, ...]:
    """Failed expectations other than latency (judged by the model here) and cost (the sweep's other axis)."""
    return tuple(e.name for e in result.failures if not e.name.startswith(("latency.", "cost.")))


def run_trial(
    spec: ScenarioSpec, combo: Combination, *, backend: Any, recording: Path, rate: float, time_scale: float,
    model: str,
) -> Trial:
    from emulator.runner import run_scenario

    started = time.monotonic()
    result = run_scenario(spec, backend=backend, recording=recording, rate=rate * time_scale,
                          pipeline=combo.pipeline)
    ledger = result.ledger
    measured = [(i, (d - s) * 1000) for i, (s, d) in enumerate(zip(ledger.sent_at, ledger.delivered_at, strict=True))
                if d == d and s == s]  # NaN != NaN: events never sent or never delivered
    mapping = combo.pipeline.mappings[combo.mapping_index]
    timing = timing_for(combo.pipeline, mapping, rate) if model == "aws_timing" else None
    latency = summarize(modelled_latencies(measured, timing)) if timing is not None else result.latency_ms
    bill = result.cost.at_rate(rate) if result.cost is not None else None
    return Trial(
        combo=combo,
        latency_ms={k: latency.get(k) for k in PERCENTILES},
        measured_ms={k: result.latency_ms.get(k) for k in PERCENTILES},
        throughput_eps=result.throughput_eps,
        invocations=sum(int(f.get("invocations", 0)) for f in result.functions.values()),
        retries=sum(int(m.get("retries", 0)) for m in result.mappings.values()),
        per_million_usd=bill.per_million_usd if bill is not None else None,
        per_month_usd=bill.per_month_usd if bill is not None else None,
        failures=_other_failures(result),
        seconds=time.monotonic() - started,
        timing=timing,
        saturated=backlog_grew([ms for _, ms in measured]),
    )


def backlog_grew(latencies_ms: list[float]) -> bool:
    """Latency rose through the run (the last fifth's median over twice the first fifth's, plus 250 ms): a
    backlog built up, so local capacity, not AWS's behaviour, set the pace of this trial."""
    n = len(latencies_ms) // 5
    if n < 3:
        return False
    first, last = sorted(latencies_ms[:n]), sorted(latencies_ms[-n:])
    return last[n // 2] > 2 * first[n // 2] + 250


def run_sweep(
    spec: ScenarioSpec, combos: list[Combination], *, recording: Path, rate: float, time_scale: float,
    model: str = "aws_timing", on_trial: Callable[[Trial], None] | None = None,
) -> list[Trial]:
    from emulator.backends.embedded import EmbeddedBackend

    spec = spec.model_copy(update={"time_scale": time_scale})
    trials = []
    with EmbeddedBackend(time_scale=time_scale) as backend:
        for i, combo in enumerate(combos):
            if i:
                backend.reset()
            trial = run_trial(spec, combo, backend=backend, recording=recording, rate=rate, time_scale=time_scale,
                              model=model)
            trials.append(trial)
            if on_trial is not None:
                on_trial(trial)
    return trials


def pareto_front(trials: list[Trial]) -> list[Trial]:
    """Passing trials no other passing trial beats on both p99 latency and cost per million events."""
    points = [t for t in trials if t.passed and t.p99 is not None and t.per_million_usd is not None]

    def beaten(t: Trial) -> bool:
        return any(
            o is not t and o.p99 <= t.p99 and o.per_million_usd <= t.per_million_usd  # type: ignore[operator]
            and (o.p99 < t.p99 or o.per_million_usd < t.per_million_usd)  # type: ignore[operator]
            for o in points
        )

    return sorted((t for t in points if not beaten(t)), key=lambda t: t.per_million_usd or 0.0)


def recommend(trials: list[Trial], p99_budget_ms: float | None) -> Trial | None:
    """The cheapest passing trial whose p99 meets the budget (the lower p99 among equals)."""
    candidates = [t for t in pareto_front(trials) if p99_budget_ms is None or (t.p99 or 0) <= p99_budget_ms]
    return min(candidates, key=lambda t: (t.per_million_usd or 0.0, t.p99 or 0.0), default=None)


def base_rate(spec: ScenarioSpec, override: float | None) -> float:
    if override is not None:
        return override
    if spec.rate is not None and spec.rate.per_second:
        return float(spec.rate.per_second)
    from emulator.errors import ConfigError

    raise ConfigError("tune needs a constant rate to replay and project costs at", file=spec.source_path,
                      key="rate", hint="give --rate N (events per second on AWS)")

