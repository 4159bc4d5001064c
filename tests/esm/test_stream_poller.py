"""The ordered-stream poller's shard workers, driven in the test's own thread: a fake shard, a scripted function
and a fake clock whose waits decide when a worker stops. No worker thread runs unless a test says so, so a
broken worker fails its test at once instead of leaving a thread to time out.

AWS behaviour (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html): each shard is read in sequence
order from the mapping's starting position, or after the checkpoint it was stopped at; records a filter drops are
not sent but count as processed; with ParallelizationFactor N one shard has N batches in flight, one partition
key's records always in the same one.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from esm_fakes import RecordingObserver, RecordingSink, ScriptedInvoker, ok, returns, unhandled
from waiting import wait_for

from emulator.clock import FakeClock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.stats import MappingStats
from emulator.esm.streams import poller as stream_poller
from emulator.esm.streams.kinesis_source import StreamGone
from emulator.esm.streams.lanes import lane_of
from emulator.esm.streams.poller import ShardWorker, StreamMappingPoller
from emulator.esm.streams.records import StreamRecord

SHARD = "shardId-000000000000"
OTHER = "shardId-000000000001"
STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"


class Runaway(BaseException):
    """A worker waited far more often than the test needs: it would never stop. A BaseException, so the
    worker's own ``except Exception`` does not keep it."""


def make(seq: int, key: str | None = None, **data: Any) -> StreamRecord:
    return StreamRecord(str(seq), key or f"pk-{seq}", json.dumps({"n": seq, **data}).encode(), 1_700_000_000.0)


@dataclass
class FakeShards:
    """Shards in memory; an iterator is ``shard/position``. ``behind`` is what every read reports as
    MillisBehindLatest; ``gone`` makes every read raise StreamGone; ``error`` every read raise it."""

    shards: dict[str, list[StreamRecord]]
    behind: int = 0
    closed: bool = False  # the read that reaches a shard's end returns no next iterator
    gone: bool = False
    error: Exception | None = None
    opened: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    reads: list[tuple[str, int]] = field(default_factory=list)

    def shard_ids(self) -> list[str]:
        return list(self.shards)

    def open(self, shard_id: str, **how: Any) -> str:
        self.opened.append((shard_id, how))
        records = self.shards[shard_id]
        if how["position"] == "AFTER_SEQUENCE_NUMBER":
            after = int(how["after_sequence"])
            return f"{shard_id}/{sum(1 for r in records if int(r.sequence_number) <= after)}"
        return f"{shard_id}/{len(records) if how['position'] == 'LATEST' else 0}"

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        self.reads.append((iterator, limit))
        if self.gone:
            raise StreamGone(STREAM_ARN)
        if self.error is not None:
            raise self.error
        shard_id, position = iterator.split("/")
        found = self.shards[shard_id][int(position) : int(position) + limit]
        end = int(position) + len(found)
        if self.closed and end == len(self.shards[shard_id]):
            return found, None, self.behind
        return found, f"{shard_id}/{end}", self.behind


class DrivingClock(FakeClock):
    """A fake clock that, at each wait, asks the test whether the worker has done enough and stops it if so."""

    def __init__(self, max_waits: int = 300, scale: float = 1.0) -> None:
        super().__init__()
        self._scale = scale
        self.stop_when: Callable[[], bool] = lambda: True
        self.on_wait: Callable[[threading.Event | None], None] = lambda event: None
        self.stop: threading.Event | None = None
        self.max_waits = max_waits

    @property
    def scale(self) -> float:
        return self._scale

    def wait(self, seconds: float, event: threading.Event | None = None) -> bool:
        self.on_wait(event)
        if self.stop is not None and self.stop_when():
            self.stop.set()
        if len(self.waits) > self.max_waits:
            raise Runaway(f"{len(self.waits)} waits and the test's condition still not met")
        return super().wait(seconds, event)


@dataclass
class Setup:
    poller: StreamMappingPoller
    source: FakeShards
    invoker: ScriptedInvoker
    clock: DrivingClock
    stats: MappingStats
    observer: RecordingObserver
    results: list[tuple[str, str]]


