"""One lane of a shard, stepped by hand on a fake clock: when a batch is due (BatchSize, the batching window,
the 6 MB payload), what it holds, what the lane tells the checkpoint, and when it counts as idle.

AWS (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#kinesis-polling-and-batching): Lambda
invokes the function when the batch is full, when the batching window (MaximumBatchingWindowInSeconds) has
passed since it started gathering, or when the payload would exceed the 6 MB invocation limit.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from esm_fakes import RecordingObserver, RecordingSink

from emulator.clock import FakeClock, ScaledClock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.stats import MappingStats
from emulator.esm.streams.batch import StreamBatchProcessor
from emulator.esm.streams.kinesis_events import KINESIS_HOOKS
from emulator.esm.streams.lanes import MAX_PAYLOAD_BYTES, CheckpointTracker, Lane, lane_of
from emulator.esm.streams.records import StreamRecord
from emulator.esm.streams.windows import TumblingWindows

MIB = 1024 * 1024


def cfg(**overrides: Any) -> MappingConfig:
    base: dict[str, Any] = dict(
        uuid="u-1",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        event_source_arn="arn:aws:kinesis:us-east-1:123456789012:stream/s",
        kind="kinesis",
        enabled=True,
        batch_size=10,
        window_s=0,
        starting_position="TRIM_HORIZON",
    )
    return MappingConfig(**(base | overrides))


def recs(first: int, last: int, *, size: int = 10) -> list[StreamRecord]:
    return [StreamRecord(str(i), f"pk-{i}", b"x" * size, 1_700_000_000.0) for i in range(first, last + 1)]


@dataclass
class Harness:
    lane: Lane
    clock: FakeClock
    tracker: CheckpointTracker
    batches: list[list[str]] = field(default_factory=list)

    def step(self) -> float | None:
        return self.lane.step()


def harness(
    clock: Any = None, *, idle_poll_s: float = 0.5, sizes: dict[str, int] | None = None, **config: Any
) -> Harness:
    """A lane whose records take ``sizes[sequence number]`` bytes of payload (100 when not given)."""
    clock = clock or FakeClock()
    sizes = defaultdict(lambda: 100, sizes or {})
    tracker = CheckpointTracker()
    batches: list[list[str]] = []

    def process(batch: list[StreamRecord]) -> bool:
        batches.append([r.sequence_number for r in batch])
        return True

    lane = Lane(cfg(**config), process=process, size=lambda r: sizes[r.sequence_number], tracker=tracker, clock=clock,
                idle_poll_s=idle_poll_s)
    return Harness(lane, clock, tracker, batches)


# -- when a batch is due ------------------------------------------------------------------------------------
def test_an_empty_lane_looks_again_after_its_poll_interval_in_emulated_seconds() -> None:
    clock = ScaledClock(100.0)  # 0.5 wall seconds are 50 emulated ones
    h = harness(clock, idle_poll_s=0.5)
    assert h.step() == 50.0
    assert h.lane.idle and not h.lane.busy and h.batches == []


def test_without_a_batching_window_buffered_records_go_at_once() -> None:
    h = harness(window_s=0)
    h.lane.add(recs(1, 3))
    assert h.step() is None
    assert h.batches == [["1", "2", "3"]]


def test_the_batching_window_holds_a_partial_batch_until_it_has_passed() -> None:
    # GIVEN a 5 s window, BatchSize 10 and 3 records; the lane polls every 10 s when idle
    h = harness(window_s=5, idle_poll_s=10)
    h.lane.add(recs(1, 3))
    # THEN the lane waits out the rest of the window, and is busy meanwhile
    assert h.step() == 5
    assert h.lane.busy and not h.lane.idle
    h.clock.advance(3)
    h.lane.add(recs(4, 4))
    assert h.step() == 2  # the window counts from the first record, not the latest
    h.clock.advance(2)
    assert h.step() is None  # exactly at its end the batch goes
    assert h.batches == [["1", "2", "3", "4"]]


def test_a_one_second_window_is_a_window_too_and_is_waited_to_its_last_fraction() -> None:
    h = harness(window_s=1, idle_poll_s=10)
    h.lane.add(recs(1, 1))
    assert h.step() == 1
    h.clock.advance(0.75)
    assert h.step() == 0.25
    assert h.batches == []
    h.clock.advance(0.25)
    assert h.step() is None and h.batches == [["1"]]


def test_a_long_window_is_waited_in_poll_intervals() -> None:
    h = harness(window_s=300, idle_poll_s=1)
    h.lane.add(recs(1, 1))
    assert h.step() == 1  # woken to look again well before the window ends
    assert h.batches == []


def test_a_full_batch_does_not_wait_for_the_window() -> None:
    h = harness(window_s=5, batch_size=3)
    h.lane.add(recs(1, 3))
    assert h.step() is None
    assert h.batches == [["1", "2", "3"]]


def test_each_batch_starts_its_own_window() -> None:
    h = harness(window_s=5, batch_size=3, idle_poll_s=10)
    h.lane.add(recs(1, 4))
    assert h.step() is None  # 1-3 fill a batch
    assert h.step() == 5  # record 4 starts a new window now
    h.clock.advance(5)
    assert h.step() is None
    h.clock.advance(100)
    assert h.step() == 10  # idle: nothing is gathered
    h.lane.add(recs(5, 5))
    assert h.step() == 5  # a full window again, not one that began when the lane went idle
    assert h.batches == [["1", "2", "3"], ["4"]]


def test_records_arriving_as_a_batch_goes_start_a_new_window() -> None:
    # The window began for record 1; records 2 and 3 fill the batch, and record 4, already there when the
    # next step looks, waits a whole window of its own.
    h = harness(window_s=5, batch_size=3, idle_poll_s=10)
    h.lane.add(recs(1, 1))
    assert h.step() == 5
    h.clock.advance(1)
    h.lane.add(recs(2, 4))
    assert h.step() is None
    assert h.step() == 5
    assert h.batches == [["1", "2", "3"]]


# -- what a batch holds --------------------------------------------------------------------------------------
def test_a_batch_holds_at_most_batch_size_records_in_order() -> None:
    h = harness(batch_size=4)
    h.lane.add(recs(1, 10))
    while h.lane.buffer:
        h.step()
    assert h.batches == [["1", "2", "3", "4"], ["5", "6", "7", "8"], ["9", "10"]]


def test_a_batch_fills_the_6_mb_payload_to_its_last_byte_and_no_further() -> None:
    # {"Records": [a, b, c]}: 15 bytes of envelope, each record its JSON and the ", " before it (counted by the
    # size function), which the first record has not
    exact = MAX_PAYLOAD_BYTES - 15 + 2
    h = harness(batch_size=100, sizes={"1": 2 * MIB, "2": 2 * MIB, "3": exact - 4 * MIB})
    h.lane.add(recs(1, 4))
    while h.lane.buffer:
        h.step()
    assert h.batches == [["1", "2", "3"], ["4"]]
    h = harness(batch_size=100, sizes={"1": 2 * MIB, "2": 2 * MIB, "3": exact - 4 * MIB + 1})
    h.lane.add(recs(1, 4))
    while h.lane.buffer:
        h.step()
    assert h.batches == [["1", "2"], ["3", "4"]]


def test_a_record_bigger_than_the_payload_limit_still_goes_alone() -> None:
    h = harness(batch_size=100, sizes={"1": 7 * MIB})
    h.lane.add(recs(1, 2))
    while h.lane.buffer:
        h.step()
    assert h.batches == [["1"], ["2"]]


def test_with_tumbling_windows_a_batch_ends_where_the_next_window_begins() -> None:
    # Records 1 and 2 in the window of T0, 3 in the next one: two batches, each of one window.
    clock = FakeClock(T0 + 70)
    hooks = Windows(TumblingWindows(60, clock))
    batches: list[list[str]] = []

    def process(batch: list[StreamRecord]) -> bool:
        batches.append([r.sequence_number for r in batch])
        return True

    lane = Lane(cfg(), process=process, size=lambda r: 100, tracker=CheckpointTracker(), clock=clock,
                idle_poll_s=1, windows=hooks)
    lane.add([arriving(1, T0 + 1), arriving(2, T0 + 59), arriving(3, T0 + 60)])
    for _ in range(3):  # bounded: a lane that took nothing would loop forever
        if lane.buffer:
            lane.step()
    assert batches == [["1", "2"], ["3"]]
    lane.add([arriving(4, T0 + 61)])
    lane.step()
    assert batches[-1] == ["4"]


# -- the checkpoint ------------------------------------------------------------------------------------------
def test_the_processor_checkpoint_marks_the_batch_done_up_to_that_record() -> None:
    h = harness(batch_size=20)
    records = recs(8, 12)  # 8..12: "9" < "10" as numbers, not as text
    h.tracker.read(r.sequence_number for r in records)
    h.lane.add(records)
    h.step()
    h.lane.checkpointed("10")
    assert h.tracker.checkpoint == "10" and h.tracker.outstanding == 2
    h.lane.checkpointed("12")
    assert h.tracker.checkpoint == "12" and h.tracker.outstanding == 0


def test_the_checkpoint_never_passes_a_record_that_is_not_done() -> None:
    tracker = CheckpointTracker()
    tracker.read(["1", "2", "3"])
    tracker.done(["3"])
    tracker.done(["1"])
    assert tracker.checkpoint == "1" and tracker.outstanding == 2
    tracker.done([])
    assert tracker.checkpoint == "1"
    tracker.done(["2"])
    assert tracker.checkpoint == "3" and tracker.outstanding == 0


# -- idle, busy and tumbling windows -------------------------------------------------------------------------
T0 = 1_800_000_000.0  # a multiple of 60


def arriving(i: int, at: float) -> StreamRecord:
    return StreamRecord(str(i), f"pk-{i}", b"{}", at)


@dataclass
class Windows:
    """Window hooks around real ``TumblingWindows`` whose window never waits for a final invocation."""

    windows: TumblingWindows
    window_open: bool = False

    def tick(self) -> None:
        return None


@dataclass
class OpenWindow:
    """Window hooks whose window stays open until ``tick`` runs ``closes`` times."""

    lane: Lane | None = None
    windows: TumblingWindows | None = None
    closes: int = 1
    busy_during_tick: list[bool] = field(default_factory=list)

    @property
    def window_open(self) -> bool:
        return self.closes > 0

    def tick(self) -> None:
        assert self.lane is not None
        self.busy_during_tick.append(self.lane.busy)
        self.closes -= 1


def test_a_lane_with_an_open_tumbling_window_is_not_idle_and_busy_while_it_ticks() -> None:
    hooks = OpenWindow()
    lane = Lane(cfg(), process=lambda b: True, size=lambda r: 100, tracker=CheckpointTracker(),
                clock=FakeClock(), idle_poll_s=1, windows=hooks)
    hooks.lane = lane
    assert not lane.idle  # nothing buffered, nothing running, but a final invocation is still due
    assert lane.step() == 1
    assert hooks.busy_during_tick == [True]  # the final invocation counts as a batch in flight
    assert lane.idle and not lane.busy


def test_a_lane_is_idle_only_with_nothing_buffered_and_nothing_running() -> None:
    lane = Lane(cfg(), process=lambda b: True, size=lambda r: 100, tracker=CheckpointTracker(), clock=FakeClock(),
                idle_poll_s=1)
    assert lane.idle
    lane.add(recs(1, 1))
    assert not lane.idle and lane.wake.is_set()
    lane.buffer.clear()
    lane.busy = True
    assert not lane.idle


# -- partition keys to lanes ---------------------------------------------------------------------------------
def test_two_lanes_both_get_keys() -> None:
    assert {lane_of(f"key-{i}", 2) for i in range(50)} == {0, 1}


def test_the_lane_of_a_key_is_the_same_in_every_release() -> None:
    # A recorded run replayed by a later pipemu must give each partition key the same lane (and a lane the
    # same keys), so the assignment is pinned: MD5 of the key, its first 8 bytes big-endian, modulo the lanes.
    assert [lane_of(k, 4) for k in "abcdefgh"] == [0, 0, 3, 1, 3, 0, 2, 0]
    assert [lane_of(f"key-{i}", 10) for i in range(12)] == [7, 1, 7, 8, 2, 8, 2, 1, 4, 6, 6, 4]


def test_threads_wake_a_waiting_lane_when_records_arrive() -> None:
    lane = Lane(cfg(), process=lambda b: True, size=lambda r: 100, tracker=CheckpointTracker(), clock=FakeClock(),
                idle_poll_s=1)
    woke = threading.Event()

    def waiter() -> None:
        if lane.wake.wait(20):
            woke.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    lane.add(recs(1, 1))
    thread.join(20)
    assert woke.is_set()


# -- the lane and its processor: the payload the function gets ----------------------------------------------
@dataclass
class CountingHooks:
    """Kinesis's hooks, counting how often a record is shaped."""

    shaped: int = 0

    def shape(self, record: StreamRecord, **context: Any) -> Any:
        self.shaped += 1
        return KINESIS_HOOKS.shape(record, **context)

    def failure_record(self, records: list[StreamRecord], **context: Any) -> Any:
        return KINESIS_HOOKS.failure_record(records, **context)

    def keeps(self, patterns: Any, shaped: Any) -> bool:
        return KINESIS_HOOKS.keeps(patterns, shaped)


