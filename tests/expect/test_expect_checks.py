"""The basic expectations (delivered, dead_letters, latency, lost, filtered) against hand-built ledgers: each one's
pass and fail, with exactly what a user reads (expected, actual, detail, near misses)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.expect.checks import ExpectationResult, check
from emulator.observe.collector import Collector
from emulator.observe.ledger import DeadLetter, Ledger
from emulator.spec.scenario import ExpectSpec

NO_LATENCY: dict[str, float | None] = {"p50": None, "p95": None, "p99": None, "max": None}
DLQ = "http://127.0.0.1:5000/123456789012/dlq"


def expect(**keys: Any) -> ExpectSpec:
    return ExpectSpec.model_validate(keys)


def ledger_of(*keys: str) -> Ledger:
    ledger = Ledger()
    for key in keys:
        ledger.add(key)
    return ledger


def by_name(results: list[ExpectationResult]) -> dict[str, ExpectationResult]:
    named = {r.name: r for r in results}
    assert len(named) == len(results), "one result per expectation"
    return named


def one(results: list[ExpectationResult], name: str) -> ExpectationResult:
    return by_name(results)[name]


def every_fate() -> Ledger:
    """Two delivered, one dead-lettered, one filtered, one rejected, one sent twice on purpose: nothing lost."""
    ledger = ledger_of("e0", "e1", "e2", "e3", "e4", "e0")
    ledger.delivered("e0", 1.0)
    ledger.delivered("e1", 1.0)
    ledger.dead_lettered(DeadLetter(queue=DLQ, body={}, sent=1.0, event_indexes=[2]))
    ledger.mark_filtered("e3")
    ledger.mark_rejected(4, "refused")
    return ledger


def losing(n: int, lost: set[int], dropped: dict[int, str] | None = None) -> Ledger:
    ledger = ledger_of(*(f"e{i}" for i in range(n)))
    for i in range(n):
        if i not in lost:
            ledger.delivered(f"e{i}", 1.0)
    for i, why in (dropped or {}).items():
        ledger.mark_dropped(f"e{i}", why)
    return ledger


# -- delivered ------------------------------------------------------------------------------------------------
def test_delivered_passes_when_every_event_without_another_fate_arrived() -> None:
    result = one(check(expect(delivered={"bucket": "out", "correlate": "id"}), every_fate(), NO_LATENCY), "delivered")
    assert result == ExpectationResult(name="delivered", passed=True, expected="2 events in s3://out (the rest)",
                                       actual=2, detail="", near_misses=[])


def test_delivered_fails_naming_how_many_are_missing_and_which() -> None:
    ledger = losing(10, lost={2, 5, 8})
    result = one(check(expect(delivered={"bucket": "out", "correlate": "id"}), ledger, NO_LATENCY), "delivered")
    assert result == ExpectationResult(
        name="delivered", passed=False, expected="10 events in s3://out (the rest)", actual=7, detail="3 missing",
        near_misses=[{"id": "e2"}, {"id": "e5"}, {"id": "e8"}],
    )
    assert result.describe() == "delivered: expected 10 events in s3://out (the rest), got 7 (3 missing)"


def test_delivered_shows_five_missing_events_at_most() -> None:
    result = one(check(expect(delivered={"bucket": "out", "correlate": "id"}), losing(9, set(range(9))),
                       NO_LATENCY), "delivered")
    assert result.near_misses == [{"id": f"e{i}"} for i in range(5)]
    assert result.detail == "9 missing" and result.actual == 0


# -- dead_letters -----------------------------------------------------------------------------------------------
def with_letters(n: int, other_queue: int = 1) -> Ledger:
    ledger = ledger_of("a")
    for i in range(n):
        ledger.dead_lettered(DeadLetter(queue=DLQ, body={"letter": i}, sent=1.0))
    for i in range(other_queue):
        ledger.dead_lettered(DeadLetter(queue=DLQ.replace("/dlq", "/other"), body={"other": i}, sent=1.0))
    return ledger


@pytest.mark.parametrize(
    ("bounds", "letters", "passed", "expected", "detail"),
    [
        ({"count": 2}, 2, True, "messages == 2", ""),
        ({"count": 3}, 2, False, "messages == 3", "-1 messages"),
        ({"count": 1}, 2, False, "messages == 1", "+1 messages"),
        ({"count": 0}, 2, False, "messages == 0", "+2 messages"),
        ({"count": 0}, 0, True, "messages == 0", ""),
        ({"min": 1, "max": 2}, 1, True, "messages >= 1 and <= 2", ""),
        ({"min": 1, "max": 2}, 2, True, "messages >= 1 and <= 2", ""),
        ({"min": 1, "max": 2}, 0, False, "messages >= 1 and <= 2", ""),
        ({"min": 1, "max": 2}, 3, False, "messages >= 1 and <= 2", ""),
        ({"min": 2}, 1, False, "messages >= 2", ""),
        ({"max": 0}, 1, False, "messages <= 0", ""),
        ({}, 4, True, "messages any", ""),
    ],
)
def test_dead_letters_counts_the_messages_of_the_named_queue(
    bounds: dict[str, int], letters: int, passed: bool, expected: str, detail: str
) -> None:
    result = one(check(expect(dead_letters={"queue": "dlq", **bounds}), with_letters(letters), NO_LATENCY),
                 "dead_letters[dlq]")
    assert result == ExpectationResult(name="dead_letters[dlq]", passed=passed, expected=expected, actual=letters,
                                       detail=detail, near_misses=[{"letter": i} for i in range(min(letters, 3))])


# -- latency ------------------------------------------------------------------------------------------------
LATENCY = {"p50": 10.0, "p95": 50.25, "p99": 99.0, "max": 120.12345, "count": 5}


def test_latency_checks_each_given_percentile_against_its_budget() -> None:
    spec = expect(latency={"p50_ms": 10, "p95_ms": 50, "p99_ms": 99.5, "max_ms": 2.5})
    results = [r for r in check(spec, ledger_of(), LATENCY) if r.name.startswith("latency.")]
    assert results == [
        ExpectationResult(name="latency.p50", passed=True, expected="<= 10 ms", actual=10.0),  # on the budget
        ExpectationResult(name="latency.p95", passed=False, expected="<= 50 ms", actual=50.25,
                          detail="+0.2 ms against the budget"),
        ExpectationResult(name="latency.p99", passed=True, expected="<= 99.5 ms", actual=99.0),
        ExpectationResult(name="latency.max", passed=False, expected="<= 2.5 ms", actual=120.123,
                          detail="+117.6 ms against the budget"),
    ]


def test_latency_checks_only_the_percentiles_given() -> None:
    results = check(expect(latency={"p99_ms": 100}), ledger_of(), LATENCY)
    assert [r.name for r in results if r.name.startswith("latency.")] == ["latency.p99"]


def test_latency_fails_when_nothing_was_delivered() -> None:
    result = one(check(expect(latency={"p95_ms": 100}), ledger_of(), NO_LATENCY), "latency.p95")
    assert result == ExpectationResult(name="latency.p95", passed=False, expected="<= 100 ms", actual=None,
                                       detail="no event was delivered")


# -- lost --------------------------------------------------------------------------------------------------
def test_lost_is_always_checked_and_passes_when_nothing_is_lost() -> None:
    results = check(expect(), every_fate(), NO_LATENCY)
    assert results == [ExpectationResult(name="lost", passed=True, expected=0, actual=0)]


def test_lost_fails_naming_the_lost_events_and_why() -> None:
    ledger = losing(6, lost={1, 4}, dropped={4: "discarded by mapping m (RecordAgeExceeded)"})
    result = one(check(expect(), ledger, NO_LATENCY), "lost")
    assert result == ExpectationResult(
        name="lost", passed=False, expected=0, actual=2,
        detail="neither delivered, dead-lettered nor filtered: e1, e4",
        near_misses=[{"event": "e1", "why": "unknown: never seen downstream"},
                     {"event": "e4", "why": "discarded by mapping m (RecordAgeExceeded)"}],
    )
    assert result.describe() == "lost: expected 0, got 2 (neither delivered, dead-lettered nor filtered: e1, e4)"


@pytest.mark.parametrize(
    ("allowed", "lost", "passed", "detail"),
    [
        (2, 2, True, ""),
        (2, 1, False, "1 fewer than expected"),
        (3, 0, False, "3 fewer than expected"),
        (2, 3, False, "neither delivered, dead-lettered nor filtered: e0, e1, e2"),
        (0, 1, False, "neither delivered, dead-lettered nor filtered: e0"),
    ],
)
def test_lost_count_is_exact(allowed: int, lost: int, passed: bool, detail: str) -> None:
    result = one(check(expect(lost={"count": allowed}), losing(8, set(range(lost))), NO_LATENCY), "lost")
    assert (result.passed, result.expected, result.actual, result.detail) == (passed, allowed, lost, detail)
    assert [m["event"] for m in result.near_misses] == [f"e{i}" for i in range(lost)]


@pytest.mark.parametrize(("lost", "detail"), [
    (5, "neither delivered, dead-lettered nor filtered: e0, e1, e2, e3, e4"),
    (7, "neither delivered, dead-lettered nor filtered: e0, e1, e2, e3, e4, ..."),
])
def test_lost_shows_five_events_at_most(lost: int, detail: str) -> None:
    result = one(check(expect(), losing(7, set(range(lost))), NO_LATENCY), "lost")
    assert [m["event"] for m in result.near_misses] == ["e0", "e1", "e2", "e3", "e4"] and result.actual == lost
    assert result.detail == detail


# -- filtered -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("wanted", "passed"), [(1, True), (0, False), (2, False)])
def test_filtered_count_is_exact(wanted: int, passed: bool) -> None:
    result = one(check(expect(filtered={"count": wanted}), every_fate(), NO_LATENCY), "filtered")
    assert result == ExpectationResult(name="filtered", passed=passed, expected=wanted, actual=1)


# -- all together -------------------------------------------------------------------------------------------
def test_results_come_in_a_stable_order() -> None:
    ledger = every_fate()
    ledger.partition_keys = ["k"] * 6
    collector = Collector(ledger, correlate="id", feeds=[], dead_letter_queues=[])
    collector.records_seen = 2
    spec = expect(
        delivered={"bucket": "out", "correlate": "id"},
        dead_letters={"queue": "dlq", "condition": "RetryAttemptsExhausted", "batch_size": 1},
        latency={"p50_ms": 1, "max_ms": 2},
        lost={"count": 0},
        filtered={"count": 1},
        fates={"clean": "delivered"},
        counts={"delivered": 2},
        outputs={"fields": ["id"]},
        order={"per": "partition_key"},
    )
    names = [r.name for r in check(spec, ledger, {"p50": 1.0, "max": 1.0}, collector=collector)]
    assert names == ["delivered", "dead_letters[dlq]", "latency.p50", "latency.max", "lost",
                     "dead_letters[dlq].condition", "dead_letters[dlq].batch_size", "fates.clean", "counts.delivered",
                     "outputs", "order.per_partition_key", "filtered"]


def test_outputs_report_what_the_collector_saw() -> None:
    ledger = every_fate()
    collector = Collector(ledger, correlate="id", feeds=[], dead_letter_queues=[])
    violation = {"key": "out/1.jsonl", "problem": "has no 'id'", "record": {"x": 1}}
    collector.records_seen, collector.output_violation_count, collector.output_violations = 4, 3, [violation]
    result = one(check(expect(outputs={"fields": ["id"]}), ledger, NO_LATENCY, collector=collector), "outputs")
    assert result == ExpectationResult(name="outputs", passed=False, expected="every output record has id",
                                       actual="1 of 4 records", detail="3 records do not", near_misses=[violation])


def test_outputs_are_checked_only_with_a_collector() -> None:
    names = [r.name for r in check(expect(outputs={"fields": ["id"]}), every_fate(), NO_LATENCY)]
    assert names == ["lost"]


def test_a_collector_without_outputs_expectation_adds_nothing() -> None:
    ledger = every_fate()
    collector = Collector(ledger, correlate="id", feeds=[], dead_letter_queues=[])
    assert [r.name for r in check(expect(), ledger, NO_LATENCY, collector=collector)] == ["lost"]


def test_results_serialise_and_describe_themselves() -> None:
    result = ExpectationResult(name="n", passed=False, expected=1, actual=2, detail="d", near_misses=[{"a": 1}])
    assert result.as_dict() == {"name": "n", "passed": False, "expected": 1, "actual": 2, "detail": "d",
                                "near_misses": [{"a": 1}]}
    assert result.describe() == "n: expected 1, got 2 (d)"
    assert ExpectationResult(name="n", passed=True, expected=1, actual=1).describe() == "n: expected 1, got 1"
