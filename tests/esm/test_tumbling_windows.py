"""Tumbling windows on the ordered-stream processor, with a fake clock: window fields, state carried between
invocations of one window, the final invocation, a response without state, early termination over 1 MB, and
batches that never span two windows."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from esm_fakes import RecordingObserver, RecordingSink
from test_stream_batch import STREAM, config

from emulator.clock import FakeClock
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.stats import MappingStats
from emulator.esm.streams.batch import StreamBatchProcessor
from emulator.esm.streams.lanes import CheckpointTracker, Lane
from emulator.esm.streams.records import StreamRecord
from emulator.esm.streams.windows import MAX_STATE_BYTES, TumblingWindows, iso_window, missing

T0 = 1_800_000_000.0  # a multiple of 60: a window starts here


def rec(i: int, at: float) -> StreamRecord:
    return StreamRecord(str(i), f"pk-{i}", json.dumps({"n": i}).encode(), at)


@dataclass
class Summing:
    """Adds each record's n to state.sum; ``answer`` may replace the response (a bad function)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    answer: Callable[[dict[str, Any], dict[str, Any]], InvokeOutcome | None] = lambda event, state: None

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        event = json.loads(payload)
        self.events.append(event)
        total = event["state"].get("sum", 0) + sum(
            json.loads(base64.b64decode(r["kinesis"]["data"]))["n"] for r in event["Records"])
        state = {"sum": total}
        return self.answer(event, state) or InvokeOutcome(json.dumps({"state": state}).encode(), None, 200)

    def role_arn(self, function_arn: str) -> str:
        return "arn:aws:iam::123456789012:role/r"


def make(function: Summing, clock: FakeClock, **overrides: Any) -> tuple[StreamBatchProcessor, MappingStats]:
    stats = MappingStats()
    p = StreamBatchProcessor(
        config(tumbling_window_s=60, **overrides), shard_id="shardId-000000000000", region="us-east-1",
        role_arn="r", invoker=function, sink=RecordingSink(), clock=clock, stats=stats,
        observer=RecordingObserver(), stop=threading.Event(), on_checkpoint=lambda s: None,
    )
    return p, stats


def test_state_is_carried_within_a_window_and_handed_over_in_a_final_invocation() -> None:
    clock, function = FakeClock(T0 + 5), Summing()
    p, stats = make(function, clock)
    assert p.process([rec(1, T0 + 1), rec(2, T0 + 2)]) and p.process([rec(3, T0 + 10)])
    first, second = function.events
    assert first["window"] == {"start": "2027-01-15T08:00:00Z", "end": "2027-01-15T08:01:00Z"}
    assert (first["state"], second["state"]) == ({}, {"sum": 3})
    assert first["shardId"] == "shardId-000000000000" and first["eventSourceARN"] == STREAM
    assert first["isFinalInvokeForWindow"] is False and first["isWindowTerminatedEarly"] is False
    p.tick()  # the window has not ended yet
    assert len(function.events) == 2 and p.window_open
    clock.advance(60)
    p.tick()
    final = function.events[2]
    assert final["Records"] == [] and final["isFinalInvokeForWindow"] is True
    assert final["state"] == {"sum": 6} and final["window"] == first["window"]
    assert not p.window_open and stats.windows_closed == 1
    p.process([rec(4, T0 + 70)])  # the next window starts from {}
    assert function.events[3]["state"] == {} and function.events[3]["window"]["start"] == "2027-01-15T08:01:00Z"


def test_a_batch_of_a_later_window_ends_the_open_one_first() -> None:
    clock, function = FakeClock(T0 + 5), Summing()
    p, _ = make(function, clock)
    p.process([rec(1, T0 + 1)])
    p.process([rec(2, T0 + 61)])
    assert [e["isFinalInvokeForWindow"] for e in function.events] == [False, True, False]
    assert function.events[1]["state"] == {"sum": 1} and function.events[2]["state"] == {}


