"""One ledger truth, judged on a ledger built by hand: dead letters that contradict deliveries, or mapping
statistics that claim more dead-lettered records than the queues hold, fail the run naming the events."""

from __future__ import annotations

from emulator.expect.agreement import dead_lettered_events, ledger_agreement
from emulator.observe.ledger import DeadLetter, Ledger

QUEUE = "http://127.0.0.1/123456789012/dlq"


def ledger_of(n: int) -> Ledger:
    ledger = Ledger()
    for i in range(n):
        ledger.add(f"e{i}", sent_at=1.0)
    return ledger


def letter(*indexes: int, batch_size: int | None = None) -> DeadLetter:
    return DeadLetter(queue=QUEUE, body={}, sent=2.0, event_indexes=list(indexes), batch_size=batch_size)


def contradicted(events: int, *, delivered: int, batch_size: int | None = None) -> Ledger:
    """``events`` events all in one dead letter, the first ``delivered`` of them delivered too."""
    ledger = ledger_of(events)
    for i in range(delivered):
        ledger.delivered(f"e{i}", 3.0)
    ledger.dead_lettered(letter(*range(events), batch_size=batch_size))
    return ledger


def test_dead_lettered_events_are_every_letter_s_events_or_only_the_stream_batches() -> None:
    ledger = ledger_of(5)
    ledger.dead_lettered(letter(0))  # an SQS redrive: one message, one event
    ledger.dead_lettered(letter(2, 3, batch_size=2))  # a stream on-failure record: a batch
    assert dead_lettered_events(ledger) == {0, 2, 3}
    assert dead_lettered_events(ledger, streams_only=True) == {2, 3}


def test_a_ledger_that_agrees_with_the_queues_and_the_mappings_passes() -> None:
    ledger = ledger_of(4)
    ledger.delivered("e0", 3.0)
    ledger.dead_lettered(letter(1, 2, batch_size=2))
    assert ledger_agreement(ledger, mapping_dead_lettered=2) is None
    assert ledger_agreement(ledger, mapping_dead_lettered=1) is None  # fewer is fine: the queues hold them
    assert ledger_agreement(ledger, mapping_dead_lettered=None) is None  # the backend cannot tell


def test_events_both_delivered_and_dead_lettered_fail_naming_the_first_five() -> None:
    # GIVEN 7 events delivered whose batch was then dead-lettered, and one only dead-lettered
    ledger = contradicted(8, delivered=7, batch_size=8)
    # WHEN the ledger is judged
    result = ledger_agreement(ledger, mapping_dead_lettered=8)
    # THEN it fails naming how many and which
    assert result is not None and result.passed is False
    assert result.name == "ledger agrees"
    assert result.actual == "7 delivered and dead-lettered"
    assert result.detail.startswith("7 events are both delivered and in a dead-letter queue (e0, e1, e2, e3, e4, ...)")
    assert "the stream mappings dead-lettered" not in result.detail
    assert result.near_misses == [f"e{i}" for i in range(7)]


def test_five_contradictions_are_all_named_without_an_ellipsis() -> None:
    ledger = contradicted(5, delivered=5)
    result = ledger_agreement(ledger, mapping_dead_lettered=None)
    assert result is not None
    # the whole detail: the user reads in it why an event can be both (the cause to look for in the handler)
    assert result.detail == (
        "5 events are both delivered and in a dead-letter queue (e0, e1, e2, e3, e4): the handler wrote their "
        "output, then its invocation failed (an error after the write, or a response Lambda cannot serialise), "
        "so the mapping dead-lettered the batch"
    )


def test_near_misses_name_at_most_twenty_events() -> None:
    ledger = contradicted(25, delivered=25, batch_size=25)
    result = ledger_agreement(ledger, mapping_dead_lettered=25)
    assert result is not None
    assert result.near_misses == [f"e{i}" for i in range(20)]


def test_mappings_that_dead_lettered_more_than_the_queues_hold_fail() -> None:
    # GIVEN stream mappings that say 3 records went to an on-failure queue, of which the queues hold 2 events
    ledger = ledger_of(4)
    ledger.dead_lettered(letter(0, 1, batch_size=2))
    ledger.dead_lettered(letter(2))  # an SQS redrive does not count for the stream mappings
    # WHEN the ledger is judged
    result = ledger_agreement(ledger, mapping_dead_lettered=3)
    # THEN it fails with both figures
    assert result is not None and not result.passed
    assert result.actual == "counts differ"
    assert result.detail == (
        "the stream mappings dead-lettered 3 records, the dead-letter queues hold 2 of this run's events"
    )
    assert result.near_misses == []
    assert ledger_agreement(ledger, mapping_dead_lettered=2) is None


def test_both_problems_are_reported_together() -> None:
    ledger = ledger_of(2)
    ledger.delivered("e0", 3.0)
    ledger.dead_lettered(letter(0, batch_size=1))
    result = ledger_agreement(ledger, mapping_dead_lettered=5)
    assert result is not None
    first, second = result.detail.split("; ")
    assert first.startswith("1 events are both delivered") and "(e0):" in first
    assert second == (
        "the stream mappings dead-lettered 5 records, the dead-letter queues hold 1 of this run's events"
    )
    assert result.expected == "each event delivered, dead-lettered or filtered, as the mappings and queues say"
