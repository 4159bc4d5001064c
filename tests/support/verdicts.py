"""The verdict the bundled-scenario tests ask for. A latency budget missed while the run itself measured the host
stalling (and said so in the expectation) counts as held: on a busy machine (CI runners often are, and `.ci/run`'s
second pass of the timing-sensitive tests runs under CPU hogs it starts) the pipeline's latency says nothing about
the code. On an idle machine no stall is measured, so a slow pipeline still fails. Every other expectation
(delivered, lost, dead letters, order, outputs...) must hold as always."""

from __future__ import annotations

from typing import Any

WALL_CLOCK_BUDGETS = ("latency", "executions.duration")  # what a busy host delays
STALL_NOTE = "the host stalled during the run"


def held(result: Any) -> bool:
    if result.passed:
        return True
    return all(
        e.passed or (e.name.startswith(WALL_CLOCK_BUDGETS) and STALL_NOTE in (e.detail or ""))
        for e in result.expectations
    )


def held_apart_from_latency(result: Any) -> bool:
    """Every expectation but the wall-clock budgets holds. For the endpoint backend, whose outputs and shards are
    polled over HTTP: the bundled scenarios' budgets are written for the embedded backend, which sees them in
    process; the endpoint path's latency is measured and reported, not judged against them."""
    return all(e.passed or e.name.startswith(WALL_CLOCK_BUDGETS) for e in result.expectations)
