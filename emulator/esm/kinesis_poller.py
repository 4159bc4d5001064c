"""The Kinesis poller: one worker thread per shard reads records in sequence order, assembles batches by
BatchSize and MaximumBatchingWindowInSeconds, and hands each to ``StreamBatchProcessor``. One batch is in
flight per shard (ParallelizationFactor 1).

https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-batchfailurereporting
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from emulator.clock import Clock
from emulator.esm.config import MappingConfig
from emulator.esm.destinations import FailureSink
from emulator.esm.invoker import Invoker
from emulator.esm.kinesis_events import StreamRecord
from emulator.esm.kinesis_source import ShardSource
from emulator.esm.stats import MappingObserver, MappingStats
from emulator.esm.stream_batch import StreamBatchProcessor

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous invocation payload limit
READ_LIMIT = 10_000


def _filter(config: MappingConfig) -> Callable[[StreamRecord], bool] | None:
    if not config.filter_criteria:
        return None
    from emulator.esm.filters import kinesis_record_matches, parse_filter_criteria

    patterns = parse_filter_criteria(config.filter_criteria)

    def keep(record: StreamRecord) -> bool:
        view: dict[str, Any] = {
            "kinesis": {
                "partitionKey": record.partition_key,
                "sequenceNumber": record.sequence_number,
                "data": base64.b64encode(record.data).decode(),
                "kinesisSchemaVersion": "1.0",
                "approximateArrivalTimestamp": record.arrival,
            },
            "eventSource": "aws:kinesis",
            "eventSourceARN": config.event_source_arn,
        }
        return kinesis_record_matches(patterns, view)

    return keep


class ShardWorker:
    def __init__(
        self,
        config: MappingConfig,
        shard_id: str,
        *,
        source: ShardSource,
        processor_factory: Callable[[str, threading.Event, Callable[[str], None]], StreamBatchProcessor],
        clock: Clock,
        stats: MappingStats,
        observer: MappingObserver,
        resume_after: str | None,
        idle_poll_s: float,
        start_iterator: str | None = None,
    ) -> None:
        self.config = config
        self.shard_id = shard_id
        self.source = source
        self.clock = clock
        self.stats = stats
        self.observer = observer
        self.idle_poll_s = idle_poll_s
        self.checkpoint: str | None = resume_after
        self._start_iterator = start_iterator
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self.caught_up = False
        self.caught_up_at = -1.0  # monotonic start of the last read that found the shard's end
        self.busy = True
        self.error: BaseException | None = None
        self._buffer: deque[StreamRecord] = deque()
        self._keep = _filter(config)
        self._processor = processor_factory(shard_id, self.stop_event, self._set_checkpoint)
        self._thread = threading.Thread(
            target=self._run, name=f"pipemu-esm-{config.uuid[:8]}-{shard_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        self.wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def idle_since(self, since: float) -> bool:
        """Nothing buffered, nothing in flight, and a read that started after ``since`` (monotonic) found
        the shard's end: so records put before ``since`` have all been seen."""
        return self.caught_up and self.caught_up_at >= since and not self.busy and not self._buffer

    def _set_checkpoint(self, sequence_number: str) -> None:
        self.checkpoint = sequence_number

    def _open(self) -> str:
        if self.checkpoint is None and self._start_iterator is not None:
            return self._start_iterator
        if self.checkpoint is not None:
            return self.source.open(
                self.shard_id, position="AFTER_SEQUENCE_NUMBER", after_sequence=self.checkpoint
            )
        return self.source.open(
            self.shard_id,
            position=self.config.starting_position or "TRIM_HORIZON",
            timestamp=self.config.starting_position_timestamp,
        )

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a bug or the emulator died: surface it, do not hide it in a thread
            self.error = exc
            log.exception("event source mapping %s shard %s stopped", self.config.uuid, self.shard_id)
        finally:
            self.busy = False

    def _read(self, iterator: str | None) -> str | None:
        if iterator is None:
            return None
        started = time.monotonic()
        records, next_iterator, behind = self.source.read(iterator, READ_LIMIT)
        if self._keep is not None and records:
            kept: list[StreamRecord] = []
            dropped: list[StreamRecord] = []
            for r in records:
                (kept if self._keep(r) else dropped).append(r)
            if dropped:
                self.stats.add("records_filtered", len(dropped), at=self.clock.now())
                self.observer.on_filtered(self.config.uuid, dropped)
                if not kept:
                    self._set_checkpoint(dropped[-1].sequence_number)
            records = kept
        self._buffer.extend(records)
        self.caught_up = behind == 0 and not records
        if self.caught_up:
            self.caught_up_at = started
        return next_iterator

    def _loop(self) -> None:
        iterator: str | None = self._open()
        batch_started: float | None = None
        while not self.stop_event.is_set():
            self.busy = bool(self._buffer)
            if len(self._buffer) < self.config.batch_size:
                iterator = self._read(iterator)
            if not self._buffer:
                batch_started = None
                self.busy = False
                self.wake.clear()
                self.clock.wait(self.idle_poll_s * self.clock.scale, self.wake)
                continue
            self.busy = True
            window = self.config.window_s
            if window > 0 and len(self._buffer) < self.config.batch_size:
                if batch_started is None:
                    batch_started = self.clock.now()
                remaining = window - (self.clock.now() - batch_started)
                if remaining > 0:
                    self.wake.clear()
                    self.clock.wait(min(remaining, self.idle_poll_s * self.clock.scale), self.wake)
                    continue
            batch = self._take_batch()
            batch_started = None
            if not self._processor.process(batch):
                return

    def _take_batch(self) -> list[StreamRecord]:
        batch: list[StreamRecord] = []
        size = 0
        while self._buffer and len(batch) < self.config.batch_size:
            record = self._buffer[0]
            record_size = len(record.data) * 4 // 3 + len(record.partition_key) + 300
            if batch and size + record_size > MAX_PAYLOAD_BYTES:
                break
            batch.append(self._buffer.popleft())
            size += record_size
        return batch


