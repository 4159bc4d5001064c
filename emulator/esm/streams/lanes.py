"""Concurrent batches within one shard (ParallelizationFactor) and the checkpoint they share.

https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#kinesis-polling-and-batching: with a
ParallelizationFactor of N, Lambda processes up to N batches from one shard at the same time and "ensures
in-order processing at the partition-key level". Here a shard has N lanes; a partition key always hashes to the
same lane, and each lane runs its batches one after another, so one key's records are in order and never in two
concurrent batches. The shard's checkpoint is the highest sequence number below which every record read is done
(succeeded, filtered out or given up), so a restart re-reads whatever a lane had not finished.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

from emulator.clock import Clock
from emulator.esm.core.config import MappingConfig
from emulator.esm.streams.kinesis_events import StreamRecord
from emulator.esm.streams.windows import TumblingWindows

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous invocation payload limit
# The payload is {"Records": [...]}; each record's size counts the ", " before it, which the first one has not.
_ENVELOPE_BYTES = len('{"Records": []}') - len(", ")


def lane_of(partition_key: str, lanes: int) -> int:
    """Stable across processes (unlike ``hash``), so a replay assigns keys the same way. The poller only asks
    with several lanes; one lane is lane 0 all the same."""
    digest = hashlib.md5(partition_key.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8]) % lanes  # big-endian, int.from_bytes's default


class CheckpointTracker:
    """Records are ``read`` in sequence order and ``done`` in any order; ``checkpoint`` is the last sequence
    number of the longest done prefix (or where the shard was resumed from)."""

    def __init__(self, resume_after: str | None = None) -> None:
        self._checkpoint = resume_after
        self._pending: deque[str] = deque()
        self._done: set[str] = set()
        self._lock = threading.Lock()

    @property
    def checkpoint(self) -> str | None:
        with self._lock:
            return self._checkpoint

    def read(self, sequence_numbers: Iterable[str]) -> None:
        with self._lock:
            self._pending.extend(sequence_numbers)

    def done(self, sequence_numbers: Iterable[str]) -> None:
        with self._lock:
            self._done.update(sequence_numbers)
            while self._pending and self._pending[0] in self._done:
                self._checkpoint = self._pending.popleft()
                self._done.discard(self._checkpoint)

    @property
    def outstanding(self) -> int:
        with self._lock:
            return len(self._pending)


class WindowHooks(Protocol):
    """What a lane asks of its processor's tumbling windows (``batch.StreamBatchProcessor``)."""

    windows: TumblingWindows | None

    @property
    def window_open(self) -> bool: ...

    def tick(self) -> None: ...


class Lane:
    """One sequence of batches: a buffer filled by the shard's reader, the batching window, and the processor
    that runs each batch to completion (retries, bisection, on-failure included)."""

    def __init__(
        self,
        config: MappingConfig,
        *,
        process: Callable[[list[StreamRecord]], bool],
        size: Callable[[StreamRecord], int],
        tracker: CheckpointTracker,
        clock: Clock,
        idle_poll_s: float,
        windows: WindowHooks | None = None,
    ) -> None:
        self.config = config
        self._windows = windows
        self._process = process
        self._size = size
        self._tracker = tracker
        self._clock = clock
        self._idle_poll_s = idle_poll_s
        self.buffer: deque[StreamRecord] = deque()
        self.busy = False
        self.wake = threading.Event()
        self._batch_started: float | None = None
        self._in_flight: list[StreamRecord] = []

    @property
    def idle(self) -> bool:
        """Nothing buffered or running, and no tumbling window waiting for its final invocation.

        The buffer is read before ``busy``: ``step`` sets ``busy`` before it takes a batch out of the buffer, so
        in this order a batch is always seen, in one or the other (read the other way round, a batch taken
        between the two reads is in neither)."""
        return not self.buffer and not self.busy and not (self._windows is not None and self._windows.window_open)

    def add(self, records: list[StreamRecord]) -> None:
        self.buffer.extend(records)
        self.wake.set()

    def checkpointed(self, sequence_number: str) -> None:
        """The processor's checkpoint callback: every record of the batch in flight up to ``sequence_number``
        is done."""
        upto = int(sequence_number)
        self._tracker.done(r.sequence_number for r in self._in_flight if int(r.sequence_number) <= upto)

    def step(self) -> float | None:
        """Run one batch if one is due and return None; otherwise return how long to wait (emulated seconds)
        before looking again."""
        idle_wait = self._idle_poll_s * self._clock.scale
        if not self.buffer:
            self._batch_started = None
            if self._windows is not None:
                self.busy = True  # a final invocation is a batch in flight too
                self._windows.tick()
            self.busy = False
            return idle_wait
        self.busy = True
        window = self.config.window_s
        if window > 0 and len(self.buffer) < self.config.batch_size:
            if self._batch_started is None:
                self._batch_started = self._clock.now()
            remaining = window - (self._clock.now() - self._batch_started)
            if remaining > 0:
                return min(remaining, idle_wait)
        batch = self._take_batch()
        self._batch_started = None
        self._in_flight = batch
        self._process(batch)
        return None

    def _take_batch(self) -> list[StreamRecord]:
        """Up to BatchSize records within the payload limit; with tumbling windows, of one window only."""
        batch: list[StreamRecord] = []
        size = _ENVELOPE_BYTES
        windows = self._windows.windows if self._windows is not None else None
        window = windows.window_of(self.buffer[0]) if windows is not None else None
        while self.buffer and len(batch) < self.config.batch_size:
            record = self.buffer[0]
            if windows is not None and windows.window_of(record) != window:
                break
            record_size = self._size(record)
            if batch and size + record_size > MAX_PAYLOAD_BYTES:
                break
            batch.append(self.buffer.popleft())
            size += record_size
        return batch
