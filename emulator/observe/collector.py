"""Turns what the pipeline wrote (output objects, dead-letter messages) into ledger entries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from emulator.observe.ledger import DeadLetter, Ledger
from emulator.observe.outputs import ObjectArrival, ObjectFeed, QueueMessage, QueueWatcher, parse_records


def _json(text: Any) -> Any:
    if not isinstance(text, str | bytes):
        return text
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # nested past the parser's depth: kept as text, like any non-JSON body
        return text


@runtime_checkable
class CatchUp(Protocol):
    """A feed that reads at its own pace and can be asked to read on the next ``drain``."""

    def catch_up(self) -> None: ...


def stream_name(arn: str) -> str:
    """``NAME`` of ``arn:aws:kinesis:REGION:ACCOUNT:stream/NAME``; ``NAME/stream/LABEL`` of a DynamoDB stream's
    ``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`` (a label is a time, with colons)."""
    resource = arn.split(":", 5)[5] if arn.count(":") >= 5 else arn
    return resource.split("/", 1)[-1]


def explain_dead_letter(message: QueueMessage, ledger: Ledger, correlate: str | None) -> DeadLetter:
    """Which events a dead-letter message stands for, by the source's identity first.

    Kinesis and DynamoDB Streams on-failure records name a stream, shard and sequence range; a message SQS moved
    to its dead-letter queue (redrive policy) keeps its message id, so any body is matched, JSON or not; SNS wraps
    either in a Notification envelope. Else the body's ``correlate`` field names the event.
    """
    body = _json(message.body)
    if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
        body = _json(body["Message"])
    letter = DeadLetter(queue=message.queue, body=body, sent=message.sent)
    moved = ledger.by_identity(f"sqs:{message.message_id}")
    info_key = next((k for k in ("KinesisBatchInfo", "DDBStreamBatchInfo") if isinstance(body, dict) and k in body),
                    None)
    if isinstance(body, dict) and info_key is not None:
        info = body[info_key]
        letter.event_indexes = ledger.in_range(
            info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"],
            stream=stream_name(str(info.get("streamArn", ""))),
        )
        letter.condition = body.get("requestContext", {}).get("condition")
        letter.batch_size = info.get("batchSize")
    elif moved is not None:
        letter.event_indexes = [moved]
    elif isinstance(body, dict) and correlate and correlate in body:
        index = ledger.index_of(str(body[correlate]))
        letter.event_indexes = [index] if index is not None else []
    return letter


class Collector:
    """``feeds``: (end number in the ledger, feed of what arrives there) per end that is watched by reading it;
    ``processed_by`` ends are told by the mappings instead (the runner's observer)."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        correlate: str | None,
        feeds: list[tuple[int, ObjectFeed]],
        dead_letter_queues: list[QueueWatcher],
        output_check: Callable[[Any], str | None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.correlate = correlate
        self.feeds = feeds
        self.queues = dead_letter_queues
        self.objects_seen = 0
        self.records_seen = 0
        self.output_check = output_check
        self.output_violations: list[dict[str, Any]] = []
        self.output_violation_count = 0

    def poll(self, *, catch_up: bool = False) -> int:
        """Read everything new; returns how many new things were seen. ``catch_up``: the pipeline went quiet, so
        feeds that read at a slower pace (a table's Scan) read now too."""
        seen = 0
        for end, feed in self.feeds:
            if catch_up and isinstance(feed, CatchUp):
                feed.catch_up()
            for arrival in feed.drain():
                self.objects_seen += 1
                seen += 1
                for record in parse_records(arrival.body):
                    self._record(end, arrival, record)
        for watcher in self.queues:
            for message in watcher.drain():
                seen += 1
                self.ledger.dead_lettered(explain_dead_letter(message, self.ledger, self.correlate))
        return seen

    def _record(self, end: int, arrival: ObjectArrival, record: Any) -> None:
        self.records_seen += 1
        if self.output_check is not None:
            problem = self.output_check(record)
            if problem is not None:
                self.output_violation_count += 1
                if len(self.output_violations) < 5:
                    self.output_violations.append({"key": arrival.key, "problem": problem, "record": record})
        if self.correlate and isinstance(record, dict) and self.correlate in record:
            self.ledger.delivered(str(record[self.correlate]), arrival.arrived, end)
        else:
            self.ledger.unmatched_outputs += 1

    def wait(self, timeout: float) -> None:
        if self.feeds:
            self.feeds[0][1].wait(timeout)
        else:  # only processed_by ends: the mappings tell the ledger, nothing to wake on
            time.sleep(timeout)
