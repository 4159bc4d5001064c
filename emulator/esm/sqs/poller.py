"""The SQS poller: one reader thread receives messages, deletes those the filter rejects, assembles batches by
BatchSize, MaximumBatchingWindowInSeconds and the 6 MB payload limit, and runs each batch on its own thread,
up to ScalingConfig.MaximumConcurrency batches at once (5 without it: where AWS starts).

AWS behaviour (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, services-sqs-scaling.html,
services-sqs-errorhandling.html, and the AWS recordings in tests/conformance/aws-snapshots):
- success deletes the batch; with ReportBatchItemFailures only the items not reported failed are deleted;
  a function error or an invalid partial response deletes nothing;
- what is not deleted reappears when the queue's visibility timeout (counted from the receive) ends, and is
  received again with ApproximateReceiveCount + 1. The queue's RedrivePolicy moves a message to its DLQ,
  body unchanged, on the receive after maxReceiveCount: moto's ReceiveMessage does that move, so the poller
  relies on it and only counts those messages (``records_dead_lettered``);
- an error before the function ran (throttle) is retried without a new receive until the visibility timeout
  would end, then the messages go back to the queue;
- FIFO: at most 10 messages a batch, no batching window; SQS never hands out a message group that has a
  message in flight, so a failed message blocks its group until it succeeds or is redriven;
- filtered-out messages are deleted and never reach the function.

Visibility timeouts run on the injected clock (see :class:`VisibilityKeeper`), except while the function runs:
SQS counts that in wall seconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from emulator.clock import Clock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.filters import parse_filter_criteria, sqs_record_matches
from emulator.esm.core.invoker import InvokeOutcome, Invoker, log_thread_failure
from emulator.esm.core.responses import read_response
from emulator.esm.core.stats import MappingObserver, MappingStats
from emulator.esm.sqs.events import SqsEventRecord, as_stream_record, encoded_size, event_record, observed_record
from emulator.esm.sqs.source import MAX_ENTRIES, QueueGone, QueueInfo, QueueSource, VisibilityKeeper

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 5
FIFO_MAX_BATCH = 10
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # synchronous invocation payload limit
THROTTLE_RETRY_S = 1.0  # emulated seconds between invocations of a batch that was throttled
QUEUE_GONE_POLL_S = 0.5  # wall seconds between looks at a queue that does not exist
_PAYLOAD_OVERHEAD = len('{"Records": []}')
_SEPARATOR = len(", ")  # between two records of the payload (json.dumps' default)


@dataclass(frozen=True, slots=True)
class Received:
    """A message in the poller's hands, shaped for the function."""

    record: SqsEventRecord
    received_at: float  # emulated
    receive_count: int
    size: int  # bytes it adds to the invocation payload, with the separator before it

    @property
    def message_id(self) -> str:
        return self.record["messageId"]

    @property
    def receipt_handle(self) -> str:
        return self.record["receiptHandle"]


