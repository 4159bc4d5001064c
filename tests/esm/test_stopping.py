"""Stopping a poller whose invocation hangs: ``halt`` asks without waiting, ``stop`` waits within its bound, and the
exception the invocation then ends with (its runtime closed under it) is not shown as an error, while the same
exception in a running poller is (the queue poller's: ``test_sqs_poller.py``)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from esm_fakes import RecordingObserver, RecordingSink
from waiting import returns_in_time, wait_for

from emulator.clock import ScaledClock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.stats import MappingStats
from emulator.esm.streams.kinesis_events import StreamRecord
from emulator.esm.streams.poller import KinesisMappingPoller

SHARD = "shardId-000000000000"


class OneRecordShard:
    def shard_ids(self) -> list[str]:
        return [SHARD]

    def open(self, shard_id: str, **_: Any) -> str:
        return "0"

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        if iterator == "0":
            return [StreamRecord("1", "k", b'{"n": 1}', 1_700_000_000.0)], "1", 0
        return [], iterator, 0


class HangingFunction:
    """Blocks until ``end`` is set, then raises as the runtime does when it is closed under an invocation."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.end = threading.Event()

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        self.running.set()
        self.end.wait(60)
        raise RuntimeError("the Lambda runtime was closed while 'f' was running")

    def role_arn(self, function_arn: str) -> str:
        return "arn:aws:iam::123456789012:role/r"


def stream_poller(function: HangingFunction) -> KinesisMappingPoller:
    config = MappingConfig(
        uuid="u-1", function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        event_source_arn="arn:aws:kinesis:us-east-1:123456789012:stream/s", kind="kinesis", enabled=True,
        batch_size=1, window_s=0, starting_position="TRIM_HORIZON",
    )
    return KinesisMappingPoller(
        config, source=OneRecordShard(), invoker=function, sink=RecordingSink(), clock=ScaledClock(1.0),
        region="us-east-1", observer=RecordingObserver(), stats=MappingStats(), idle_poll_s=0.005,
    )


STOPPED = "event source mapping u-1 shard shardId-000000000000 stopped"


def logged(caplog: pytest.LogCaptureFixture, message: str) -> logging.LogRecord | None:
    return next((r for r in caplog.records if r.getMessage() == message), None)


@pytest.mark.parametrize("halted", [True, False])
def test_an_invocation_ended_by_stopping_is_not_an_error_but_one_while_running_is(
    halted: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="emulator.esm.streams.poller")
    function = HangingFunction()
    poller = stream_poller(function)
    poller.start()
    try:
        assert function.running.wait(20)
        if halted:
            poller.halt()
        function.end.set()
        # The worker keeps the error before it logs it: wait for the log record (at any level), not the error.
        record = wait_for("the failure to be logged", lambda: logged(caplog, STOPPED), bool, timeout=10)
        assert record.levelno == (logging.DEBUG if halted else logging.ERROR)
        assert "runtime was closed" in str(poller.errors[0])
    finally:
        function.end.set()
        poller.stop()


def test_stop_waits_no_longer_than_its_bound_for_a_hanging_invocation() -> None:
    function = HangingFunction()
    poller = stream_poller(function)
    poller.start()
    try:
        assert function.running.wait(20)
        # Unbounded, stop() would wait for the invocation, which only ends when the test sets `end`.
        returns_in_time(lambda: poller.stop(timeout_s=0.05), "stop() to return while the invocation still hangs",
                        timeout=30)
        assert not function.end.is_set()
    finally:
        function.end.set()

