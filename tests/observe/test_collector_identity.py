"""Dead-letter messages and outputs matched to events by the source's identity first: a Kinesis on-failure record
by its stream, shard and sequence range, a message SQS moved to its dead-letter queue by its message id (any
body), else by the correlate field; outputs reach the end their feed watches."""

from __future__ import annotations

import json

from emulator.observe.collector import Collector, explain_dead_letter, stream_name
from emulator.observe.ledger import Ledger
from emulator.observe.outputs import ObjectArrival, QueueMessage

DLQ = "http://127.0.0.1:5000/123456789012/dlq"


def message(body: str, message_id: str = "m-0") -> QueueMessage:
    return QueueMessage(queue=DLQ, message_id=message_id, body=body, sent=9.0, attributes={})


def test_stream_name_from_arn() -> None:
    assert stream_name("arn:aws:kinesis:us-east-1:123456789012:stream/pay-ments") == "pay-ments"


def test_on_failure_record_names_events_of_its_own_stream_only() -> None:
    ledger = Ledger()
    for key in ("a", "b", "c"):
        ledger.add(key)
    ledger.locate(0, "shardId-0", "5", stream="one")
    ledger.locate(1, "shardId-0", "5", stream="two")
    ledger.locate(2, "shardId-0", "6", stream="two")
    body = {"requestContext": {"condition": "RetryAttemptsExhausted"}, "KinesisBatchInfo": {
        "shardId": "shardId-0", "startSequenceNumber": "5", "endSequenceNumber": "6", "batchSize": 2,
        "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/two"}}
    letter = explain_dead_letter(message(json.dumps(body)), ledger, "id")
    assert letter.event_indexes == [1, 2] and letter.condition == "RetryAttemptsExhausted" and letter.batch_size == 2


def test_a_redriven_sqs_message_is_found_by_its_message_id_whatever_its_body() -> None:
    ledger = Ledger()
    ledger.add("a")
    ledger.add("b")
    ledger.identify(1, "sqs:m-1")
    letter = explain_dead_letter(message("\x00not json{", "m-1"), ledger, "id")
    assert letter.event_indexes == [1] and letter.body == "\x00not json{" and letter.batch_size is None
    ledger.dead_lettered(letter)
    assert ledger.fate(1) == "dead_lettered"


def test_the_message_id_wins_over_the_body_and_the_body_is_the_fallback() -> None:
    ledger = Ledger()
    ledger.add("a")
    ledger.add("b")
    ledger.identify(0, "sqs:m-0")
    assert explain_dead_letter(message('{"id": "b"}', "m-0"), ledger, "id").event_indexes == [0]
    assert explain_dead_letter(message('{"id": "b"}', "m-9"), ledger, "id").event_indexes == [1]
    assert explain_dead_letter(message('{"id": "zz"}', "m-9"), ledger, "id").event_indexes == []
    assert explain_dead_letter(message("plain", "m-9"), ledger, "id").event_indexes == []


class Feed:
    def __init__(self, *bodies: bytes) -> None:
        self.items = [ObjectArrival("b", f"k{i}", body, 3.0) for i, body in enumerate(bodies)]
        self.waited: list[float] = []

    def drain(self) -> list[ObjectArrival]:
        items, self.items = self.items, []
        return items

    def wait(self, timeout: float) -> None:
        self.waited.append(timeout)


def test_each_feed_reaches_its_own_end() -> None:
    ledger = Ledger(ends=("bucket/a", "bucket/b"))
    ledger.add("x")
    ledger.add("y")
    first, second = Feed(b'{"id": "x"}'), Feed(b'{"id": "x"}\n{"id": "y"}\n{"no": 1}')
    collector = Collector(ledger, correlate="id", feeds=[(0, first), (1, second)], dead_letter_queues=[])
    assert collector.poll() == 2 and collector.records_seen == 4 and ledger.unmatched_outputs == 1
    assert ledger.reached_counts() == {"bucket/a": 1, "bucket/b": 2}
    assert ledger.fate(0) == "delivered" and ledger.fate(1) == "lost"
    collector.wait(0.25)
    assert first.waited == [0.25] and second.waited == []


def test_without_feeds_wait_still_sleeps(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Only processed_by ends: nothing to wake on, so the settle loop must not spin."""
    import emulator.observe.collector as module

    slept: list[float] = []
    monkeypatch.setattr(module.time, "sleep", slept.append)
    Collector(Ledger(), correlate=None, feeds=[], dead_letter_queues=[]).wait(0.05)
    assert slept == [0.05]