def test_a_response_without_state_fails_the_batch_and_the_retry_gets_the_same_state() -> None:
    clock = FakeClock(T0 + 5)
    calls = {"n": 0}

    def forget_state_once(event: dict[str, Any], state: dict[str, Any]) -> InvokeOutcome | None:
        calls["n"] += 1
        return InvokeOutcome(b'{"batchItemFailures": []}', None, 200) if calls["n"] == 2 else None

    function = Summing(answer=forget_state_once)
    p, stats = make(function, clock, max_retry_attempts=2)
    p.process([rec(1, T0 + 1)])
    p.process([rec(2, T0 + 2)])
    assert [e["state"] for e in function.events] == [{}, {"sum": 1}, {"sum": 1}]
    assert stats.retries == 1
    clock.advance(60)
    p.tick()
    assert function.events[-1]["state"] == {"sum": 3}


def test_a_failing_final_invocation_holds_the_shard_until_it_succeeds() -> None:
    clock, failures = FakeClock(T0 + 5), {"left": 2}

    def fail_final(event: dict[str, Any], state: dict[str, Any]) -> InvokeOutcome | None:
        if event["isFinalInvokeForWindow"] and failures["left"]:
            failures["left"] -= 1
            return InvokeOutcome(b'{"errorMessage": "x"}', "Unhandled", 200)
        return None

    function = Summing(answer=fail_final)
    p, stats = make(function, clock, max_retry_attempts=0)
    p.process([rec(1, T0 + 1)])
    p.process([rec(2, T0 + 65)])
    finals = [e for e in function.events if e["isFinalInvokeForWindow"]]
    assert len(finals) == 3 and all(f["state"] == {"sum": 1} for f in finals)  # not given up (MRA 0)
    assert function.events[-1]["Records"] and function.events[-1]["state"] == {}
    assert stats.windows_closed == 1 and stats.retries == 2


def test_state_over_one_megabyte_ends_the_window_early_and_it_goes_on_afresh() -> None:
    clock = FakeClock(T0 + 5)

    def huge(event: dict[str, Any], state: dict[str, Any]) -> InvokeOutcome | None:
        if event["Records"] and event["Records"][0]["kinesis"]["sequenceNumber"] == "1":
            return InvokeOutcome(json.dumps({"state": {"blob": "x" * MAX_STATE_BYTES}}).encode(), None, 200)
        return None

    function = Summing(answer=huge)
    p, _ = make(function, clock)
    p.process([rec(1, T0 + 1)])
    final = function.events[1]
    assert final["isFinalInvokeForWindow"] is True and final["isWindowTerminatedEarly"] is True
    p.process([rec(2, T0 + 2)])
    assert function.events[2]["state"] == {} and function.events[2]["window"] == final["window"]
    assert p.window_open


def test_a_lane_never_puts_two_windows_in_one_batch_and_is_busy_while_a_window_is_open() -> None:
    clock, function = FakeClock(T0 + 5), Summing()
    p, _ = make(function, clock, batch_size=10)
    batches: list[list[str]] = []

    def process(batch: list[StreamRecord]) -> bool:
        batches.append([r.sequence_number for r in batch])
        return p.process(batch)

    lane = Lane(p.config, process=process, size=p.payload_size, tracker=CheckpointTracker(), clock=clock,
                idle_poll_s=0.01, windows=p)
    lane.add([rec(1, T0 + 1), rec(2, T0 + 59), rec(3, T0 + 60), rec(4, T0 + 61)])
    while lane.buffer:
        lane.step()
    assert batches == [["1", "2"], ["3", "4"]]
    assert not lane.idle  # the second window waits for its final invocation
    clock.advance(120)
    lane.step()
    assert lane.idle and function.events[-1]["isFinalInvokeForWindow"] is True
    assert function.events[-1]["state"] == {"sum": 7}


# -- one lane's windows, without a processor ------------------------------------------------------------------
def windows(seconds: int = 60, now: float = T0) -> tuple[TumblingWindows, FakeClock]:
    clock = FakeClock(now)
    return TumblingWindows(seconds, clock), clock