class SqsMappingPoller:
    def __init__(
        self,
        config: MappingConfig,
        *,
        source: QueueSource,
        invoker: Invoker,
        clock: Clock,
        region: str,
        observer: MappingObserver,
        stats: MappingStats,
        idle_poll_s: float = 0.02,
    ) -> None:
        self.config = config
        self.stats = stats
        self._source = source
        self._invoker = invoker
        self._clock = clock
        self._region = region
        self._observer = observer
        self._idle_poll_s = idle_poll_s
        self._limit = max(1, config.max_concurrency or DEFAULT_CONCURRENCY)
        self._patterns = parse_filter_criteria(config.filter_criteria)
        self._keeper = VisibilityKeeper(source, clock)
        self._info: QueueInfo | None = None
        self._gone = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._buffer: deque[Received] = deque()
        self._buffer_bytes = 0
        self._in_flight = 0
        self._receiving = False
        self._drained_at = -1.0  # monotonic start of the last receive that found nothing left to do
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name=f"pipemu-esm-{config.uuid[:8]}-sqs", daemon=True)

    # -- Poller protocol -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def halt(self) -> None:
        self._stop.set()
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> dict[str, str]:
        """Stop reading. Running batches finish and settle; messages held or buffered go back to the queue
        when their visibility timeout ends. SQS has no checkpoints: returns {}."""
        self.halt()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)
        with self._lock:
            buffered = [(r.received_at + self._visibility(), r.receipt_handle) for r in self._buffer]
            self._buffer.clear()
            self._buffer_bytes = 0
        self._keeper.expire_later(buffered)
        return {}

    def wake(self) -> None:
        self._wake.set()

    def idle_since(self, since: float) -> bool:
        """No batch in flight, nothing buffered or held, and a receive that started after ``since``
        (monotonic) came back empty with the queue holding no message at all (visible, in flight or delayed)."""
        with self._lock:
            busy = self._receiving or self._in_flight > 0 or bool(self._buffer)
            return not busy and not self._keeper and self._drained_at >= since

    @property
    def errors(self) -> list[BaseException]:
        return list(self._errors)

    @property
    def source_gone(self) -> bool:
        """Always False: this poller keeps receiving while its queue is missing and resumes when it is back."""
        return False

    # -- reader ----------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.release_due()
                with self._lock:
                    free = self._in_flight < self._limit
                batch = self.gather() if free else []
                if batch:
                    name = f"{self._thread.name}-batch"
                    threading.Thread(target=self._process_guarded, args=(batch,), name=name, daemon=True).start()
                    continue
                self._idle()
        except Exception as exc:  # a bug or the emulator died: surface it, do not hide it in a thread
            self._errors.append(exc)
            log_thread_failure(log, self._stop, "event source mapping %s stopped", self.config.uuid)

    def _idle(self) -> None:
        wall = QUEUE_GONE_POLL_S if self._gone else self._idle_poll_s
        next_due = self._keeper.next_due()
        if next_due is not None:
            wall = min(wall, self._keeper.wall(next_due - self._clock.now()))
        self._wake.clear()
        self._clock.wait(wall * self._clock.scale, self._wake)

    def gather(self) -> list[Received]:
        """Receive until the batch is full, the window has elapsed or the payload limit is reached (window 0:
        what one receive returned). The batch returned counts as in flight until ``process`` ends."""
        started_info = time.monotonic()
        info = self._queue_info()
        if info is None:  # the queue does not exist: nothing to wait for
            with self._lock:
                self._drained_at = started_info
            return []
        limit = min(self.config.batch_size, FIFO_MAX_BATCH) if info.fifo else self.config.batch_size
        window = 0.0 if info.fifo else self.config.window_s
        started: float | None = None
        while not self._stop.is_set():
            want = min(MAX_ENTRIES, limit - len(self._buffer))
            got = self._receive(want) if want > 0 else 0
            if not self._buffer:
                if got and got == want:
                    continue  # everything received was filtered out; the queue may hold more
                return []
            now = self._clock.now()
            started = now if started is None else started
            remaining = window - (now - started)
            if len(self._buffer) >= limit or remaining <= 0 or self._buffer_bytes >= MAX_PAYLOAD_BYTES:
                return self._take(limit)
            if got < want:  # the queue is empty for now: wait for more within the window
                self.release_due()
                self._wake.clear()
                self._clock.wait(min(remaining, self._idle_poll_s * self._clock.scale), self._wake)
        return []

    def _receive(self, n: int) -> int:
        started, at = time.monotonic(), self._clock.now()
        with self._lock:
            self._receiving = True
        try:
            try:
                messages, self._gone = self._source.receive(n), False
            except QueueGone:
                messages, self._gone = [], True
            drained = not messages and (self._gone or self._nothing_left())
            kept: list[Received] = []
            dropped = []
            for message in messages:
                record = event_record(message, queue_arn=self.config.event_source_arn, region=self._region)
                if sqs_record_matches(self._patterns, record):
                    kept.append(Received(record, at, message.receive_count, encoded_size(record) + _SEPARATOR))
                else:
                    dropped.append(message)
            if dropped:
                self._delete(m.receipt_handle for m in dropped)
                self.stats.add("records_filtered", len(dropped))
                self._observer.on_filtered(self.config.uuid, [as_stream_record(m) for m in dropped])
            with self._lock:
                self._buffer.extend(kept)
                self._buffer_bytes += sum(r.size for r in kept)
                self._drained_at = started if drained else -1.0
        finally:
            with self._lock:
                self._receiving = False
        return len(messages)

    def _nothing_left(self) -> bool:
        """After an empty receive: nothing in our hands and nothing left in the queue. An empty receive alone
        proves nothing: a FIFO group is not handed out while one of its messages is in flight, and that batch
        may end (and be deleted) between the receive and this look, leaving the group's next messages visible.
        So the queue is asked for every message it holds, visible ones included."""
        with self._lock:
            if self._in_flight or self._buffer or self._keeper:
                return False
        try:
            return self._source.outstanding() == 0
        except QueueGone:
            return True

    def _take(self, limit: int) -> list[Received]:
        batch: list[Received] = []
        size = _PAYLOAD_OVERHEAD - _SEPARATOR  # every record's size counts a separator; the first has none
        with self._lock:
            while self._buffer and len(batch) < limit:
                if batch and size + self._buffer[0].size > MAX_PAYLOAD_BYTES:
                    break
                record = self._buffer.popleft()
                batch.append(record)
                size += record.size
                self._buffer_bytes -= record.size
            if batch:
                self._in_flight += 1
        return batch

    # -- one batch -------------------------------------------------------------------------------------
    def _process_guarded(self, batch: list[Received]) -> None:
        try:
            self.process(batch)
        except Exception as exc:
            self._errors.append(exc)
            log_thread_failure(log, self._stop, "event source mapping %s: settling a batch failed", self.config.uuid)

    def process(self, batch: Sequence[Received]) -> None:
        """Invoke the function with a batch from ``gather`` and settle it: delete what succeeded, hold the rest
        until its visibility timeout ends."""
        try:
            outcome = self._invoke(batch)
            if outcome is not None:
                self._settle(batch, outcome)
        finally:
            with self._lock:
                self._in_flight -= 1
            self._wake.set()

    def _invoke(self, batch: Sequence[Received]) -> InvokeOutcome | None:
        """The outcome of the invocation that ran the function; None when it never ran before the messages'
        visibility timeout (they are handed back to the queue)."""
        payload = json.dumps({"Records": [r.record for r in batch]}).encode()
        while True:
            outcome = self._invoker.invoke(self.config.function_arn, payload)
            now = self._clock.now()
            if outcome.invoked:
                self.stats.add("invocations")
                return outcome
            self.stats.add("throttles")
            deadline = min(r.received_at for r in batch) + self._visibility()
            if self._stop.is_set() or now + THROTTLE_RETRY_S >= deadline:
                self._return(batch)
                return None
            self._clock.wait(THROTTLE_RETRY_S, self._stop)

    def _settle(self, batch: Sequence[Received], outcome: InvokeOutcome) -> None:
        ids = [r.message_id for r in batch]
        verdict = read_response(outcome, ids, report_item_failures=self.config.report_batch_item_failures)
        if verdict.verdict == "success":
            self._delete(r.receipt_handle for r in batch)
            self.stats.add("batches_succeeded")
            self.stats.add("records_succeeded", len(batch))
            self._observer.on_processed(self.config.uuid, [observed_record(r.record) for r in batch])
        elif verdict.verdict == "partial_failure":
            failed = set(verdict.failed_ids)
            succeeded = [r for r in batch if r.message_id not in failed]
            self._delete(r.receipt_handle for r in succeeded)
            self.stats.add("partial_failures")
            self.stats.add("records_succeeded", len(succeeded))
            self._observer.on_processed(self.config.uuid, [observed_record(r.record) for r in succeeded])
            self._return([r for r in batch if r.message_id in failed])
        else:
            self.stats.add("retries")
            self._return(batch)

    # -- queue calls -----------------------------------------------------------------------------------
    def _queue_info(self, refresh: bool = False) -> QueueInfo | None:
        if self._info is None or refresh:
            try:
                self._info, self._gone = self._source.info(), False
            except QueueGone:
                self._gone = True
        return self._info

    def _visibility(self) -> float:
        return float(self._info.visibility_timeout_s) if self._info is not None else 30.0

    def _delete(self, handles: Iterable[str]) -> None:
        handles = list(handles)
        if handles:
            try:
                self._source.delete(handles)
            except QueueGone:
                log.debug("queue gone: %d deletes dropped", len(handles))

    def _return(self, items: Sequence[Received]) -> None:
        """Hand messages back to the queue: visible again when the visibility timeout, counted from their
        receive, ends on the emulated clock."""
        if not items:
            return
        info = self._queue_info(refresh=True)
        max_receives = info.max_receive_count if info is not None else None
        due = [
            (
                r.received_at + self._visibility(),
                r.receipt_handle,
                max_receives is not None and r.receive_count >= max_receives,
            )
            for r in items
        ]
        if self._stop.is_set():
            self._keeper.expire_later([(d, h) for d, h, _ in due])
            return
        try:
            self._keeper.hold(due)
        except QueueGone:
            return
        self._wake.set()

    def release_due(self) -> None:
        """Make visible the held messages whose visibility timeout has ended."""
        redriven = self._keeper.release_due()
        if redriven:  # SQS moves them to the dead-letter queue on the next receive
            self.stats.add("records_dead_lettered", redriven)
