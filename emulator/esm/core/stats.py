"""Counters and a bounded timeline per mapping, for quiescence checks, reports and assertions."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from emulator.esm.streams.records import StreamRecord


@dataclass
class MappingStats:
    invocations: int = 0
    batches_succeeded: int = 0
    records_succeeded: int = 0
    retries: int = 0
    bisects: int = 0
    partial_failures: int = 0
    throttles: int = 0
    records_filtered: int = 0
    records_dead_lettered: int = 0
    records_discarded: int = 0
    windows_closed: int = 0  # tumbling windows whose final invocation succeeded
    timeline: deque[tuple[float, str, int]] = field(default_factory=lambda: deque(maxlen=10_000))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, n: int = 1) -> None:
        """Count ``n`` of ``kind``; the timeline keeps wall time, for reports."""
        with self._lock:
            setattr(self, kind, getattr(self, kind) + n)
            self.timeline.append((time.time(), kind, n))

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int)}


class MappingObserver(Protocol):
    """Told what became of records: filtered out, given up on, or processed (the function returned without error
    and did not report them as failed items), so nothing is lost silently and a handler that writes nothing is
    still seen to succeed. ``shard_id`` is the shard an ordered-stream record came from ("" for SQS, whose
    records carry their message id as ``sequence_number``)."""

    def on_filtered(self, mapping_uuid: str, records: list[StreamRecord], *, shard_id: str = "") -> None: ...

    def on_gave_up(
        self, mapping_uuid: str, records: list[StreamRecord], condition: str, destination: str | None,
        *, shard_id: str = "",
    ) -> None: ...

    def on_processed(self, mapping_uuid: str, records: list[StreamRecord], *, shard_id: str = "") -> None: ...


class NullObserver:
    def on_filtered(self, mapping_uuid: str, records: list[StreamRecord], *, shard_id: str = "") -> None:
        return None

    def on_gave_up(
        self, mapping_uuid: str, records: list[StreamRecord], condition: str, destination: str | None,
        *, shard_id: str = "",
    ) -> None:
        return None

    def on_processed(self, mapping_uuid: str, records: list[StreamRecord], *, shard_id: str = "") -> None:
        return None
