"""Turns what the pipeline wrote (output objects, dead-letter messages) into ledger entries."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from emulator.observe.ledger import DeadLetter, Ledger
from emulator.observe.outputs import ObjectFeed, QueueMessage, QueueWatcher, parse_records


def _json(text: Any) -> Any:
    if not isinstance(text, str | bytes):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def explain_dead_letter(message: QueueMessage, ledger: Ledger, correlate: str | None) -> DeadLetter:
    """Which events a dead-letter message stands for.

    Kinesis on-failure records name a shard and a sequence range; SQS redrive keeps the original body;
    SNS wraps either in a Notification envelope.
    """
    body = _json(message.body)
    if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
        body = _json(body["Message"])
    letter = DeadLetter(queue=message.queue, body=body, sent=message.sent)
    if isinstance(body, dict) and "KinesisBatchInfo" in body:
        info = body["KinesisBatchInfo"]
        letter.event_indexes = ledger.in_range(
            info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"]
        )
        letter.condition = body.get("requestContext", {}).get("condition")
        letter.batch_size = info.get("batchSize")
    elif isinstance(body, dict) and correlate and correlate in body:
        index = ledger.index_of(str(body[correlate]))
        letter.event_indexes = [index] if index is not None else []
    return letter


class Collector:
    def __init__(
        self,
        ledger: Ledger,
        *,
        correlate: str | None,
        feed: ObjectFeed | None,
        dead_letter_queues: list[QueueWatcher],
        output_check: Callable[[Any], str | None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.correlate = correlate
        self.feed = feed
        self.queues = dead_letter_queues
        self.objects_seen = 0
        self.records_seen = 0
        self.output_check = output_check
        self.output_violations: list[dict[str, Any]] = []
        self.output_violation_count = 0

    def poll(self) -> int:
        """Read everything new; returns how many new things were seen."""
        seen = 0
        if self.feed is not None:
            for arrival in self.feed.drain():
                self.objects_seen += 1
                seen += 1
                for record in parse_records(arrival.body):
                    self.records_seen += 1
                    if self.output_check is not None:
                        problem = self.output_check(record)
                        if problem is not None:
                            self.output_violation_count += 1
                            if len(self.output_violations) < 5:
                                violation = {"key": arrival.key, "problem": problem, "record": record}
                                self.output_violations.append(violation)
                    if self.correlate and isinstance(record, dict) and self.correlate in record:
                        self.ledger.delivered(str(record[self.correlate]), arrival.arrived)
                    else:
                        self.ledger.unmatched_outputs += 1
        for watcher in self.queues:
            for message in watcher.drain():
                seen += 1
                self.ledger.dead_lettered(explain_dead_letter(message, self.ledger, self.correlate))
        return seen

    def wait(self, timeout: float) -> None:
        if self.feed is not None:
            self.feed.wait(timeout)
