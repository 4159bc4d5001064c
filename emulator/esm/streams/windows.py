"""Tumbling windows (TumblingWindowInSeconds) for Kinesis and DynamoDB Streams mappings.

AWS's contract (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html and
https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html):
- every record belongs to one window, by its arrival time: windows of N seconds aligned on the epoch; a batch
  never spans two windows;
- each invocation gets ``window: {start, end}``, the ``state`` the previous invocation of the same window and
  shard returned (``{}`` for the first), ``shardId``, ``eventSourceARN``, ``isFinalInvokeForWindow`` and
  ``isWindowTerminatedEarly``;
- the function's response must hold ``state``; a response without it is a failed invocation (retried like any
  failed batch: MaximumRetryAttempts, MaximumRecordAgeInSeconds, bisection, ReportBatchItemFailures);
- when the window ends Lambda invokes the function once more with no records, the final state and
  ``isFinalInvokeForWindow: true``; that invocation is retried until it succeeds, holding up the shard; then the
  state is dropped and the next window starts with ``{}``;
- state is limited to 1 MB per shard: a larger state ends the window early (a final invocation with
  ``isWindowTerminatedEarly: true``), and later records of the same window start again from ``{}``.

Windows run on the mapping's clock, so a time scale shortens them as it does every other wait. State lives per
lane of a shard (one lane unless ParallelizationFactor > 1); a restarted mapping starts its windows afresh.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.clock import Clock
from emulator.esm.streams.records import StreamRecord

MAX_STATE_BYTES = 1024 * 1024
_MISSING = object()


def iso_window(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class TumblingWindows:
    """One lane's windows: which window is open and the state its invocations carried."""

    seconds: int
    clock: Clock
    start: float | None = None  # the open window's start (emulated epoch seconds), None when none is open
    state: Any = field(default_factory=dict)
    terminated_early: bool = False

    def window_of(self, record: StreamRecord) -> float:
        """The start of the window ``record`` belongs to."""
        return math.floor(self.clock.from_wall(record.arrival) / self.seconds) * self.seconds

    @property
    def end(self) -> float | None:
        return None if self.start is None else self.start + self.seconds

    def open(self, start: float) -> None:
        if self.start != start:
            self.start, self.state, self.terminated_early = start, {}, False

    def due(self) -> bool:
        """An open window whose end has passed on the clock: its final invocation is due."""
        end = self.end
        return end is not None and self.clock.now() >= end

    def fields(self, *, shard_id: str, source_arn: str, final: bool = False) -> dict[str, Any]:
        """What an invocation's payload carries besides ``Records``."""
        start = self.start
        assert start is not None  # only an open window's invocations carry window fields
        return {
            "window": {"start": iso_window(start), "end": iso_window(start + self.seconds)},
            "state": self.state,
            "shardId": shard_id,
            "eventSourceARN": source_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": self.terminated_early if final else False,
        }

    def returned_state(self, payload: bytes) -> Any:
        """The ``state`` of a response, or ``_MISSING`` (the invocation then counts as failed)."""
        try:
            body = json.loads(payload)
        except (ValueError, RecursionError):  # an empty, non-JSON or too deeply nested response holds no state
            return _MISSING
        if not isinstance(body, dict) or "state" not in body:
            return _MISSING
        return body["state"]

    def keep(self, state: Any) -> bool:
        """Carry ``state`` to the window's next invocation; False when it is over 1 MB (the window then ends
        early: the caller makes the final invocation with it)."""
        self.state = state
        if len(json.dumps(state).encode()) > MAX_STATE_BYTES:
            self.terminated_early = True
            return False
        return True

    def ended(self) -> None:
        """After the successful final invocation of a window that ended on time: it is gone."""
        self.start, self.state, self.terminated_early = None, {}, False

    def restarted(self) -> None:
        """After the successful final invocation of a window terminated early: it goes on with fresh state."""
        self.state, self.terminated_early = {}, False


def missing(state: Any) -> bool:
    return state is _MISSING


__all__ = ["MAX_STATE_BYTES", "TumblingWindows", "iso_window", "missing"]