def kinesis_lane(batch_size: int, invoker: Any, hooks: Any = None, **config: Any) -> tuple[Lane, StreamBatchProcessor]:
    mapping = cfg(batch_size=batch_size, **config)
    p = StreamBatchProcessor(
        mapping, shard_id="shardId-000000000000", region="us-east-1",
        role_arn="arn:aws:iam::123456789012:role/service-role/consumer-role", invoker=invoker, sink=RecordingSink(),
        clock=FakeClock(), stats=MappingStats(), observer=RecordingObserver(), stop=threading.Event(),
        on_checkpoint=lambda s: None, hooks=hooks,
    )
    lane = Lane(mapping, process=p.process, size=p.payload_size, tracker=CheckpointTracker(), clock=FakeClock(),
                idle_poll_s=1)
    return lane, p


def kinesis_records(n: int, size: int) -> list[StreamRecord]:
    """Records as Kinesis numbers them (56 digits) with ``size`` bytes of data each."""
    base = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898
    return [StreamRecord(str(base + i), f"customer-{i:05d}", b"x" * size, 1_700_000_000.0) for i in range(n)]


@dataclass
class Payloads:
    """Keeps every payload; answers with a state, so a tumbling window's batches succeed too."""

    payloads: list[bytes] = field(default_factory=list)

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        self.payloads.append(payload)
        return InvokeOutcome(b'{"state": {}}', None, 200)

    def role_arn(self, function_arn: str) -> str:
        return "arn:aws:iam::123456789012:role/r"

    @property
    def sizes(self) -> list[int]:
        return [len(p) for p in self.payloads]

    @property
    def counts(self) -> list[int]:
        return [len(json.loads(p)["Records"]) for p in self.payloads]


