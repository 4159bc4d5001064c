"""What happens to one batch of ordered-stream records: invoke, read the response, retry, bisect, give up.
Written once for every ordered stream (Kinesis today); what differs per source (the record as the function
sees it, the on-failure message, filter matching) comes from its ``StreamHooks``.

AWS behaviour (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-errors and
the AWS recordings in tests/conformance/aws-snapshots):
- a failed batch is retried until it succeeds, MaximumRetryAttempts is used up, or its records are older
  than MaximumRecordAgeInSeconds; ``approximateInvokeCount`` counts the invocations of that batch;
- BisectBatchOnFunctionError splits a failed batch in two, first half first; a split does not use up a
  retry, and a one-record batch cannot be split further;
- with ReportBatchItemFailures the batch is checkpointed before the lowest failed item and retried from
  there; that retry counts, except with BisectBatchOnFunctionError, where the batch is split at the returned
  sequence number (no retry used) and, when the failed item is the first, bisected like a failed batch, so a
  poison record ends alone in a one-record batch;
- records found expired before an invocation go to the destination as ``RecordAgeExceeded`` without a
  ``responseContext``; the rest of the batch is still invoked;
- errors before the function ran (throttles, service errors) are retried without counting.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from emulator.clock import Clock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.destinations import FailureSink
from emulator.esm.core.invoker import Invoker
from emulator.esm.core.responses import BatchVerdict, read_response
from emulator.esm.core.stats import MappingObserver, MappingStats
from emulator.esm.streams.records import StreamRecord
from emulator.esm.streams.windows import TumblingWindows, missing

RETRY_BASE_S = 1.0
RETRY_CAP_S = 12.0
"""Backoff between retries of a failed batch, emulated seconds: 1, 2, 4, 8, 12, 12, ...
With MaximumRecordAgeInSeconds 60 this gives the 8 invocations AWS recorded before RecordAgeExceeded."""


# LastProcessingResult as GetEventSourceMapping shows it (before any batch: "No records processed").
LAST_RESULT_OK = "OK"
LAST_RESULT_FUNCTION_FAILED = "PROBLEM: Function call failed"


class StreamHooks(Protocol):
    """What one ordered-stream source says about its records (LocalStack's ``StreamPoller`` hooks)."""

    def shape(self, record: StreamRecord, *, shard_id: str, stream_arn: str, region: str, role_arn: str) -> Any:
        """The record as the function receives it in ``{"Records": [...]}``."""

    def failure_record(
        self,
        records: list[StreamRecord],
        *,
        condition: str,
        invoke_count: int,
        function_arn: str,
        shard_id: str,
        stream_arn: str,
        now: float,
        function_error: str | None,
        invoked: bool,
    ) -> Any:
        """The message an on-failure destination gets for a batch the mapping gives up on."""

    def keeps(self, patterns: Any, shaped: Any) -> bool:
        """Whether the mapping's filter patterns keep a record shaped by ``shape``."""


def default_hooks() -> StreamHooks:
    """Kinesis's hooks: the ordered stream a processor made without ``hooks`` reads."""
    from emulator.esm.streams.kinesis_events import KINESIS_HOOKS

    return KINESIS_HOOKS


def retry_delay(retry_number: int) -> float:
    # The exponent is bounded too: with MaximumRetryAttempts -1 a batch may be retried for hours, and
    # 2.0 ** 1024 overflows a float (2 ** 32 is far past the cap already).
    return min(RETRY_BASE_S * 2.0 ** min(max(0, retry_number - 1), 32), RETRY_CAP_S)


@dataclass
class _Sub:
    records: list[StreamRecord]
    invocations: int = 0
    retries: int = 0
    last_error: str | None = None


class StreamBatchProcessor:
    def __init__(
        self,
        config: MappingConfig,
        *,
        shard_id: str,
        region: str,
        role_arn: str,
        invoker: Invoker,
        sink: FailureSink,
        clock: Clock,
        stats: MappingStats,
        observer: MappingObserver,
        stop: threading.Event,
        on_checkpoint: Callable[[str], None],
        on_result: Callable[[str], None] | None = None,
        hooks: StreamHooks | None = None,
    ) -> None:
        self.config = config
        self.hooks = hooks or default_hooks()
        self.shard_id = shard_id
        self.region = region
        self.role_arn = role_arn
        self.invoker = invoker
        self.sink = sink
        self.clock = clock
        self.stats = stats
        self.observer = observer
        self.stop = stop
        self.on_checkpoint = on_checkpoint
        self.on_result = on_result
        # TumblingWindowInSeconds > 0: window fields in every payload, state carried (streams.windows).
        self.windows = TumblingWindows(config.tumbling_window_s, clock) if config.tumbling_window_s > 0 else None
        self._texts: dict[str, str] = {}  # the JSON of records measured for the next batch, by sequence number

    def shape(self, records: list[StreamRecord]) -> list[Any]:
        return [
            self.hooks.shape(
                r,
                shard_id=self.shard_id,
                stream_arn=self.config.event_source_arn,
                region=self.region,
                role_arn=self.role_arn,
            )
            for r in records
        ]

    def payload_size(self, record: StreamRecord) -> int:
        """Bytes ``record`` adds to an invocation payload: its JSON as the function receives it and the ", "
        before it (the lane cuts batches at the 6 MB payload limit with it). The JSON is kept for the batch's
        invocations, so a record is shaped and serialized once."""
        text = json.dumps(self.shape([record])[0])
        self._texts[record.sequence_number] = text
        return len(text) + len(", ")

    def _payload(self, records: list[StreamRecord], texts: dict[str, str]) -> bytes:
        """``{"Records": [...]}`` and a window's fields, as ``json.dumps`` writes them, from each record's JSON
        (made now for records ``payload_size`` did not measure)."""
        shaped = ", ".join(texts.get(r.sequence_number) or json.dumps(self.shape([r])[0]) for r in records)
        rest = "}"
        if self.windows is not None:
            fields = self.windows.fields(shard_id=self.shard_id, source_arn=self.config.event_source_arn)
            rest = ", " + json.dumps(fields)[1:]
        return ('{"Records": [' + shaped + "]" + rest).encode()

    def process(self, batch: list[StreamRecord]) -> bool:
        """Run ``batch`` to completion. False if stopped before that (nothing after the checkpoint is lost:
        the worker resumes from the checkpoint)."""
        texts, self._texts = self._texts, {}
        if self.windows is not None and batch:
            self._enter_window(batch[0])
        queue: deque[_Sub] = deque([_Sub(list(batch))])
        while queue:
            if self.stop.is_set():
                return False
            sub = queue[0]
            sub.records = self._drop_expired(sub)
            if not sub.records:
                queue.popleft()
                continue
            outcome = self.invoker.invoke(self.config.function_arn, self._payload(sub.records, texts))
            if outcome.invoked:
                sub.invocations += 1
                self.stats.add("invocations")
            verdict = self._windowed(read_response(
                outcome,
                [r.sequence_number for r in sub.records],
                report_item_failures=self.config.report_batch_item_failures,
            ), outcome.payload)
            if verdict.verdict == "success":
                self._report(LAST_RESULT_OK)
                self.stats.add("batches_succeeded")
                self._succeeded(sub.records)
                queue.popleft()
                continue
            if not verdict.invoked:
                self.stats.add("throttles")
                self.clock.wait(retry_delay(1), self.stop)
                continue
            self._failed(queue, sub, verdict)
        return True

    # -- tumbling windows -------------------------------------------------------------------------------
    def _enter_window(self, first: StreamRecord) -> None:
        """Before a batch: end the open window if the batch belongs to a later one, then open the batch's
        (with fresh state). Stopped during that final invocation, the batch is not invoked: ``process`` sees
        the stop next, and a restarted mapping starts its windows afresh."""
        assert self.windows is not None
        start = self.windows.window_of(first)
        if self.windows.start is not None and self.windows.start != start:
            self._final_invoke()
        self.windows.open(start)

    def _windowed(self, verdict: BatchVerdict, payload: bytes) -> BatchVerdict:
        """With a window, a response without ``state`` fails the batch; the state of one that ran is kept."""
        if self.windows is None or verdict.verdict == "batch_failure":
            return verdict
        state = self.windows.returned_state(payload)
        if missing(state):
            return BatchVerdict("batch_failure")
        if not self.windows.keep(state) and self._final_invoke():  # over 1 MB: the window ends early,
            self.windows.restarted()  # and its later records start afresh
        return verdict

    def tick(self) -> None:
        """Called while the lane is idle: the final invocation of a window whose end has passed."""
        if self.windows is not None and self.windows.due() and self._final_invoke():
            self.windows.ended()

    @property
    def window_open(self) -> bool:
        """A window still waits for its final invocation (the lane is not done)."""
        return self.windows is not None and self.windows.start is not None

    def _final_invoke(self) -> bool:
        """The window's last invocation: no records, its state, ``isFinalInvokeForWindow``; retried until it
        succeeds, holding up the shard. False if stopped first."""
        assert self.windows is not None
        attempt = 0
        while not self.stop.is_set():
            body = {"Records": [], **self.windows.fields(
                shard_id=self.shard_id, source_arn=self.config.event_source_arn, final=True)}
            outcome = self.invoker.invoke(self.config.function_arn, json.dumps(body).encode())
            if outcome.invoked:
                self.stats.add("invocations")
            if outcome.invoked and outcome.function_error is None:
                self.stats.add("windows_closed")
                return True
            attempt += 1
            self.stats.add("retries" if outcome.invoked else "throttles")
            self.clock.wait(retry_delay(attempt), self.stop)
        return False

    def _failed(self, queue: deque[_Sub], sub: _Sub, verdict: BatchVerdict) -> None:
        """The function ran and failed (all of ``sub`` or, with ReportBatchItemFailures, from an item on):
        checkpoint what succeeded, then bisect, retry after a backoff, or give up."""
        sub.last_error = verdict.function_error
        if verdict.function_error is not None:
            self._report(LAST_RESULT_FUNCTION_FAILED)
        if verdict.verdict == "partial_failure":
            self.stats.add("partial_failures")
            first_failed = next(
                i for i, r in enumerate(sub.records) if r.sequence_number == verdict.failed_ids[0]
            )
            self._succeeded(sub.records[:first_failed])
            sub.records = sub.records[first_failed:]
            if self.config.bisect_on_error and first_failed > 0:
                # Bisected at the returned sequence number: a split, so no retry is used up.
                self.stats.add("bisects")
                return
        if self.config.bisect_on_error and len(sub.records) > 1:
            self.stats.add("bisects")
            half = len(sub.records) // 2
            queue.popleft()
            queue.appendleft(_Sub(sub.records[half:]))
            queue.appendleft(_Sub(sub.records[:half]))
            return
        sub.retries += 1
        limit = self.config.max_retry_attempts
        if limit >= 0 and sub.retries > limit:
            self._give_up(sub, "RetryAttemptsExhausted", invoked=True)
            queue.popleft()
            return
        self.stats.add("retries")
        self.clock.wait(retry_delay(sub.retries), self.stop)

    def _report(self, result: str) -> None:
        if self.on_result is not None:
            self.on_result(result)

    def _succeeded(self, records: list[StreamRecord]) -> None:
        if records:
            self.stats.add("records_succeeded", len(records))
            self.observer.on_processed(self.config.uuid, records, shard_id=self.shard_id)
            self.on_checkpoint(records[-1].sequence_number)

    def _drop_expired(self, sub: _Sub) -> list[StreamRecord]:
        max_age = self.config.max_record_age_s
        if max_age < 0:
            return sub.records
        now = self.clock.now()
        expired = [r for r in sub.records if now - self.clock.from_wall(r.arrival) > max_age]
        if not expired:
            return sub.records
        gone = _Sub(expired, invocations=sub.invocations)
        self._give_up(gone, "RecordAgeExceeded", invoked=False)
        gone_ids = {r.sequence_number for r in expired}
        return [r for r in sub.records if r.sequence_number not in gone_ids]

    def _give_up(self, sub: _Sub, condition: str, *, invoked: bool) -> None:
        destination = self.config.on_failure_arn
        now = self.clock.now()
        # Told first, so whoever reads the destination can already name the records' events.
        self.observer.on_gave_up(self.config.uuid, sub.records, condition, destination, shard_id=self.shard_id)
        if destination is not None:
            record = self.hooks.failure_record(
                sub.records,
                condition=condition,
                invoke_count=max(1, sub.invocations),
                function_arn=self.config.function_arn,
                shard_id=self.shard_id,
                stream_arn=self.config.event_source_arn,
                now=now,
                function_error=sub.last_error,
                invoked=invoked,
            )
            self.sink.send(
                destination, record, mapping_uuid=self.config.uuid, delivered=self.shape(sub.records)
            )
            self.stats.add("records_dead_lettered", len(sub.records))
        else:
            self.stats.add("records_discarded", len(sub.records))
        self.on_checkpoint(sub.records[-1].sequence_number)