def test_a_record_belongs_to_the_window_its_arrival_falls_in_aligned_on_the_epoch() -> None:
    w, _ = windows(seconds=30)
    assert [w.window_of(rec(1, T0 + dt)) for dt in (0, 29.999, 30, 59, 61)] == [T0, T0, T0 + 30, T0 + 30, T0 + 60]
    assert w.window_of(rec(1, T0 - 0.5)) == T0 - 30


def test_a_window_ends_its_length_after_it_starts_and_is_due_from_that_instant() -> None:
    w, clock = windows(seconds=60, now=T0 + 59)
    assert w.end is None and not w.due()  # no window open
    w.open(T0)
    assert w.end == T0 + 60
    assert not w.due()
    clock.advance(1)
    assert w.due()


def test_opening_the_open_window_keeps_its_state_and_a_new_one_starts_afresh() -> None:
    w, _ = windows()
    w.open(T0)
    w.state, w.terminated_early = {"sum": 3}, True
    w.open(T0)
    assert (w.state, w.terminated_early) == ({"sum": 3}, True)
    w.open(T0 + 60)
    assert (w.start, w.state, w.terminated_early) == (T0 + 60, {}, False)


def test_only_the_final_invocation_says_whether_the_window_ended_early() -> None:
    w, _ = windows()
    w.open(T0 + 60)
    w.terminated_early = True
    ordinary = w.fields(shard_id="s-1", source_arn=STREAM)
    final = w.fields(shard_id="s-1", source_arn=STREAM, final=True)
    assert (ordinary["isFinalInvokeForWindow"], ordinary["isWindowTerminatedEarly"]) == (False, False)
    assert (final["isFinalInvokeForWindow"], final["isWindowTerminatedEarly"]) == (True, True)
    assert final["window"] == {"start": "2027-01-15T08:01:00Z", "end": "2027-01-15T08:02:00Z"}
    assert final["shardId"] == "s-1" and final["eventSourceARN"] == STREAM


@pytest.mark.parametrize(
    ("payload", "state"),
    [
        (b'{"state": {"sum": 1}}', {"sum": 1}),
        (b'{"state": null}', None),  # a state of null is a state
        (b'{"state": {}, "batchItemFailures": []}', {}),
    ],
)
def test_the_state_a_response_returns(payload: bytes, state: Any) -> None:
    w, _ = windows()
    returned = w.returned_state(payload)
    assert not missing(returned) and returned == state


@pytest.mark.parametrize("payload", [b"", b"null", b"not json", b'"the state is fine"', b'["state"]', b'{"sum": 1}'])
def test_a_response_without_a_state_object_has_none(payload: bytes) -> None:
    w, _ = windows()
    assert missing(w.returned_state(payload))


def test_state_of_exactly_one_megabyte_is_kept_and_one_byte_more_ends_the_window_early() -> None:
    w, _ = windows()
    w.open(T0)
    fits = {"blob": "x" * (MAX_STATE_BYTES - len('{"blob": ""}'))}
    assert len(json.dumps(fits).encode()) == MAX_STATE_BYTES == 1024 * 1024
    assert w.keep(fits) and not w.terminated_early and w.state == fits
    over = {"blob": fits["blob"] + "x"}
    assert not w.keep(over) and w.terminated_early
    assert w.state == over  # handed to the final invocation


def test_closing_a_window_on_time_ends_it_and_closing_it_early_keeps_it_open_afresh() -> None:
    w, _ = windows()
    w.open(T0)
    w.state, w.terminated_early = {"sum": 1}, True
    w.restarted()
    assert (w.start, w.state, w.terminated_early) == (T0, {}, False)
    w.state = {"sum": 2}
    w.ended()
    assert (w.start, w.state, w.terminated_early) == (None, {}, False)


def test_window_times_are_whole_seconds_in_utc_whatever_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert iso_window(T0 + 0.75) == "2027-01-15T08:00:00Z"
    finally:
        monkeypatch.undo()
        time.tzset()


