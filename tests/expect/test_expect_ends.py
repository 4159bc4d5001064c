"""expect.delivered with several ends (mode all/any), each end kind's wording, per-end figures, and the hint when
functions processed events that reached none of the declared ends. Hand-built ledgers; no pipeline runs."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.expect.checks import ExpectationResult, check
from emulator.observe.ledger import Ledger
from emulator.spec.scenario import DeliveredSpec, ExpectSpec

NO_LATENCY: dict[str, float | None] = {"p50": None, "p95": None, "p99": None, "max": None}


def delivered_result(delivered: Any, ledger: Ledger, processed: dict[str, int] | None = None) -> ExpectationResult:
    spec = ExpectSpec.model_validate({"delivered": delivered})
    [result] = [r for r in check(spec, ledger, NO_LATENCY, processed=processed) if r.name == "delivered"]
    return result


def ledger_for(delivered: Any, n: int) -> Ledger:
    spec = DeliveredSpec.model_validate(delivered)
    made = Ledger(ends=[e.label for e in spec.ends], mode=spec.mode)
    for i in range(n):
        made.add(f"e{i}")
    return made


@pytest.mark.parametrize(
    ("end", "where"),
    [
        ({"bucket": "out", "correlate": "id"}, "s3://out"),
        ({"queue": "q", "correlate": "id"}, "queue q"),
        ({"stream": "s", "correlate": "id"}, "stream s"),
        ({"topic": "t", "correlate": "id"}, "topic t"),
        ({"table": "orders", "key": "id"}, "table orders"),
        ({"processed_by": "f"}, "processed by f"),
    ],
)
def test_each_end_kind_passes_when_reached_and_fails_when_not(end: dict[str, str], where: str) -> None:
    made = ledger_for(end, 3)
    made.reached(0, 1.0)
    made.reached(1, 1.0)
    failed = delivered_result(end, made)
    assert (failed.passed, failed.expected, failed.actual, failed.detail) == (
        False, f"3 events in {where} (the rest)", 2, "1 missing")
    assert failed.near_misses == [{"id" if "processed_by" not in end else "event": "e2"}]
    made.reached(2, 1.0)
    passed = delivered_result(end, made)
    assert (passed.passed, passed.actual, passed.detail, passed.near_misses) == (True, 3, "", [])


TWO = [{"bucket": "out", "correlate": "id"}, {"processed_by": "f"}]


def test_mode_all_needs_every_end_and_names_what_each_end_saw() -> None:
    made = ledger_for(TWO, 2)
    made.reached(0, 1.0, 0)
    made.reached(0, 1.0, 1)
    made.reached(1, 1.0, 1)
    result = delivered_result(TWO, made)
    assert (result.passed, result.actual) == (False, 1)
    assert result.expected == "2 events at s3://out and processed by f (the rest)"
    assert result.detail == "1 missing; reached: bucket/out 1, processed_by/f 2"


def test_mode_any_needs_one_end() -> None:
    spec = {"ends": TWO, "mode": "any"}
    made = ledger_for(spec, 2)
    made.reached(0, 1.0, 0)
    made.reached(1, 1.0, 1)
    result = delivered_result(spec, made)
    assert (result.passed, result.actual) == (True, 2)
    assert result.expected == "2 events at s3://out or processed by f (the rest)"
    assert result.detail == "reached: bucket/out 1, processed_by/f 1"


BUCKET = {"bucket": "out", "correlate": "id"}


def test_nothing_reached_but_processed_suggests_processed_by_the_busiest_function() -> None:
    result = delivered_result(BUCKET, ledger_for(BUCKET, 4), processed={"idle": 0, "z": 1, "b": 3})
    assert result.detail == ("4 missing; 3 events were processed by b successfully but none reached s3://out: "
                             "did you mean `processed_by: b`?")


def test_the_hint_names_every_end_nothing_reached() -> None:
    spec = {"ends": [BUCKET, {"queue": "q", "correlate": "id"}], "mode": "any"}
    result = delivered_result(spec, ledger_for(spec, 2), processed={"f": 2})
    assert result.detail.endswith("2 events were processed by f successfully but none reached s3://out or queue q: "
                                  "did you mean `processed_by: f`?")


@pytest.mark.parametrize(
    ("spec", "reach", "processed"),
    [
        (BUCKET, 0, None),  # not a driven backend: nothing known
        (BUCKET, 0, {"f": 0}),  # nothing processed either
        (BUCKET, 1, {"f": 4}),  # something did reach the end
        ([BUCKET, {"processed_by": "f"}], 0, {"f": 4}),  # processed_by already there
    ],
)
def test_no_hint_unless_everything_was_processed_and_nothing_reached(
    spec: Any, reach: int, processed: dict[str, int] | None
) -> None:
    made = ledger_for(spec, 4)
    for i in range(reach):
        made.reached(i, 1.0)
    assert "did you mean" not in delivered_result(spec, made, processed).detail


def test_no_hint_when_nothing_is_lost() -> None:
    made = ledger_for(BUCKET, 1)
    made.filter_out(0)
    result = delivered_result(BUCKET, made, processed={"f": 1})
    assert result.passed and result.detail == ""
