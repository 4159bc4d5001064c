"""Watching where a pipeline writes: S3 objects (outputs) and SQS messages (dead letters).

Two ways to see new S3 objects: a push feed from the embedded backend (exact arrival instant, no HTTP) and
polling ListObjectsV2 on any other backend (arrival = when first seen).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from emulator.observe.api_meter import mark_observer, observer_calls


@dataclass(frozen=True, slots=True)
class ObjectArrival:
    bucket: str
    key: str
    body: bytes
    arrived: float  # wall epoch seconds


@dataclass(frozen=True, slots=True)
class QueueMessage:
    queue: str
    message_id: str
    body: str
    sent: float  # wall epoch seconds (SentTimestamp)
    attributes: dict[str, str]


class ObjectFeed(Protocol):
    def drain(self) -> list[ObjectArrival]: ...

    def wait(self, timeout: float) -> None: ...


class PushFeed:
    """Arrivals pushed by the backend (see ``moto_seams.s3_arrivals``), filtered to the watched buckets."""

    def __init__(self, buckets: set[str], prefix: str = "") -> None:
        self._buckets = buckets
        self._prefix = prefix
        self._items: deque[ObjectArrival] = deque()
        self._cond = threading.Condition()

    def push(self, bucket: str, key: str, body: bytes, arrived: float) -> None:
        if bucket not in self._buckets or not key.startswith(self._prefix):
            return
        with self._cond:
            self._items.append(ObjectArrival(bucket, key, body, arrived))
            self._cond.notify_all()

    def drain(self) -> list[ObjectArrival]:
        with self._cond:
            items = list(self._items)
            self._items.clear()
            return items

    def wait(self, timeout: float) -> None:
        with self._cond:
            if not self._items:
                self._cond.wait(timeout)


class PollingFeed:
    """ListObjectsV2 + GetObject; sees each key once."""

    def __init__(self, s3_client: Any, buckets: set[str], prefix: str = "") -> None:
        self._s3 = mark_observer(s3_client)
        self._buckets = buckets
        self._prefix = prefix
        self._seen: set[tuple[str, str]] = set()

    def drain(self) -> list[ObjectArrival]:
        with observer_calls():  # the harness's reads are not the pipeline's cost
            return self._drain()

    def _drain(self) -> list[ObjectArrival]:
        out: list[ObjectArrival] = []
        for bucket in sorted(self._buckets):
            paginator = self._s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=self._prefix):
                for item in page.get("Contents", []):
                    key = item["Key"]
                    if (bucket, key) in self._seen:
                        continue
                    self._seen.add((bucket, key))
                    body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                    out.append(ObjectArrival(bucket, key, body, time.time()))
        return out

    def wait(self, timeout: float) -> None:
        time.sleep(timeout)


class QueueWatcher:
    """Reads a queue without consuming it for good: each message is received once with a long visibility
    timeout, so a second look (or another consumer) does not see it twice during the run."""

    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = mark_observer(sqs_client)
        self._url = queue_url
        self._seen: set[str] = set()

    def drain(self) -> list[QueueMessage]:
        with observer_calls():  # the harness's reads are not the pipeline's cost
            return self._drain()

    def _drain(self) -> list[QueueMessage]:
        out: list[QueueMessage] = []
        while True:
            response = self._sqs.receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=43200,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages = response.get("Messages", [])
            if not messages:
                return out
            for m in messages:
                if m["MessageId"] in self._seen:
                    continue
                self._seen.add(m["MessageId"])
                attributes = {str(k): str(v) for k, v in m.get("Attributes", {}).items()}
                sent = int(attributes.get("SentTimestamp", "0")) / 1000 or time.time()
                out.append(QueueMessage(self._url, m["MessageId"], m["Body"], sent, attributes))


def parse_records(body: bytes) -> list[Any]:
    """An output object's records: a JSON array, one JSON object, or JSON lines."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return []
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth, as good as unreadable
        records = []
        for line in text.splitlines():
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except (ValueError, RecursionError):
                    continue
        return records
    return value if isinstance(value, list) else [value]
