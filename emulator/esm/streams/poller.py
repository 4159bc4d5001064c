"""The ordered-stream poller (Kinesis, and any source registered with ``core.sources.ordered_stream``): one worker
thread per shard reads records in sequence order, assembles batches by BatchSize and
MaximumBatchingWindowInSeconds, and hands each to ``StreamBatchProcessor``. Up to ParallelizationFactor batches
are in flight per shard, never two holding the same partition key (``lanes``). What differs per source
comes from its ``StreamHooks`` and its ``ShardSource``.

https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-batchfailurereporting
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from emulator.clock import Clock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.destinations import FailureSink
from emulator.esm.core.invoker import Invoker, log_thread_failure
from emulator.esm.core.stats import MappingObserver, MappingStats
from emulator.esm.streams.batch import StreamBatchProcessor, StreamHooks, default_hooks
from emulator.esm.streams.kinesis_source import ShardSource, StreamGone
from emulator.esm.streams.lanes import CheckpointTracker, Lane, lane_of
from emulator.esm.streams.records import StreamRecord

log = logging.getLogger(__name__)

READ_LIMIT = 10_000


def _filter(
    config: MappingConfig, shard_id: str, hooks: StreamHooks, *, region: str, role_arn: str
) -> Callable[[StreamRecord], bool] | None:
    if not config.filter_criteria:
        return None
    from emulator.esm.core.filters import parse_filter_criteria

    patterns = parse_filter_criteria(config.filter_criteria)

    def keep(record: StreamRecord) -> bool:
        # Patterns see the record as the function would receive it.
        view = hooks.shape(
            record, shard_id=shard_id, stream_arn=config.event_source_arn, region=region, role_arn=role_arn
        )
        return hooks.keeps(patterns, view)

    return keep


class ShardWorker:
    """Reads one shard in sequence order and feeds its lanes. With ParallelizationFactor 1 the single lane runs
    in this worker's thread; with N > 1 each lane has its own thread (see ``lanes``)."""

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
        region: str,
        role_arn: str,
        start_iterator: str | None = None,
        hooks: StreamHooks | None = None,
    ) -> None:
        """``region`` and ``role_arn`` are the ones the function's records show (filters see them too)."""
        self.config = config
        self.shard_id = shard_id
        self.source = source
        self.clock = clock
        self.stats = stats
        self.observer = observer
        self.idle_poll_s = idle_poll_s
        self._tracker = CheckpointTracker(resume_after)
        self._start_iterator = start_iterator
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self.caught_up = False
        self.caught_up_at = -1.0  # monotonic start of the last read that found the shard's end
        self.error: BaseException | None = None
        self.source_gone = False  # the stream or shard vanished: this worker ended without an error
        self._keep = _filter(config, shard_id, hooks or default_hooks(), region=region, role_arn=role_arn)
        self.lanes = [self._lane(processor_factory) for _ in range(max(1, config.parallelization_factor))]
        self._thread = threading.Thread(target=self._run, name=f"pipemu-esm-{config.uuid[:8]}-{shard_id}", daemon=True)
        self._lane_threads = (
            [
                threading.Thread(
                    target=self._run_lane,
                    args=(lane,),
                    name=f"pipemu-esm-{config.uuid[:8]}-{shard_id}-lane{i}",
                    daemon=True,
                )
                for i, lane in enumerate(self.lanes)
            ]
            if len(self.lanes) > 1
            else []
        )

    def _lane(
        self, processor_factory: Callable[[str, threading.Event, Callable[[str], None]], StreamBatchProcessor]
    ) -> Lane:
        lane: Lane

        def checkpointed(sequence_number: str) -> None:
            lane.checkpointed(sequence_number)

        processor = processor_factory(self.shard_id, self.stop_event, checkpointed)
        lane = Lane(
            self.config,
            process=processor.process,
            size=processor.payload_size,
            tracker=self._tracker,
            clock=self.clock,
            idle_poll_s=self.idle_poll_s,
            windows=processor,  # a processor without tumbling windows neither ticks nor holds a window open
        )
        return lane

    @property
    def checkpoint(self) -> str | None:
        return self._tracker.checkpoint

    @property
    def busy(self) -> bool:
        return not all(lane.idle for lane in self.lanes)

    def start(self) -> None:
        self._thread.start()
        for thread in self._lane_threads:
            thread.start()

    def halt(self) -> None:
        self.stop_event.set()
        self.wake.set()
        for lane in self.lanes:
            lane.wake.set()

    def stop(self, timeout: float) -> None:
        self.halt()
        until = time.monotonic() + timeout
        for thread in [self._thread, *self._lane_threads]:
            if thread.is_alive() and threading.current_thread() is not thread:
                thread.join(max(0.0, until - time.monotonic()))

    def idle_since(self, since: float) -> bool:
        """Nothing buffered, nothing in flight, and a read that started after ``since`` (monotonic) found
        the shard's end: so records put before ``since`` have all been seen. A shard that vanished has
        nothing left to read."""
        if self.source_gone:
            return True
        return self.caught_up and self.caught_up_at >= since and not self.busy

    def _open(self) -> str:
        checkpoint = self.checkpoint
        if checkpoint is None and self._start_iterator is not None:
            return self._start_iterator
        if checkpoint is not None:
            return self.source.open(self.shard_id, position="AFTER_SEQUENCE_NUMBER", after_sequence=checkpoint)
        return self.source.open(
            self.shard_id,
            position=self.config.starting_position or "TRIM_HORIZON",
            timestamp=self.config.starting_position_timestamp,
        )

    def _run(self) -> None:
        try:
            self._loop()
        except StreamGone:  # deleted or reset under the mapping: the manager waits for it to come back
            self.source_gone = True
            log.info("event source mapping %s: stream %s is gone", self.config.uuid, self.config.event_source_arn)
        except Exception as exc:  # a bug or the emulator died: surface it, do not hide it in a thread
            self.error = exc
            log_thread_failure(
                log, self.stop_event, "event source mapping %s shard %s stopped", self.config.uuid, self.shard_id
            )
        finally:
            for lane in self.lanes:
                lane.busy = False

    def _run_lane(self, lane: Lane) -> None:
        try:
            while not self.stop_event.is_set():
                lane.wake.clear()
                wait_s = lane.step()
                if wait_s is not None:
                    self.clock.wait(wait_s, lane.wake)
        except Exception as exc:
            self.error = exc
            log_thread_failure(
                log, self.stop_event, "event source mapping %s shard %s lane stopped", self.config.uuid,
                self.shard_id,
            )
        finally:
            lane.busy = False

    def _wants_records(self) -> bool:
        """With one lane, read only to fill the next batch. With several, keep reading while some lane has room
        for a batch, up to a bound (a lane stuck retrying must not make the reader buffer the whole shard)."""
        if len(self.lanes) == 1:
            return len(self.lanes[0].buffer) < self.config.batch_size
        buffered = sum(len(lane.buffer) for lane in self.lanes)
        bound = max(READ_LIMIT, 2 * self.config.batch_size * len(self.lanes))
        return buffered < bound and any(len(lane.buffer) < self.config.batch_size for lane in self.lanes)

    def _read(self, iterator: str | None) -> tuple[str | None, bool]:
        """Read once and hand the records to their lanes. Returns the next iterator and whether anything
        came back."""
        started = time.monotonic()
        if iterator is None:  # the shard is closed and was read to its end: nothing more will come
            self.caught_up, self.caught_up_at = True, started
            return None, False
        records, next_iterator, behind = self.source.read(iterator, READ_LIMIT)
        self._tracker.read(r.sequence_number for r in records)
        got = bool(records)
        if self._keep is not None and records:
            kept: list[StreamRecord] = []
            dropped: list[StreamRecord] = []
            for r in records:
                (kept if self._keep(r) else dropped).append(r)
            if dropped:
                self.stats.add("records_filtered", len(dropped))
                self.observer.on_filtered(self.config.uuid, dropped, shard_id=self.shard_id)
                self._tracker.done(r.sequence_number for r in dropped)
            records = kept
        self._dispatch(records)
        self.caught_up = behind == 0 and not got
        if self.caught_up:
            self.caught_up_at = started
        return next_iterator, got

    def _dispatch(self, records: list[StreamRecord]) -> None:
        if len(self.lanes) == 1:
            if records:
                self.lanes[0].add(records)
            return
        by_lane: dict[int, list[StreamRecord]] = {}
        for r in records:
            by_lane.setdefault(lane_of(r.partition_key, len(self.lanes)), []).append(r)
        for index, part in by_lane.items():
            self.lanes[index].add(part)

    def _loop(self) -> None:
        iterator: str | None = self._open()
        inline = self.lanes[0] if len(self.lanes) == 1 else None
        while not self.stop_event.is_set():
            got = False
            if self._wants_records():
                iterator, got = self._read(iterator)
            if inline is not None:
                wait_s = inline.step()
                if wait_s is None:
                    continue
            elif got and self._wants_records():
                continue
            else:
                wait_s = self.idle_poll_s * self.clock.scale  # the scale may change while a mapping runs
            self.wake.clear()
            self.clock.wait(wait_s, self.wake)


