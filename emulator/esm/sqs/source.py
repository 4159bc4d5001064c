"""Reading an SQS queue, behind a small interface so the poller unit-tests without a server, and returning
messages to it on the emulated clock."""

from __future__ import annotations

import heapq
import json
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from emulator.clock import Clock
from emulator.esm.sqs.events import SqsMessage

log = logging.getLogger(__name__)

MAX_ENTRIES = 10  # per ReceiveMessage, DeleteMessageBatch and ChangeMessageVisibilityBatch call
_GONE_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})


@dataclass(frozen=True)
class QueueInfo:
    fifo: bool
    visibility_timeout_s: int
    max_receive_count: int | None = None
    """The RedrivePolicy's maxReceiveCount when the queue has a dead-letter queue, else None."""
    dead_letter_arn: str | None = None


class QueueGone(Exception):
    """The source queue does not exist (deleted, or the backend was reset under a live mapping)."""

    def __init__(self, queue_arn: str) -> None:
        self.queue_arn = queue_arn
        super().__init__(f"queue {queue_arn} does not exist")


class QueueSource(Protocol):
    def info(self) -> QueueInfo: ...

    def receive(self, max_messages: int) -> list[SqsMessage]:
        """Up to ``max_messages`` (<= 10) visible messages, without waiting (short polling)."""
        ...

    def delete(self, receipt_handles: Sequence[str]) -> None: ...

    def change_visibility(self, receipt_handles: Sequence[str], timeout_s: int) -> None: ...

    def outstanding(self) -> int:
        """Messages the queue still holds in any state: visible, in flight (not visible) or delayed. Zero
        only when everything sent has been deleted or moved to a dead-letter queue."""
        ...


class Boto3QueueSource:
    """``ReceiveMessage``/``DeleteMessageBatch``/``ChangeMessageVisibilityBatch`` through a boto3 SQS client.
    Every call raises :class:`QueueGone` when the queue does not exist."""

    def __init__(self, sqs_client: Any, queue_arn: str) -> None:
        self._client = sqs_client
        self._arn = queue_arn
        parts = queue_arn.split(":")
        self._name, self._account = parts[5], parts[4]
        self._url: str | None = None

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            if self._url is None:
                self._url = str(
                    self._client.get_queue_url(QueueName=self._name, QueueOwnerAWSAccountId=self._account)[
                        "QueueUrl"
                    ]
                )
            return getattr(self._client, operation)(QueueUrl=self._url, **kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _GONE_CODES:
                self._url = None
                raise QueueGone(self._arn) from exc
            raise

    def info(self) -> QueueInfo:
        attributes = self._call("get_queue_attributes", AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes.get("RedrivePolicy") or "{}")
        return QueueInfo(
            fifo=attributes.get("FifoQueue") == "true",
            visibility_timeout_s=int(attributes.get("VisibilityTimeout", 30)),
            max_receive_count=int(redrive["maxReceiveCount"]) if "maxReceiveCount" in redrive else None,
            dead_letter_arn=redrive.get("deadLetterTargetArn"),
        )

    def receive(self, max_messages: int) -> list[SqsMessage]:
        response = self._call(
            "receive_message",
            MaxNumberOfMessages=max(1, min(MAX_ENTRIES, max_messages)),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        return [
            SqsMessage(
                message_id=str(m["MessageId"]),
                receipt_handle=str(m["ReceiptHandle"]),
                body=str(m["Body"]),
                md5_of_body=str(m["MD5OfBody"]),
                attributes={k: str(v) for k, v in (m.get("Attributes") or {}).items()},
                message_attributes=dict(m.get("MessageAttributes") or {}),
                md5_of_message_attributes=m.get("MD5OfMessageAttributes"),
            )
            for m in response.get("Messages", [])
        ]

    def delete(self, receipt_handles: Sequence[str]) -> None:
        for start in range(0, len(receipt_handles), MAX_ENTRIES):
            chunk = receipt_handles[start : start + MAX_ENTRIES]
            entries = [{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(chunk)]
            self._call("delete_message_batch", Entries=entries)

    def change_visibility(self, receipt_handles: Sequence[str], timeout_s: int) -> None:
        for start in range(0, len(receipt_handles), MAX_ENTRIES):
            chunk = receipt_handles[start : start + MAX_ENTRIES]
            entries = [
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": max(0, int(timeout_s))}
                for i, h in enumerate(chunk)
            ]
            self._call("change_message_visibility_batch", Entries=entries)

    def outstanding(self) -> int:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self._call("get_queue_attributes", AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(n, 0)) for n in names)


@dataclass(order=True)
class _Held:
    due: float  # emulated instant the message's visibility timeout ends
    handle: str = field(compare=False)
    redrive: bool = field(compare=False)


class VisibilityKeeper:
    """Makes messages visible again when their visibility timeout ends on the emulated clock.

    SQS (and moto) count visibility in whole wall-clock seconds, which a time scale cannot compress. So a
    message the function failed is kept invisible past the instant it is due (``hold``), then made visible
    with ``ChangeMessageVisibility(0)`` by ``release_due`` once the clock reaches that instant. At time
    scale 100 a 30 s visibility timeout returns the message after 0.3 s of wall time.
    """

    def __init__(self, source: QueueSource, clock: Clock) -> None:
        self._source = source
        self._clock = clock
        self._heap: list[_Held] = []
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._heap)

    def next_due(self) -> float | None:
        with self._lock:
            return self._heap[0].due if self._heap else None

    def hold(self, items: Sequence[tuple[float, str, bool]]) -> None:
        """Hold ``(due, receipt handle, will be redriven)`` until due. Raises QueueGone."""
        if not items:
            return
        longest = max(due for due, _, _ in items) - self._clock.now()
        self._source.change_visibility([h for _, h, _ in items], math.ceil(self.wall(longest)) + 1)
        with self._lock:
            for due, handle, redrive in items:
                heapq.heappush(self._heap, _Held(due, handle, redrive))

    def release_due(self) -> int:
        """Make the due messages visible; returns how many of them the queue will move to its DLQ."""
        now = self._clock.now()
        with self._lock:
            due: list[_Held] = []
            while self._heap and self._heap[0].due <= now:
                due.append(heapq.heappop(self._heap))
        if not due:
            return 0
        try:
            self._source.change_visibility([h.handle for h in due], 0)
        except QueueGone:
            return 0
        return sum(1 for h in due if h.redrive)

    def expire_later(self, items: Sequence[tuple[float, str]]) -> None:
        """Once nobody will call ``release_due`` (the poller stopped): leave each message to SQS's own expiry
        at its due instant, rounded up to whole wall seconds. Best effort: the queue may be gone."""
        with self._lock:
            pending = [(h.due, h.handle) for h in self._heap] + list(items)
            self._heap.clear()
        now = self._clock.now()
        by_timeout: dict[int, list[str]] = {}
        for due, handle in pending:
            by_timeout.setdefault(math.ceil(self.wall(due - now)), []).append(handle)
        for timeout, handles in by_timeout.items():
            try:
                self._source.change_visibility(handles, timeout)
            except Exception as exc:
                log.debug("could not return %d messages to the queue: %s", len(handles), exc)

    def wall(self, emulated_seconds: float) -> float:
        return max(0.0, emulated_seconds / self._clock.scale)