# -- the final invocation ----------------------------------------------------------------------------------
@dataclass
class Answers:
    """A function answering final invocations from ``finals`` in turn (then with success), recording where
    each invocation went."""

    finals: list[InvokeOutcome | None]
    inner: Summing = field(default_factory=Summing)
    arns: list[str] = field(default_factory=list)

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        self.arns.append(function_arn)
        answer = self.inner.invoke(function_arn, payload)
        if json.loads(payload)["isFinalInvokeForWindow"] and self.finals:
            return self.finals.pop(0) or answer
        return answer

    def role_arn(self, function_arn: str) -> str:
        return self.inner.role_arn(function_arn)


THROTTLED = InvokeOutcome(b"", None, 429, invoked=False)
FAILED = InvokeOutcome(b'{"errorMessage": "x"}', "Unhandled", 200)


def processor_with(function: Any, clock: FakeClock, stop: threading.Event | None = None) -> tuple[
        StreamBatchProcessor, MappingStats]:
    stats = MappingStats()
    p = StreamBatchProcessor(
        config(tumbling_window_s=60), shard_id="shardId-000000000007", region="us-east-1", role_arn="r",
        invoker=function, sink=RecordingSink(), clock=clock, stats=stats, observer=RecordingObserver(),
        stop=stop or threading.Event(), on_checkpoint=lambda s: None,
    )
    return p, stats


def test_the_final_invocation_goes_to_the_mapping_function_and_names_the_shard_and_stream() -> None:
    clock, function = FakeClock(T0 + 5), Answers([])
    p, _ = processor_with(function, clock)
    p.process([rec(1, T0 + 1)])
    clock.advance(60)
    p.tick()
    final = function.inner.events[-1]
    assert final["isFinalInvokeForWindow"] is True
    assert (final["shardId"], final["eventSourceARN"]) == ("shardId-000000000007", STREAM)
    assert function.arns == [config().function_arn] * 2


def test_a_final_invocation_is_retried_with_backoff_and_a_throttle_is_not_a_retry() -> None:
    clock, function = FakeClock(T0 + 5), Answers([THROTTLED, FAILED, FAILED])
    p, stats = processor_with(function, clock)
    p.process([rec(1, T0 + 1)])
    clock.advance(60)
    p.tick()
    assert clock.waits == [1, 2, 4]  # the backoff of a failed batch
    assert (stats.throttles, stats.retries, stats.invocations, stats.windows_closed) == (1, 2, 4, 1)
    assert not p.window_open


def test_stopped_while_a_final_invocation_fails_the_window_stays_open_and_no_backoff_is_slept() -> None:
    class StoppingClock(FakeClock):
        def wait(self, seconds: float, event: threading.Event | None = None) -> bool:
            stop.set()
            return super().wait(seconds, event)

    stop, clock = threading.Event(), StoppingClock(T0 + 5)
    function = Answers([FAILED])
    p, stats = processor_with(function, clock, stop)
    p.process([rec(1, T0 + 1)])
    clock.advance(60)
    p.tick()
    assert p.window_open and stats.windows_closed == 0
    assert clock.waits == []


def test_a_window_ended_early_stays_open_and_gets_its_own_final_invocation_at_its_end() -> None:
    clock = FakeClock(T0 + 5)
    big = {"blob": "x" * MAX_STATE_BYTES}

    def huge(event: dict[str, Any], state: dict[str, Any]) -> InvokeOutcome | None:
        if event["Records"] and event["Records"][0]["kinesis"]["sequenceNumber"] == "1":
            return InvokeOutcome(json.dumps({"state": big}).encode(), None, 200)
        return None

    function = Summing(answer=huge)
    p, stats = make(function, clock)
    p.process([rec(1, T0 + 1)])
    assert function.events[1]["isWindowTerminatedEarly"] is True and stats.windows_closed == 1
    assert p.window_open  # the window goes on until its end
    clock.advance(60)
    p.tick()
    final = function.events[-1]
    assert final["isFinalInvokeForWindow"] is True and final["isWindowTerminatedEarly"] is False
    assert final["state"] == {} and final["window"] == function.events[0]["window"]
    assert not p.window_open and stats.windows_closed == 2