class StreamMappingPoller:
    """All shard workers of one ordered-stream mapping."""

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
        on_processing_result: Callable[[str, str], None] | None = None,
        hooks: StreamHooks | None = None,
    ) -> None:
        """``on_processing_result(uuid, text)`` is told what the mapping's ``LastProcessingResult`` now is
        (the backend shows it in get/list); ``hooks`` are the source's (default: Kinesis's)."""
        self.config = config
        stream_hooks = hooks or default_hooks()
        self.stats = stats
        role_arn = invoker.role_arn(config.function_arn)

        def processing_result(text: str) -> None:
            if on_processing_result is not None:
                on_processing_result(config.uuid, text)

        def processor(shard_id: str, stop: threading.Event, checkpoint: Callable[[str], None]) -> StreamBatchProcessor:
            return StreamBatchProcessor(
                config, shard_id=shard_id, region=region, role_arn=role_arn, invoker=invoker, sink=sink, clock=clock,
                stats=stats, observer=observer, stop=stop, on_checkpoint=checkpoint, on_result=processing_result,
                hooks=stream_hooks,
            )

        saved = checkpoints or {}
        self.workers = [
            ShardWorker(
                config, shard_id, source=source, processor_factory=processor, clock=clock, stats=stats,
                observer=observer, resume_after=saved.get(shard_id), idle_poll_s=idle_poll_s, region=region,
                role_arn=role_arn, start_iterator=(start_iterators or {}).get(shard_id), hooks=stream_hooks,
            )
            for shard_id in source.shard_ids()
        ]

    def start(self) -> None:
        for worker in self.workers:
            worker.start()

    def halt(self) -> None:
        for worker in self.workers:
            worker.halt()

    def stop(self, timeout_s: float = 5.0) -> dict[str, str]:
        """Stop every worker, waiting at most ``timeout_s`` in all; returns the checkpoints to resume from."""
        self.halt()
        until = time.monotonic() + timeout_s
        for worker in self.workers:
            worker.stop(max(0.0, until - time.monotonic()))
        saved = {w.shard_id: w.checkpoint for w in self.workers}
        return {shard: checkpoint for shard, checkpoint in saved.items() if checkpoint is not None}

    def wake(self) -> None:
        for worker in self.workers:
            worker.wake.set()

    def idle_since(self, since: float) -> bool:
        return all(w.idle_since(since) for w in self.workers)

    @property
    def errors(self) -> list[BaseException]:
        return [w.error for w in self.workers if w.error is not None]

    @property
    def source_gone(self) -> bool:
        """The stream (or one of its shards) no longer exists; the manager replaces this poller once it does."""
        return any(w.source_gone for w in self.workers)

    def describe(self) -> dict[str, Any]:
        return {
            "uuid": self.config.uuid,
            "shards": {w.shard_id: {"checkpoint": w.checkpoint, "caught_up": w.caught_up} for w in self.workers},
            "stats": self.stats.as_dict(),
        }


KinesisMappingPoller = StreamMappingPoller
"""A Kinesis mapping's poller: the ordered-stream poller with Kinesis's hooks (its default)."""