def setup(
    shards: dict[str, list[StreamRecord]] | None = None,
    *,
    respond: Callable[[list[dict[str, Any]]], Any] = ok,
    checkpoints: dict[str, str] | None = None,
    start_iterators: dict[str, str] | None = None,
    **config: Any,
) -> Setup:
    base: dict[str, Any] = dict(
        uuid="u-1", function_arn=FUNCTION_ARN, event_source_arn=STREAM_ARN, kind="kinesis", enabled=True,
        batch_size=3, window_s=0, starting_position="TRIM_HORIZON",
    )
    base.update(config)
    source = FakeShards(shards if shards is not None else {SHARD: [make(i) for i in range(1, 8)]})
    invoker, clock, stats, observer = ScriptedInvoker(respond), DrivingClock(), MappingStats(), RecordingObserver()
    results: list[tuple[str, str]] = []
    poller = StreamMappingPoller(
        MappingConfig(**base), source=source, invoker=invoker, sink=RecordingSink(), clock=clock,
        region="us-east-1", observer=observer, stats=stats, checkpoints=checkpoints, idle_poll_s=0.5,
        start_iterators=start_iterators, on_processing_result=lambda uuid, text: results.append((uuid, text)),
    )
    return Setup(poller, source, invoker, clock, stats, observer, results)


def drive(s: Setup, worker: ShardWorker, until: Callable[[], bool]) -> None:
    """Run ``worker``'s reader in this thread until ``until()`` holds at one of its waits (a reader that loops
    without ever waiting raises Runaway)."""
    s.clock.stop, s.clock.stop_when = worker.stop_event, until
    wants, calls = worker._wants_records, [0]

    def counted() -> bool:
        calls[0] += 1
        if calls[0] > 5_000:
            raise Runaway("the reader loops without waiting")
        return wants()

    worker._wants_records = counted  # type: ignore[method-assign]
    worker._run()


def caught_up(worker: ShardWorker) -> Callable[[], bool]:
    return lambda: worker.caught_up and not worker.busy


# -- reading one shard ----------------------------------------------------------------------------------------
def test_a_shard_is_read_in_order_in_batches_and_checkpointed_at_its_last_record() -> None:
    s = setup()
    worker = s.poller.workers[0]
    drive(s, worker, caught_up(worker))
    assert s.invoker.calls == [["1", "2", "3"], ["4", "5", "6"], ["7"]]
    assert worker.checkpoint == "7"
    assert (s.stats.invocations, s.stats.batches_succeeded, s.stats.records_succeeded) == (3, 3, 7)
    assert [r.sequence_number for r in s.observer.processed] == [str(i) for i in range(1, 8)]
    assert set(s.observer.shards) == {SHARD}
    assert s.results == [("u-1", "OK")] * 3
    assert s.poller.errors == [] and worker.error is None and not s.poller.source_gone
    assert s.poller.stop() == {SHARD: "7"}


def test_records_are_read_only_to_fill_the_next_batch() -> None:
    s = setup({SHARD: [make(i) for i in range(1, 8)]})
    worker = s.poller.workers[0]
    drive(s, worker, caught_up(worker))
    # THEN each read asks for GetRecords' maximum, 10 000 records
    # (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html), and the next read comes
    # only when fewer than a batch are left: after the batches 1-3 and 4-6, once more to find the shard's end
    assert s.source.reads[:2] == [(f"{SHARD}/0", 10_000), (f"{SHARD}/7", 10_000)]
    assert s.invoker.calls[:2] == [["1", "2", "3"], ["4", "5", "6"]]


