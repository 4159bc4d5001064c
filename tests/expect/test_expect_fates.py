"""Fates per fault class, counts per fate, output content, order per partition key and dead-letter fields:
each expectation's pass and fail against hand-built ledgers, with exactly what a user reads."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.expect.checks import ExpectationResult
from emulator.expect.fates import (
    _within,
    check_counts,
    check_dead_letter_fields,
    check_fates,
    check_order,
    check_outputs,
)
from emulator.observe.ledger import DeadLetter, FateCounts, Ledger
from emulator.spec.expectations import Bounds, CountsSpec, FatesSpec, OrderSpec, OutputsSpec
from emulator.spec.scenario import DeadLettersSpec

DLQ = "http://127.0.0.1:5000/123456789012/dlq"


def faulty_ledger() -> Ledger:
    """e0 clean delivered, e1 malformed dead-lettered, e2 missing-field delivered (wrong), e3 late filtered,
    e4 clean lost (dropped with a reason), e5 oversize rejected, e6 a duplicate copy of e0, e7 e2 sent again."""
    ledger = Ledger()
    for key, fault in (("e0", None), ("e1", "poison:malformed_json"), ("e2", "poison:missing_field"),
                       ("e3", "late"), ("e4", None), ("e5", "poison:oversize"), ("e0", "duplicate"), ("e2", None)):
        ledger.add(key, fault=fault)
    ledger.delivered("e0", 1.0)
    ledger.dead_lettered(DeadLetter(queue=DLQ, body={}, sent=1.0, event_indexes=[1]))
    ledger.delivered("e2", 1.0)
    ledger.mark_filtered("e3")
    ledger.mark_dropped("e4", "discarded (RecordAgeExceeded)")
    ledger.mark_rejected(5, "ValidationException: too big")
    return ledger


def fates(**rules: Any) -> list[ExpectationResult]:
    return check_fates(FatesSpec.model_validate(rules), faulty_ledger())


def test_fates_pass_when_every_member_of_the_class_ended_as_allowed() -> None:
    assert fates(late="filtered", **{"poison:malformed_json": "dead_lettered"}) == [
        ExpectationResult(name="fates.late", passed=True, expected="all 1 late events filtered", actual="1 of 1"),
        ExpectationResult(name="fates.poison:malformed_json", passed=True,
                          expected="all 1 poison:malformed_json events dead_lettered", actual="1 of 1"),
    ]


def test_fates_of_a_class_fail_naming_the_events_that_ended_otherwise() -> None:
    [result] = fates(poison=["dead_lettered", "filtered"])
    assert result == ExpectationResult(
        name="fates.poison", passed=False, expected="all 3 poison events dead_lettered or filtered",
        actual="1 of 3", detail="2 ended otherwise",
        near_misses=[
            {"event": "e2", "fault": "poison:missing_field", "fate": "delivered", "why": None},
            {"event": "e5", "fault": "poison:oversize", "fate": "rejected", "why": "ValidationException: too big"},
        ],
    )


@pytest.mark.parametrize(("allowed", "passed"), [("delivered", True), ("dead_lettered", False)])
def test_a_duplicate_copy_is_judged_by_its_original(allowed: str, passed: bool) -> None:
    [result] = fates(duplicate=allowed)
    assert result == ExpectationResult(
        name="fates.duplicate", passed=passed, expected=f"all 1 duplicate events {allowed}",
        actual="1 of 1" if passed else "0 of 1", detail="" if passed else "1 ended otherwise",
        near_misses=[] if passed else [{"event": "e0", "fault": "duplicate", "fate": "delivered", "why": None}],
    )


def test_a_copy_of_a_lost_event_is_lost_with_its_reason() -> None:
    ledger = Ledger()
    ledger.add("a")
    ledger.add("a", fault="duplicate")
    ledger.mark_dropped("a", "discarded")
    ledger.mark_rejected(1, "the copy's own mark does not count")
    [result] = check_fates(FatesSpec.model_validate({"duplicate": "delivered"}), ledger)
    assert result.near_misses == [{"event": "a", "fault": "duplicate", "fate": "lost", "why": "discarded"}]


def test_clean_events_are_those_without_a_fault_and_copies_end_as_their_original() -> None:
    # e7 is clean and a copy of e2, which was delivered: it counts as delivered
    [result] = fates(clean="delivered")
    assert result == ExpectationResult(
        name="fates.clean", passed=False, expected="all 3 clean events delivered", actual="2 of 3",
        detail="1 ended otherwise",
        near_misses=[{"event": "e4", "fault": None, "fate": "lost", "why": "discarded (RecordAgeExceeded)"}],
    )


def test_fates_of_an_empty_class_pass_saying_there_were_none() -> None:
    ledger = Ledger()
    ledger.add("a")
    ledger.delivered("a", 1.0)
    [result] = check_fates(FatesSpec.model_validate({"poison": "dead_lettered"}), ledger)
    assert (result.passed, result.expected, result.actual) == (True, "all 0 poison events dead_lettered", "0 of 0")


def test_fates_show_five_wrong_events_at_most() -> None:
    ledger = Ledger()
    for i in range(7):
        ledger.add(f"p{i}", fault="poison:malformed_json")
    [result] = check_fates(FatesSpec.model_validate({"poison": "dead_lettered"}), ledger)
    assert [m["event"] for m in result.near_misses] == ["p0", "p1", "p2", "p3", "p4"]
    assert result.detail == "7 ended otherwise" and result.actual == "0 of 7"


# -- counts -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bound", "value", "ok", "wanted"),
    [
        (3, 3, True, "== 3"), (3, 2, False, "== 3"), (3, 4, False, "== 3"),
        (Bounds(min=2), 2, True, ">= 2"), (Bounds(min=2), 1, False, ">= 2"),
        (Bounds(max=2), 2, True, "<= 2"), (Bounds(max=2), 3, False, "<= 2"),
        (Bounds(min=1, max=3), 0, False, ">= 1 and <= 3"), (Bounds(min=1, max=3), 1, True, ">= 1 and <= 3"),
        (Bounds(min=1, max=3), 3, True, ">= 1 and <= 3"), (Bounds(min=1, max=3), 4, False, ">= 1 and <= 3"),
        (Bounds(), 9, True, "any"),
    ],
)
def test_within_a_count_or_bounds(bound: int | Bounds, value: int, ok: bool, wanted: str) -> None:
    assert _within(value, bound) == (ok, wanted)


COUNTS = FateCounts(sent=20, delivered=11, dead_lettered=2, filtered=3, lost=0, duplicates=4, rejected=1,
                    duplicated=3)


def test_counts_check_each_fate_given_and_redelivered_is_the_duplicates() -> None:
    spec = CountsSpec.model_validate({"delivered": 11, "dead_lettered": {"min": 3}, "filtered": {"max": 3},
                                      "rejected": {"min": 1, "max": 1}, "duplicated": 2, "redelivered": 4})
    assert check_counts(spec, COUNTS) == [
        ExpectationResult(name="counts.delivered", passed=True, expected="== 11", actual=11),
        ExpectationResult(name="counts.dead_lettered", passed=False, expected=">= 3", actual=2),
        ExpectationResult(name="counts.filtered", passed=True, expected="<= 3", actual=3),
        ExpectationResult(name="counts.rejected", passed=True, expected=">= 1 and <= 1", actual=1),
        ExpectationResult(name="counts.duplicated", passed=False, expected="== 2", actual=3),
        ExpectationResult(name="counts.redelivered", passed=True, expected="== 4", actual=4),
    ]


def test_counts_check_nothing_not_given() -> None:
    assert check_counts(CountsSpec(), COUNTS) == []


# -- outputs ------------------------------------------------------------------------------------------------
def test_outputs_pass_when_every_record_seen_conforms() -> None:
    spec = OutputsSpec(contains={"source": "web"}, fields=["domain", "geo.country"])
    assert check_outputs(spec, [], 0, 5) == ExpectationResult(
        name="outputs", passed=True,
        expected="every output record contains {'source': 'web'} and has domain and has geo.country",
        actual="5 of 5 records",
    )


def test_outputs_fail_with_the_records_that_do_not() -> None:
    violations = [{"key": "k1", "problem": "has no 'domain'", "record": {"id": 1}}]
    assert check_outputs(OutputsSpec(fields=["domain"]), violations, 2, 5) == ExpectationResult(
        name="outputs", passed=False, expected="every output record has domain", actual="3 of 5 records",
        detail="2 records do not", near_misses=violations,
    )


def test_outputs_pass_with_a_single_conforming_record() -> None:
    assert check_outputs(OutputsSpec(fields=["a"]), [], 0, 1).passed


def test_outputs_fail_when_no_record_was_seen() -> None:
    assert check_outputs(OutputsSpec(contains={"a": 1}), [], 0, 0) == ExpectationResult(
        name="outputs", passed=False, expected="every output record contains {'a': 1}", actual="0 of 0 records",
        detail="no output record was seen",
    )


# -- order --------------------------------------------------------------------------------------------------
def ordered(partition_keys: list[str], delivered: list[int], located: dict[int, int] | None = None) -> Ledger:
    """Events e0.. with these partition keys, first delivered in the order ``delivered`` lists them; ``located``:
    event -> sequence number on one shard."""
    ledger = Ledger()
    ledger.partition_keys = []
    for i, key in enumerate(partition_keys):
        ledger.add(f"e{i}", partition_key=key)
    for i, seq in (located or {}).items():
        ledger.locate(i, "shardId-0", str(seq))
    for i in delivered:
        ledger.delivered(f"e{i}", 1.0)
    return ledger


def test_order_passes_when_each_key_is_delivered_in_send_order() -> None:
    # keys interleave, and e4 is never delivered: only what arrived is compared
    ledger = ordered(["a", "b", "a", "b", "a"], delivered=[1, 0, 3, 2])
    assert check_order(OrderSpec(), ledger) == ExpectationResult(
        name="order.per_partition_key", passed=True,
        expected="events of each partition key delivered in the order the source accepted them",
        actual="0 out of order among 4 delivered events in 2 keys",
    )


def test_order_fails_naming_the_event_delivered_too_early() -> None:
    ledger = ordered(["a", "a", "a", "b"], delivered=[0, 2, 1, 3])
    result = check_order(OrderSpec(), ledger)
    assert (result.passed, result.actual) == (False, "1 out of order among 4 delivered events in 2 keys")
    assert result.near_misses == [{"partition_key": "a", "event": "e2", "delivered_before": "e1"}]


def test_order_follows_sequence_numbers_where_the_stream_knows_them() -> None:
    # e0's put was retried and landed after e1 (sequence 20 > 10), so e1 first is right
    ledger = ordered(["a", "a"], delivered=[1, 0], located={0: 20, 1: 10})
    assert check_order(OrderSpec(), ledger).passed
    assert not check_order(OrderSpec(), ordered(["a", "a"], delivered=[1, 0], located={0: 10, 1: 20})).passed


def test_order_leaves_out_duplicate_copies() -> None:
    ledger = ordered(["a", "a", "a"], delivered=[])
    ledger.add("e0", partition_key="a")  # e0 again, after e2
    for i in (0, 1, 2):
        ledger.delivered(f"e{i}", 1.0)
    result = check_order(OrderSpec(), ledger)
    assert (result.passed, result.actual) == (True, "0 out of order among 3 delivered events in 1 keys")


def test_order_shows_five_events_at_most() -> None:
    ledger = ordered(["a"] * 7, delivered=[6, 5, 4, 3, 2, 1, 0])
    result = check_order(OrderSpec(), ledger)
    assert result.actual == "6 out of order among 7 delivered events in 1 keys" and len(result.near_misses) == 5


def test_order_without_partition_keys_checks_nothing() -> None:
    ledger = Ledger()
    ledger.add("a")
    ledger.delivered("a", 1.0)
    result = check_order(OrderSpec(), ledger)
    assert (result.passed, result.actual) == (True, "0 out of order among 0 delivered events in 0 keys")


# -- dead-letter fields ---------------------------------------------------------------------------------------
def letters(*shapes: tuple[str | None, int | None], queue: str = DLQ) -> Ledger:
    ledger = Ledger()
    for n, (condition, batch_size) in enumerate(shapes):
        ledger.dead_lettered(DeadLetter(queue=queue, body={"n": n}, sent=1.0, condition=condition,
                                        batch_size=batch_size))
    return ledger


def test_dead_letter_fields_pass_when_every_message_has_them() -> None:
    spec = DeadLettersSpec(queue="dlq", condition="RetryAttemptsExhausted", batch_size=1)
    ledger = letters(("RetryAttemptsExhausted", 1), ("RetryAttemptsExhausted", 1))
    assert check_dead_letter_fields(spec, ledger) == [
        ExpectationResult(name="dead_letters[dlq].condition", passed=True,
                          expected="every message RetryAttemptsExhausted", actual=["RetryAttemptsExhausted"]),
        ExpectationResult(name="dead_letters[dlq].batch_size", passed=True, expected="every message batchSize 1",
                          actual=["1"]),
    ]


def test_dead_letter_fields_fail_naming_the_messages_that_differ() -> None:
    spec = DeadLettersSpec(queue="dlq", batch_size=1)
    ledger = letters((None, 1), (None, 3), (None, 2), (None, 3), (None, 4), (None, 1))
    assert check_dead_letter_fields(spec, ledger) == [
        ExpectationResult(name="dead_letters[dlq].batch_size", passed=False, expected="every message batchSize 1",
                          actual=["1", "2", "3", "4"], near_misses=[{"n": 1}, {"n": 2}, {"n": 3}]),
    ]


def test_dead_letter_fields_fail_when_the_queue_got_no_message() -> None:
    spec = DeadLettersSpec(queue="dlq", condition="RecordAgeExceeded")
    ledger = letters(("RecordAgeExceeded", 1), queue=DLQ.replace("/dlq", "/elsewhere"))
    assert check_dead_letter_fields(spec, ledger) == [
        ExpectationResult(name="dead_letters[dlq].condition", passed=False, expected="every message RecordAgeExceeded",
                          actual=[]),
    ]


def test_dead_letter_fields_check_nothing_not_given() -> None:
    assert check_dead_letter_fields(DeadLettersSpec(queue="dlq", count=1), letters((None, None))) == []