def test_no_invocation_payload_is_over_6_mb_and_each_batch_takes_all_that_fit() -> None:
    # 4000-byte records take about 5.9 KB each as the function gets them: about 1060 fit in 6 MiB
    invoker = Payloads()
    lane, p = kinesis_lane(10_000, invoker)
    records = kinesis_records(1200, 4000)
    lane.add(records)
    while lane.buffer:
        lane.step()
    assert sum(invoker.counts) == 1200 and len(invoker.counts) == 2
    assert max(invoker.sizes) <= MAX_PAYLOAD_BYTES
    next_record = records[invoker.counts[0]]
    assert invoker.sizes[0] + p.payload_size(next_record) > MAX_PAYLOAD_BYTES


def test_the_measured_sizes_add_up_to_the_payload_the_function_gets() -> None:
    invoker = Payloads()
    lane, p = kinesis_lane(10, invoker)
    records = kinesis_records(3, 10)
    sizes = [p.payload_size(r) for r in records]
    lane.add(records)
    lane.step()
    assert invoker.sizes == [len('{"Records": []}') - len(", ") + sum(sizes)]


def test_a_payload_is_written_as_json_dumps_writes_it_with_a_tumbling_windows_fields() -> None:
    invoker = Payloads()
    lane, _ = kinesis_lane(10, invoker, tumbling_window_s=60)
    lane.add(kinesis_records(2, 10))
    lane.step()
    [payload] = invoker.payloads
    event = json.loads(payload)
    assert payload == json.dumps(event).encode()
    assert list(event)[:2] == ["Records", "window"] and event["isFinalInvokeForWindow"] is False
    assert [r["kinesis"]["partitionKey"] for r in event["Records"]] == ["customer-00000", "customer-00001"]


def test_each_record_is_shaped_once_for_its_batch() -> None:
    hooks = CountingHooks()
    lane, _ = kinesis_lane(10, Payloads(), hooks=hooks)
    lane.add(kinesis_records(5, 10))
    lane.step()
    assert hooks.shaped == 5