class KinesisMappingPoller:
    """All shard workers of one mapping."""

    def __init__(
        self,
        config: MappingConfig,
        *,
        source: ShardSource,
        invoker: Invoker,
        sink: FailureSink,
        clock: Clock,
        region: str,
        observer: MappingObserver,
        stats: MappingStats,
        checkpoints: dict[str, str] | None = None,
        idle_poll_s: float = 0.02,
        start_iterators: dict[str, str] | None = None,
    ) -> None:
        self.config = config
        self.stats = stats
        role_arn = invoker.role_arn(config.function_arn)

        def processor(
            shard_id: str, stop: threading.Event, checkpoint: Callable[[str], None]
        ) -> StreamBatchProcessor:
            return StreamBatchProcessor(
                config,
                shard_id=shard_id,
                region=region,
                role_arn=role_arn,
                invoker=invoker,
                sink=sink,
                clock=clock,
                stats=stats,
                observer=observer,
                stop=stop,
                on_checkpoint=checkpoint,
            )

        saved = checkpoints or {}
        self.workers = [
            ShardWorker(
                config,
                shard_id,
                source=source,
                processor_factory=processor,
                clock=clock,
                stats=stats,
                observer=observer,
                resume_after=saved.get(shard_id),
                idle_poll_s=idle_poll_s,
                start_iterator=(start_iterators or {}).get(shard_id),
            )
            for shard_id in source.shard_ids()
        ]

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def stop(self) -> dict[str, str]:
        """Stop every worker; returns the checkpoints to resume from."""
        for worker in self.workers:
            worker.stop_event.set()
            worker.wake.set()
        for worker in self.workers:
            worker.stop()
        return {w.shard_id: w.checkpoint for w in self.workers if w.checkpoint is not None}

    def wake(self) -> None:
        for worker in self.workers:
            worker.wake.set()

    def idle_since(self, since: float) -> bool:
        return all(w.idle_since(since) for w in self.workers)

    @property
    def errors(self) -> list[BaseException]:
        return [w.error for w in self.workers if w.error is not None]

    def describe(self) -> dict[str, Any]:
        return {
            "uuid": self.config.uuid,
            "shards": {
                w.shard_id: {"checkpoint": w.checkpoint, "caught_up": w.caught_up} for w in self.workers
            },
            "stats": self.stats.as_dict(),
        }
