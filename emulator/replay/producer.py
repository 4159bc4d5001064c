"""Putting events into the pipeline's source at a rate, recording when and where each one went.

Kinesis: PutRecords batches (up to 500 records / 5 MiB). Records a batch rejects
(ProvisionedThroughputExceededException, InternalFailure) are retried with exponential backoff as the AWS SDK's
retry handlers do; an event that cannot be put after all attempts is recorded as not sent, never dropped
silently. SQS: SendMessageBatch of up to 10.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from emulator.errors import HarnessError
from emulator.observe.ledger import Ledger
from emulator.replay.generate import GeneratedEvent
from emulator.replay.rates import Schedule

MAX_ATTEMPTS = 8
_REQUEST_REJECTED = ("ValidationException", "InvalidArgumentException")
BASE_BACKOFF_S = 0.025


@dataclass(frozen=True)
class ReplayStats:
    sent: int
    failed: int
    asked_rate: float | None
    asked: str
    achieved_rate: float
    duration_s: float
    started: float
    finished: float
    cut_short: str | None = None  # why the run's deadline stopped it before its last event


class Producer(Protocol):
    max_batch: int

    def send(self, batch: list[tuple[int, GeneratedEvent]], ledger: Ledger) -> int:
        """Send a batch; record send time (and position) in the ledger; return how many failed for good."""
        ...


class KinesisProducer:
    max_batch = 500
    max_bytes = 5 * 1024 * 1024

    def __init__(
        self, kinesis_client: Any, stream_name: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._client = kinesis_client
        self._stream = stream_name
        self._sleep = sleep
        self.throttled = 0

    def send(self, batch: list[tuple[int, GeneratedEvent]], ledger: Ledger) -> int:
        try:
            return self._send(batch, ledger)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in _REQUEST_REJECTED or len(batch) == 1:
                if len(batch) == 1 and exc.response["Error"]["Code"] in _REQUEST_REJECTED:
                    error = exc.response["Error"]
                    ledger.mark_rejected(batch[0][0], f"{error['Code']}: {error.get('Message', '')}")
                    return 0
                raise
        # One bad record fails the whole PutRecords request, as on AWS: find it by putting one at a time.
        return sum(self.send([item], ledger) for item in batch)

    def _send(self, batch: list[tuple[int, GeneratedEvent]], ledger: Ledger) -> int:
        pending = batch
        for attempt in range(MAX_ATTEMPTS):
            entries = [{"Data": e.payload, "PartitionKey": e.partition_key} for _, e in pending]
            started = time.time()
            response = self._client.put_records(StreamName=self._stream, Records=entries)
            retry: list[tuple[int, GeneratedEvent]] = []
            for (index, event), result in zip(pending, response["Records"], strict=True):
                if "ErrorCode" in result:
                    retry.append((index, event))
                    continue
                ledger.mark_sent(index, started)
                ledger.locate(index, result["ShardId"], result["SequenceNumber"], stream=self._stream)
            if not retry:
                return 0
            self.throttled += len(retry)
            pending = retry
            self._sleep(BASE_BACKOFF_S * 2**attempt)
        return len(pending)


class SqsProducer:
    max_batch = 10
    max_bytes = 256 * 1024

    def __init__(self, sqs_client: Any, queue_url: str, *, fifo: bool = False) -> None:
        self._client = sqs_client
        self._url = queue_url
        self._fifo = fifo

    def send(self, batch: list[tuple[int, GeneratedEvent]], ledger: Ledger) -> int:
        pending = batch
        for attempt in range(MAX_ATTEMPTS):
            entries = []
            for index, event in pending:
                entry: dict[str, Any] = {"Id": str(index), "MessageBody": event.payload.decode()}
                if self._fifo:
                    entry["MessageGroupId"] = event.partition_key
                    entry["MessageDeduplicationId"] = str(index)
                entries.append(entry)
            started = time.time()
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=entries)
            failed_ids = {f["Id"] for f in response.get("Failed", [])}
            for done in response.get("Successful", []):  # the message id: the event's identity downstream
                ledger.identify(int(done["Id"]), f"sqs:{done['MessageId']}")
            for index, _ in pending:
                if str(index) not in failed_ids:
                    ledger.mark_sent(index, started)
            pending = [(i, e) for i, e in pending if str(i) in failed_ids]
            if not pending:
                return 0
            time.sleep(BASE_BACKOFF_S * 2**attempt)
        return len(pending)


class S3Producer:
    """Each event becomes an object (``events/<index>.json``) in a bucket, for pipelines triggered by S3
    notifications."""

    max_batch = 1
    max_bytes = 5 * 1024**3

    def __init__(self, s3_client: Any, bucket: str, prefix: str = "events/") -> None:
        self._client = s3_client
        self._bucket = bucket
        self._prefix = prefix

    def send(self, batch: list[tuple[int, GeneratedEvent]], ledger: Ledger) -> int:
        for index, event in batch:
            started = time.time()
            key = f"{self._prefix}{index:09d}.json"
            self._client.put_object(Bucket=self._bucket, Key=key, Body=event.payload)
            ledger.mark_sent(index, started)
            ledger.identify(index, f"s3:{self._bucket}/{key}")
        return 0


def merge_stats(parts: list[ReplayStats]) -> ReplayStats:
    """One figure for several sources replayed side by side."""
    if len(parts) == 1:
        return parts[0]
    started = min(p.started for p in parts)
    finished = max(p.finished for p in parts)
    duration = max(p.duration_s for p in parts)
    sent = sum(p.sent for p in parts)
    return ReplayStats(
        sent=sent, failed=sum(p.failed for p in parts), asked_rate=None,
        asked=" + ".join(p.asked for p in parts), achieved_rate=sent / duration if duration > 0 else 0.0,
        duration_s=duration, started=started, finished=finished,
        cut_short="; ".join(p.cut_short for p in parts if p.cut_short) or None,
    )


def _batches(
    events: Iterator[tuple[float | None, GeneratedEvent]],
    producer: Producer,
    add: Callable[[GeneratedEvent], int],
    pause: Callable[[float], bool],
) -> Iterator[list[tuple[int, GeneratedEvent]]]:
    """Group events into batches, holding each event until its due time (monotonic; None: now) with ``pause``,
    which returns True when the replay is to stop instead. An event joins the ledger (``add``) when it joins a
    batch, so an event never sent is not in the ledger."""
    max_bytes = getattr(producer, "max_bytes", 5 * 1024 * 1024)
    batch: list[tuple[int, GeneratedEvent]] = []
    size = 0
    for due, event in events:
        if due is not None:
            now = time.monotonic()
            if due > now:
                if batch:
                    yield batch
                    batch, size = [], 0
                    now = time.monotonic()
                if due > now and pause(due - now):  # pacing the producer, not waiting for the pipeline
                    return
        record_size = len(event.payload) + len(event.partition_key)
        if batch and (len(batch) >= producer.max_batch or size + record_size > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append((add(event), event))
        size += record_size
    if batch:
        yield batch


def replay(
    events: Iterable[GeneratedEvent],
    producer: Producer,
    ledger: Ledger,
    *,
    key_of: Callable[[GeneratedEvent], str],
    schedule: Schedule,
    on_progress: Callable[[int], None] | None = None,
    keep_partition_keys: bool = False,
    deadline: float = math.inf,
    stop: threading.Event | None = None,
) -> ReplayStats:
    """Send ``events`` at the schedule's pace, due times counted from this source's start. At ``deadline``
    (monotonic), or once ``stop`` is set, it stops: no event is generated after it or sent whose due time is past
    it, and the stats say the replay was cut short."""
    started_wall = time.time()
    t0 = time.monotonic()
    sent = failed = 0
    cut_short: str | None = None

    if keep_partition_keys:
        ledger.partition_keys = []

    def due_times() -> Iterator[tuple[float | None, GeneratedEvent]]:
        nonlocal cut_short
        for event in events:
            # Paced by the index the event is about to get in the ledger, as before the deadline was checked
            # here (with additional sources sharing the ledger, that is not this source's own position).
            offset = schedule.offset(len(ledger.keys), event.offset)
            due = None if offset is None else t0 + offset
            if stop is not None and stop.is_set():
                cut_short = "the run stopped"
                return
            if time.monotonic() >= deadline:
                cut_short = "the time ran out"
                return
            if due is not None and due >= deadline:  # stopping now, the pipeline has the time left to settle
                cut_short = f"at its rate the next event was due {due - deadline:.1f}s after the time runs out"
                return
            yield due, event

    def pause(seconds: float) -> bool:
        nonlocal cut_short
        if stop is None:
            time.sleep(seconds)
            return False
        if stop.wait(seconds):
            cut_short = "the run stopped"
            return True
        return False

    def add(event: GeneratedEvent) -> int:
        return ledger.add(key_of(event), fault=event.fault, partition_key=event.partition_key)

    for batch in _batches(due_times(), producer, add, pause):
        try:
            lost = producer.send(batch, ledger)
        except Exception as exc:
            raise HarnessError(f"putting events into the source failed after {sent} events: {exc}") from exc
        failed += lost
        sent += len(batch) - lost
        if on_progress is not None:
            on_progress(sent)
    duration = max(time.monotonic() - t0, 1e-9)
    return ReplayStats(
        sent=sent,
        failed=failed,
        asked_rate=schedule.spec.per_second if schedule.spec is not None else None,
        asked=schedule.describe(),
        achieved_rate=sent / duration,
        duration_s=duration,
        started=started_wall,
        finished=time.time(),
        cut_short=cut_short,
    )