def test_a_full_buffer_is_not_read_again_before_a_batch_leaves_it() -> None:
    # GIVEN exactly two batches in the shard
    s = setup({SHARD: [make(i) for i in range(1, 7)]})
    worker = s.poller.workers[0]
    calls_at_second_read: list[int] = []
    read = s.source.read

    def watched(iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        if s.source.reads:
            calls_at_second_read.append(len(s.invoker.calls))
        return read(iterator, limit)

    s.source.read = watched  # type: ignore[method-assign]
    drive(s, worker, caught_up(worker))
    # THEN the reader read again only after both were invoked (the buffer held a full batch until then)
    assert calls_at_second_read and calls_at_second_read[0] == 2


def test_the_checkpoint_resumes_the_shard_after_it() -> None:
    s = setup(checkpoints={SHARD: "4"}, start_iterators={SHARD: f"{SHARD}/0"})
    worker = s.poller.workers[0]
    assert worker.checkpoint == "4"  # before reading anything, stopping keeps where it was
    drive(s, worker, caught_up(worker))
    assert s.source.opened == [(SHARD, {"position": "AFTER_SEQUENCE_NUMBER", "after_sequence": "4"})]
    assert s.invoker.calls == [["5", "6", "7"]]
    assert s.poller.stop() == {SHARD: "7"}


def test_a_start_iterator_is_used_when_there_is_no_checkpoint() -> None:
    s = setup(start_iterators={SHARD: f"{SHARD}/5"})
    worker = s.poller.workers[0]
    drive(s, worker, caught_up(worker))
    assert s.source.opened == []
    assert s.invoker.calls == [["6", "7"]]


@pytest.mark.parametrize(
    ("position", "timestamp", "opened"),
    [
        (None, None, {"position": "TRIM_HORIZON", "timestamp": None}),
        ("LATEST", None, {"position": "LATEST", "timestamp": None}),
        ("AT_TIMESTAMP", 1_700_000_123.0, {"position": "AT_TIMESTAMP", "timestamp": 1_700_000_123.0}),
    ],
)
def test_a_new_shard_opens_at_the_mapping_s_starting_position(
    position: str | None, timestamp: float | None, opened: dict[str, Any]
) -> None:
    s = setup(starting_position=position, starting_position_timestamp=timestamp)
    worker = s.poller.workers[0]
    drive(s, worker, caught_up(worker))
    assert s.source.opened == [(SHARD, opened)]


@pytest.mark.parametrize("lanes", [1, 2])
def test_a_closed_shard_read_to_its_end_is_caught_up_once_its_last_records_are_done(lanes: int) -> None:
    # GIVEN a shard closed by a reshard: the read that returns its last records gives no next iterator
    s = setup(parallelization_factor=lanes)
    s.source.closed = True
    worker = s.poller.workers[0]
    def lanes_run(event: threading.Event | None) -> None:  # with several lanes, while the reader waits
        for lane in worker.lanes[1:] if lanes == 1 else worker.lanes:
            while lane.buffer:
                lane.step()

    s.clock.on_wait = lanes_run
    # WHEN the reader has read it and the lanes have run its records
    drive(s, worker, lambda: worker.caught_up)
    # THEN every record was delivered and the shard counts as idle: nothing more will come from it
    assert sorted(int(seq) for call in s.invoker.calls for seq in call) == list(range(1, 8))
    assert len(s.source.reads) == 1
    assert s.poller.idle_since(0.0)
    assert s.poller.errors == []


def test_a_stopped_poller_that_read_nothing_saves_no_checkpoint() -> None:
    s = setup()
    assert s.poller.stop() == {}
    assert all(w.stop_event.is_set() for w in s.poller.workers)


# -- several shards -----------------------------------------------------------------------------------------
def test_every_shard_has_its_own_worker_and_checkpoint() -> None:
    s = setup({SHARD: [make(i) for i in range(1, 3)], OTHER: [make(i) for i in range(10, 14)]},
              checkpoints={OTHER: "10"})
    assert [w.shard_id for w in s.poller.workers] == [SHARD, OTHER]
    for worker in s.poller.workers:
        drive(s, worker, caught_up(worker))
    assert s.invoker.calls == [["1", "2"], ["11", "12", "13"]]
    assert s.observer.shards == [SHARD, OTHER]
    assert s.poller.stop() == {SHARD: "2", OTHER: "13"}
    assert s.poller.describe() == {
        "uuid": "u-1",
        "shards": {SHARD: {"checkpoint": "2", "caught_up": True}, OTHER: {"checkpoint": "13", "caught_up": True}},
        "stats": s.stats.as_dict(),
    }


def test_a_poller_that_read_nothing_describes_no_checkpoint_and_not_caught_up() -> None:
    s = setup({SHARD: [make(1)]})
    assert s.poller.describe() == {
        "uuid": "u-1", "shards": {SHARD: {"checkpoint": None, "caught_up": False}}, "stats": s.stats.as_dict(),
    }


class StuckThread:
    """A worker thread that never ends: each join uses up the whole time it is given (on a fake monotonic
    clock)."""

    def __init__(self, now: list[float]) -> None:
        self.now = now
        self.joins: list[float] = []

    def is_alive(self) -> bool:
        return True

    def join(self, timeout: float) -> None:
        self.joins.append(timeout)
        self.now[0] += timeout


def test_stop_shares_its_bound_among_every_thread_it_waits_for(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_000.0]
    monkeypatch.setattr(stream_poller, "time", SimpleNamespace(monotonic=lambda: now[0]))
    s = setup({SHARD: [], OTHER: []}, parallelization_factor=2)
    threads: list[StuckThread] = []
    for worker in s.poller.workers:
        worker._thread, worker._lane_threads = StuckThread(now), [StuckThread(now), StuckThread(now)]  # type: ignore[assignment,list-item]
        threads += [worker._thread, *worker._lane_threads]  # type: ignore[list-item]
    assert s.poller.stop(timeout_s=3.0) == {}
    assert [t.joins for t in threads] == [[3.0], [0.0], [0.0], [0.0], [0.0], [0.0]]


def test_stop_does_not_wait_for_threads_that_ended_nor_for_the_thread_calling_it() -> None:
    # GIVEN a worker whose reader thread is the one calling stop (a hook during an invocation), and lanes
    # whose threads never started
    s = setup({SHARD: []}, parallelization_factor=2)
    worker = s.poller.workers[0]
    worker._thread = threading.current_thread()
    # WHEN it is stopped THEN it returns without joining itself (which would raise)
    assert s.poller.stop(timeout_s=30) == {}
    assert worker.stop_event.is_set()


def test_halt_and_wake_reach_every_worker_and_lane() -> None:
    s = setup({SHARD: [], OTHER: []}, parallelization_factor=2)
    s.poller.wake()
    assert all(w.wake.is_set() for w in s.poller.workers)
    s.poller.halt()
    assert all(w.stop_event.is_set() for w in s.poller.workers)
    assert all(lane.wake.is_set() for w in s.poller.workers for lane in w.lanes)


# -- quiescence --------------------------------------------------------------------------------------------
def test_idle_only_after_a_read_since_the_instant_asked_about_found_the_shard_s_end() -> None:
    s = setup()
    worker = s.poller.workers[0]
    assert not s.poller.idle_since(0.0)  # nothing read yet
    drive(s, worker, caught_up(worker))
    found_end_at = worker.caught_up_at
    assert found_end_at > 0
    assert s.poller.idle_since(found_end_at)
    assert not s.poller.idle_since(found_end_at + 0.001)  # records put after that read may not be seen yet
    worker.lanes[0].buffer.append(make(8))
    assert worker.busy and not s.poller.idle_since(found_end_at)


def test_a_shard_still_behind_the_stream_s_tip_is_not_caught_up() -> None:
    s = setup()
    s.source.behind = 1000
    worker = s.poller.workers[0]
    drive(s, worker, lambda: len(s.invoker.calls) == 3)
    assert not worker.caught_up
    assert not s.poller.idle_since(0.0)


@pytest.mark.parametrize("lanes", [1, 2])
def test_an_idle_shard_waits_the_idle_interval_of_wall_time_between_reads(lanes: int) -> None:
    # GIVEN time running twice as fast as wall time
    s = setup({SHARD: []}, parallelization_factor=lanes)
    s.clock._scale = 2.0
    worker = s.poller.workers[0]
    drive(s, worker, lambda: len(s.source.reads) >= 3)
    # THEN it waits 0.5 s of wall time, 1 emulated second, between reads
    assert s.clock.waits == [1.0, 1.0, 1.0]


def test_by_default_an_idle_shard_is_read_again_every_20_ms() -> None:
    source, clock = FakeShards({SHARD: []}), DrivingClock(scale=10.0)
    poller = StreamMappingPoller(
        MappingConfig(uuid="u-1", function_arn=FUNCTION_ARN, event_source_arn=STREAM_ARN, kind="kinesis",
                      enabled=True, batch_size=3, window_s=0, starting_position="TRIM_HORIZON"),
        source=source, invoker=Accepting(), sink=RecordingSink(), clock=clock, region="us-east-1",
        observer=RecordingObserver(), stats=MappingStats(),
    )
    worker = poller.workers[0]
    clock.stop, clock.stop_when = worker.stop_event, lambda: len(source.reads) >= 2
    worker._run()
    assert clock.waits[0] == pytest.approx(0.2)  # 0.02 s of wall time at time scale 10


def test_every_shard_must_be_idle() -> None:
    s = setup({SHARD: [make(1)], OTHER: [make(2)]})
    first = s.poller.workers[0]
    drive(s, first, caught_up(first))
    assert first.idle_since(0.0)
    assert not s.poller.idle_since(0.0)


# -- filters ------------------------------------------------------------------------------------------------
def test_filtered_records_are_not_sent_but_counted_reported_and_checkpointed() -> None:
    # GIVEN a filter keeping records whose data has keep: true; the last two records are dropped
    keep = [True, False, True, True, False, False]
    records = [make(i, keep=k) for i, k in enumerate(keep, 1)]
    pattern = json.dumps({"data": {"keep": [True]}})
    s = setup({SHARD: records}, filter_criteria={"Filters": [{"Pattern": pattern}]})
    worker = s.poller.workers[0]
    drive(s, worker, caught_up(worker))
    assert s.invoker.calls == [["1", "3", "4"]]
    assert [r.sequence_number for r in s.observer.filtered] == ["2", "5", "6"]
    assert s.observer.mapping_uuids == ["u-1"] and s.observer.shards == [SHARD, SHARD]
    assert s.stats.records_filtered == 3
    assert worker.checkpoint == "6"  # the dropped records count as processed


def test_a_read_whose_records_are_all_filtered_out_invokes_nothing_and_checkpoints_them() -> None:
    pattern = json.dumps({"data": {"keep": [True]}})
    s = setup({SHARD: [make(1, keep=False), make(2, keep=False)]}, filter_criteria={"Filters": [{"Pattern": pattern}]})
    worker = s.poller.workers[0]
    drive(s, worker, caught_up(worker))
    assert s.invoker.calls == []
    assert worker.checkpoint == "2"


class ShardAwareHooks:
    """Kinesis-like hooks whose filter keeps records by the shard and stream they were shaped with."""

    def __init__(self, keep_shard: str, keep_stream: str) -> None:
        self.keep_shard, self.keep_stream = keep_shard, keep_stream

    def shape(self, record: StreamRecord, *, shard_id: str, stream_arn: str, region: str, role_arn: str) -> Any:
        return {"kinesis": {"sequenceNumber": record.sequence_number, "data": "", "partitionKey": "k"},
                "shard": shard_id, "stream": stream_arn, "region": region}

    def failure_record(self, records: list[StreamRecord], **context: Any) -> Any:
        return {}

    def keeps(self, patterns: Any, shaped: Any) -> bool:
        return bool(patterns) and shaped["shard"] == self.keep_shard and shaped["stream"] == self.keep_stream


@dataclass
class RecordingHooks:
    """Kinesis's hooks, keeping every record the filter looked at."""

    seen: list[Any] = field(default_factory=list)

    def shape(self, record: StreamRecord, *, shard_id: str, stream_arn: str, region: str, role_arn: str) -> Any:
        return stream_poller.default_hooks().shape(
            record, shard_id=shard_id, stream_arn=stream_arn, region=region, role_arn=role_arn
        ) | {"roleArn": role_arn}

    def failure_record(self, records: list[StreamRecord], **context: Any) -> Any:
        return {}

    def keeps(self, patterns: Any, shaped: Any) -> bool:
        self.seen.append(shaped)
        return True


@dataclass
class Payloads:
    """A function that succeeds and keeps the records it was sent."""

    records: list[Any] = field(default_factory=list)

    def invoke(self, function_arn: str, payload: bytes) -> Any:
        self.records += json.loads(payload)["Records"]
        return ok()

    def role_arn(self, function_arn: str) -> str:
        return f"arn:aws:iam::123456789012:role/{function_arn.rsplit(':', 1)[-1]}-role"


def filtered_config() -> MappingConfig:
    """A Kinesis mapping from the trim horizon, batches of 3, keeping records whose data's n is 1 or 2."""
    return MappingConfig(
        uuid="u-1", function_arn=FUNCTION_ARN, event_source_arn=STREAM_ARN, kind="kinesis", enabled=True,
        batch_size=3, window_s=0, starting_position="TRIM_HORIZON",
        filter_criteria={"Filters": [{"Pattern": json.dumps({"data": {"n": [1, 2]}})}]},
    )


def test_a_filter_sees_each_record_exactly_as_the_function_receives_it() -> None:
    hooks, function = RecordingHooks(), Payloads()
    config = filtered_config()
    clock = DrivingClock()
    poller = StreamMappingPoller(
        config, source=FakeShards({SHARD: [make(1), make(2)]}), invoker=function, sink=RecordingSink(), clock=clock,
        region="eu-west-3", observer=RecordingObserver(), stats=MappingStats(), hooks=hooks,
    )
    worker = poller.workers[0]
    clock.stop, clock.stop_when = worker.stop_event, caught_up(worker)
    worker._run()
    assert len(function.records) == 2
    assert hooks.seen == function.records
    assert {(r["awsRegion"], r["roleArn"]) for r in hooks.seen} == {
        ("eu-west-3", "arn:aws:iam::123456789012:role/f-role")  # the execution role of the mapping's function
    }


class Accepting:
    """A function that succeeds without reading its event."""

    def invoke(self, function_arn: str, payload: bytes) -> Any:
        return ok()

    def role_arn(self, function_arn: str) -> str:
        return "arn:aws:iam::123456789012:role/r"


def test_a_filter_sees_each_record_as_shaped_for_its_own_shard_and_stream() -> None:
    source = FakeShards({SHARD: [make(1)], OTHER: [make(2)]})
    observer = RecordingObserver()
    config = filtered_config()
    clock = DrivingClock()
    poller = StreamMappingPoller(
        config, source=source, invoker=Accepting(), sink=RecordingSink(), clock=clock, region="us-east-1",
        observer=observer, stats=MappingStats(), hooks=ShardAwareHooks(OTHER, STREAM_ARN),
    )
    for worker in poller.workers:
        clock.stop, clock.stop_when = worker.stop_event, caught_up(worker)
        worker._run()
    assert [r.sequence_number for r in observer.filtered] == ["1"]
    assert [r.sequence_number for r in observer.processed] == ["2"]


# -- tumbling windows ----------------------------------------------------------------------------------------
def test_tumbling_windows_split_batches_at_window_ends_and_each_window_gets_its_final_invocation() -> None:
    # GIVEN 60 s tumbling windows, two records in the window open at the clock's start and one in the next
    # (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html)
    start = 1_700_000_000.0
    records = [
        StreamRecord("1", "a", b'{"n": 1}', start), StreamRecord("2", "b", b'{"n": 2}', start),
        StreamRecord("3", "c", b'{"n": 3}', start + 45),
    ]
    s = setup({SHARD: records}, respond=returns({"state": {}}), tumbling_window_s=60, batch_size=10)
    s.clock.on_wait = lambda event: s.clock.advance(10)
    worker = s.poller.workers[0]
    drive(s, worker, lambda: s.stats.windows_closed == 2 or s.clock.now() > start + 300)
    # THEN no batch spans two windows, and each window ended with a final invocation without records
    assert s.invoker.calls == [["1", "2"], [], ["3"], []]
    assert s.stats.windows_closed == 2 and worker.checkpoint == "3"


# -- ParallelizationFactor ---------------------------------------------------------------------------------
def two_lane_records() -> list[StreamRecord]:
    keys = [f"key-{i}" for i in range(12)]
    assert {lane_of(k, 2) for k in keys} == {0, 1}
    return [make(i, keys[i % len(keys)]) for i in range(1, 25)]


def test_with_several_lanes_each_key_goes_to_its_own_lane_and_the_reader_fills_every_lane() -> None:
    records = two_lane_records()
    s = setup({SHARD: records}, parallelization_factor=2, batch_size=2)
    worker = s.poller.workers[0]
    assert len(worker.lanes) == 2
    # WHEN only the reader runs (no lane runs a batch), until its first wait
    drive(s, worker, lambda: True)
    # THEN every record is buffered in the lane of its partition key, in order, and nothing was invoked
    for index, lane in enumerate(worker.lanes):
        assert [r.sequence_number for r in lane.buffer] == [
            r.sequence_number for r in records if lane_of(r.partition_key, 2) == index
        ]
    assert s.invoker.calls == []
    assert worker.busy
    # WHEN each lane then runs
    worker.stop_event.clear()
    for lane in worker.lanes:
        s.clock.stop_when = lambda lane=lane: not lane.buffer  # type: ignore[misc]
        worker.stop_event.clear()
        worker._run_lane(lane)
        assert not lane.buffer
    # THEN every record was invoked once, in batches of at most two of one lane's keys, and checkpointed
    assert sorted(int(seq) for call in s.invoker.calls for seq in call) == list(range(1, 25))
    assert all(len(call) <= 2 for call in s.invoker.calls)
    assert worker.checkpoint == "24"
    assert not worker.busy
    assert s.poller.errors == []


def test_with_several_lanes_a_lane_holding_exactly_a_batch_has_no_room() -> None:
    # GIVEN two lanes, batches of two, and a shard of two records per lane
    keys = [one_lane_key(0), one_lane_key(1)]
    s = setup({SHARD: [make(i, keys[i % 2]) for i in range(1, 5)]}, parallelization_factor=2, batch_size=2)
    worker = s.poller.workers[0]
    drive(s, worker, lambda: True)
    # THEN after the first read every lane holds a full batch: the reader waited without reading again
    assert [len(lane.buffer) for lane in worker.lanes] == [2, 2]
    assert len(s.source.reads) == 1


def test_with_several_lanes_the_reader_stops_reading_while_every_lane_holds_a_batch() -> None:
    records = two_lane_records()
    s = setup({SHARD: records}, parallelization_factor=2, batch_size=2)
    worker = s.poller.workers[0]
    drive(s, worker, lambda: len(s.clock.waits) >= 2)
    # every lane holds at least a batch after the first read: the reader waited instead of reading on
    assert len(s.source.reads) == 1


def one_lane_key(lane: int) -> str:
    return next(f"k{i}" for i in range(100) if lane_of(f"k{i}", 2) == lane)


def test_with_several_lanes_the_reader_reads_on_while_a_lane_has_room() -> None:
    # GIVEN a shard returning one record per read, every record in lane 0, and lane 1 empty
    records = [make(i, one_lane_key(0)) for i in range(1, 21)]
    s = setup({SHARD: records}, parallelization_factor=2, batch_size=2)
    worker = s.poller.workers[0]
    read = s.source.read
    s.source.read = lambda iterator, limit: read(iterator, 1)  # type: ignore[method-assign]
    drive(s, worker, lambda: True)
    # THEN it read record after record without waiting in between, past two batches per lane, to the shard's end
    assert [it for it, _ in s.source.reads] == [f"{SHARD}/{i}" for i in range(21)]
    assert len(worker.lanes[0].buffer) == 20


def test_with_several_lanes_and_big_batches_the_reader_buffers_up_to_two_batches_per_lane(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN reads of 100 records, batches of 60, every record in lane 0, and lane 1 empty
    monkeypatch.setattr(stream_poller, "READ_LIMIT", 100)
    records = [make(i, one_lane_key(0)) for i in range(1, 401)]
    s = setup({SHARD: records}, parallelization_factor=2, batch_size=60)
    worker = s.poller.workers[0]
    drive(s, worker, lambda: len(s.clock.waits) >= 2)
    # THEN it read until it held two batches per lane (240 records): three reads
    assert len(s.source.reads) == 3
    assert len(worker.lanes[0].buffer) == 300


def test_with_several_lanes_the_reader_buffers_a_bounded_number_of_records(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN reads of 100 records, one lane stuck (all keys in lane 0) and more records than the bound
    monkeypatch.setattr(stream_poller, "READ_LIMIT", 100)
    records = [make(i, one_lane_key(0)) for i in range(1, 301)]
    s = setup({SHARD: records}, parallelization_factor=2, batch_size=2)
    worker = s.poller.workers[0]
    drive(s, worker, lambda: len(s.clock.waits) >= 3)
    # THEN the reader stopped at the bound (one read) although lane 1 has room
    assert len(worker.lanes[0].buffer) == 100
    assert len(s.source.reads) == 1


def test_a_lane_waiting_for_records_wakes_when_the_reader_adds_some() -> None:
    s = setup({SHARD: []}, parallelization_factor=2)
    worker = s.poller.workers[0]
    lane = worker.lanes[0]
    ended_early: list[bool] = []

    def on_wait(event: threading.Event | None) -> None:
        if not ended_early:
            lane.add([make(1)])  # the reader, while the lane waits
            ended_early.append(FakeClock.wait(s.clock, 60.0, event))  # True: the event ended it at once

    s.clock.on_wait = on_wait
    s.clock.stop, s.clock.stop_when = worker.stop_event, lambda: s.invoker.calls != []
    worker._run_lane(lane)
    assert ended_early == [True]
    assert s.invoker.calls == [["1"]] and s.poller.errors == []


def test_a_reader_waiting_between_reads_wakes_on_wake() -> None:
    s = setup({SHARD: []}, parallelization_factor=2)
    worker = s.poller.workers[0]
    ended_early: list[bool] = []

    def on_wait(event: threading.Event | None) -> None:
        if not ended_early:
            s.poller.wake()  # a record was put
            ended_early.append(FakeClock.wait(s.clock, 60.0, event))  # True: the event ended it at once

    s.clock.on_wait = on_wait
    drive(s, worker, lambda: bool(ended_early))
    assert ended_early == [True]


def test_a_lane_that_fails_is_kept_as_the_worker_s_error() -> None:
    s = setup({SHARD: two_lane_records()}, parallelization_factor=2, batch_size=2)
    worker = s.poller.workers[0]
    lane = worker.lanes[0]
    lane.buffer.append(make(1))

    def broken() -> float | None:
        lane.busy = True
        raise RuntimeError("lane broke")

    lane.step = broken  # type: ignore[method-assign]
    worker._run_lane(lane)
    assert isinstance(worker.error, RuntimeError) and s.poller.errors == [worker.error]
    assert not lane.busy


# -- a stream that vanished, a reader that broke ------------------------------------------------------------
def test_a_stream_that_vanished_ends_the_worker_without_an_error_and_leaves_it_idle() -> None:
    s = setup()
    s.source.gone = True
    worker = s.poller.workers[0]
    drive(s, worker, lambda: False)
    assert worker.source_gone and s.poller.source_gone
    assert s.poller.errors == []
    assert s.poller.idle_since(float("inf"))


def test_a_reader_that_breaks_is_kept_as_the_poller_s_error_and_frees_its_lanes() -> None:
    s = setup()
    s.source.error = RuntimeError("the backend died")
    worker = s.poller.workers[0]
    worker.lanes[0].busy = True
    drive(s, worker, lambda: False)
    assert s.poller.errors == [s.source.error]
    assert not s.poller.source_gone
    assert not worker.lanes[0].busy


def test_the_processing_result_follows_the_last_batch() -> None:
    s = setup({SHARD: [make(1)]}, respond=unhandled, max_retry_attempts=0)
    worker = s.poller.workers[0]
    drive(s, worker, caught_up(worker))
    assert s.results == [("u-1", "PROBLEM: Function call failed")]


# -- threads ------------------------------------------------------------------------------------------------
def test_start_runs_every_shard_and_lane_in_its_own_thread_and_stop_ends_them() -> None:
    from emulator.clock import ScaledClock

    source = FakeShards({SHARD: two_lane_records(), OTHER: [make(100)]})
    invoker = ScriptedInvoker(ok)
    config = MappingConfig(
        uuid="u-1", function_arn=FUNCTION_ARN, event_source_arn=STREAM_ARN, kind="kinesis", enabled=True,
        batch_size=2, window_s=0, starting_position="TRIM_HORIZON", parallelization_factor=2,
    )
    poller = StreamMappingPoller(
        config, source=source, invoker=invoker, sink=RecordingSink(), clock=ScaledClock(1.0), region="us-east-1",
        observer=RecordingObserver(), stats=MappingStats(), idle_poll_s=0.01,
    )
    poller.start()
    try:
        wait_for("both shards to be read to their ends", lambda: poller.idle_since(0.0), bool, timeout=10)
    finally:
        saved = poller.stop(timeout_s=10)
    assert saved == {SHARD: "24", OTHER: "100"}
    threads = [t for w in poller.workers for t in [w._thread, *w._lane_threads]]
    assert len(threads) == 2 + 2 * 2
    assert not any(t.is_alive() for t in threads)
