"""Scenario expectations, checked against the ledger: ``check`` runs one checker per expectation the scenario
states, in a fixed order, so reports list them the same way every run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from emulator.expect import fates
from emulator.expect.verdict import ExpectationResult
from emulator.observe.ledger import FateCounts, Ledger
from emulator.spec.scenario import DeadLettersSpec, DeliveredSpec, ExpectSpec, LatencySpec

if TYPE_CHECKING:
    from emulator.observe.collector import Collector


def check(
    expect: ExpectSpec, ledger: Ledger, latency: dict[str, float | None], *, collector: Collector | None = None,
    processed: dict[str, int] | None = None,
) -> list[ExpectationResult]:
    """``processed``: records each function's mappings processed successfully (driven backends), for the hint
    when nothing reached the declared ends."""
    counts = ledger.counts()
    results: list[ExpectationResult] = []
    if expect.delivered is not None:
        results.append(_delivered(expect.delivered, ledger, counts, processed))
    if expect.dead_letters is not None:
        results.append(_dead_letters(expect.dead_letters, ledger))
    if expect.latency is not None:
        results += _latency(expect.latency, latency)
    results.append(_lost(expect.lost.count if expect.lost is not None else 0, ledger, counts))
    results += _extended(expect, ledger, counts, collector)
    if expect.filtered is not None:
        results.append(
            ExpectationResult(
                name="filtered",
                passed=counts.filtered == expect.filtered.count,
                expected=expect.filtered.count,
                actual=counts.filtered,
            )
        )
    return results


_WHERE = {"bucket": "s3://{}", "queue": "queue {}", "stream": "stream {}", "topic": "topic {}", "table": "table {}",
          "processed_by": "processed by {}"}


def _delivered(
    spec: DeliveredSpec, ledger: Ledger, counts: FateCounts, processed: dict[str, int] | None
) -> ExpectationResult:
    target = counts.sent - counts.dead_lettered - counts.filtered - counts.rejected - counts.duplicated
    missing = [ledger.keys[i] for i in ledger.lost_indexes(limit=5)]
    where = f" {'or' if spec.mode == 'any' else 'and'} ".join(_WHERE[e.kind].format(e.name) for e in spec.ends)
    problems = [f"{target - counts.delivered} missing"] if counts.delivered < target else []
    if len(spec.ends) > 1:
        problems.append("reached: " + ", ".join(f"{label} {n}" for label, n in ledger.reached_counts().items()))
    hint = _nothing_reached_hint(spec, counts, processed or {})
    return ExpectationResult(
        name="delivered",
        passed=counts.delivered >= target and counts.lost == 0,
        expected=f"{target} events {'at' if len(spec.ends) > 1 else 'in'} {where} (the rest)",
        actual=counts.delivered,
        detail="; ".join(problems + ([hint] if hint else [])),
        near_misses=[{spec.correlate or "event": key} for key in missing],
    )


def _nothing_reached_hint(spec: DeliveredSpec, counts: FateCounts, processed: dict[str, int]) -> str:
    """When the functions processed events but none reached the declared ends, the ends are likely wrong: say
    which function processed how many, and suggest ``processed_by``."""
    if counts.delivered or not counts.lost or any(e.kind == "processed_by" for e in spec.ends):
        return ""
    done = {name: n for name, n in processed.items() if n}
    if not done:
        return ""
    function, n = max(done.items(), key=lambda item: item[1])
    ends = " or ".join(_WHERE[e.kind].format(e.name) for e in spec.ends)
    return (f"{n} events were processed by {function} successfully but none reached {ends}: "
            f"did you mean `processed_by: {function}`?")


def _dead_letters(spec: DeadLettersSpec, ledger: Ledger) -> ExpectationResult:
    messages = ledger.dead_letters_in(spec.queue)
    n = len(messages)
    ok = True
    wanted = []
    if spec.count is not None:
        ok &= n == spec.count
        wanted.append(f"== {spec.count}")
    if spec.min is not None:
        ok &= n >= spec.min
        wanted.append(f">= {spec.min}")
    if spec.max is not None:
        ok &= n <= spec.max
        wanted.append(f"<= {spec.max}")
    return ExpectationResult(
        name=f"dead_letters[{spec.queue}]",
        passed=ok,
        expected=f"messages {' and '.join(wanted) or 'any'}",
        actual=n,
        detail=f"{n - (spec.count or 0):+d} messages" if spec.count is not None and not ok else "",
        near_misses=[d.body for d in messages[:3]],
    )


def _latency(spec: LatencySpec, latency: dict[str, float | None]) -> list[ExpectationResult]:
    results = []
    for key, budget in (("p50", spec.p50_ms), ("p95", spec.p95_ms), ("p99", spec.p99_ms), ("max", spec.max_ms)):
        if budget is None:
            continue
        value = latency.get(key)
        passed = value is not None and value <= budget
        over = "" if value is None else f"{value - budget:+.1f} ms against the budget"
        results.append(
            ExpectationResult(
                name=f"latency.{key}",
                passed=passed,
                expected=f"<= {budget:g} ms",
                actual=None if value is None else round(value, 3),
                detail="no event was delivered" if value is None else ("" if passed else over),
            )
        )
    return results


def _lost(allowed_lost: int, ledger: Ledger, counts: FateCounts) -> ExpectationResult:
    lost = counts.lost
    sample = ledger.lost_indexes(limit=5)
    return ExpectationResult(
        name="lost",
        passed=lost == allowed_lost,
        expected=allowed_lost,
        actual=lost,
        detail=_lost_detail(lost, allowed_lost, [ledger.keys[i] for i in sample]),
        near_misses=[
            {"event": ledger.keys[i], "why": ledger.dropped.get(i, "unknown: never seen downstream")}
            for i in sample
        ],
    )


def _lost_detail(lost: int, allowed: int, sample: list[str]) -> str:
    """The verdict line names the lost events (the first few), so a user can grep their logs for them."""
    if lost == allowed:
        return ""
    if lost < allowed:
        return f"{allowed - lost} fewer than expected"
    more = ", ..." if lost > len(sample) else ""
    return f"neither delivered, dead-lettered nor filtered: {', '.join(sample)}{more}"


def _extended(
    expect: ExpectSpec, ledger: Ledger, counts: FateCounts, collector: Collector | None
) -> list[ExpectationResult]:
    results: list[ExpectationResult] = []
    if expect.dead_letters is not None:
        results += fates.check_dead_letter_fields(expect.dead_letters, ledger)
    if expect.fates is not None:
        results += fates.check_fates(expect.fates, ledger)
    if expect.counts is not None:
        results += fates.check_counts(expect.counts, counts)
    if expect.outputs is not None and collector is not None:
        results.append(fates.check_outputs(expect.outputs, collector.output_violations,
                                           collector.output_violation_count, collector.records_seen))
    if expect.order is not None:
        results.append(fates.check_order(expect.order, ledger))
    return results


__all__ = ["ExpectationResult", "check"]
