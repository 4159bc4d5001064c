"""ParallelizationFactor with fakes: several batches of one shard in flight, never two with the same partition
key, each key in order, and a checkpoint that never passes a record that is not done."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from esm_fakes import RecordingObserver, RecordingSink
from waiting import wait_for

from emulator.clock import ScaledClock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.stats import MappingStats
from emulator.esm.streams.kinesis_events import StreamRecord
from emulator.esm.streams.lanes import CheckpointTracker, lane_of
from emulator.esm.streams.poller import KinesisMappingPoller

SHARD = "shardId-000000000000"


def test_checkpoint_is_the_end_of_the_done_prefix() -> None:
    tracker = CheckpointTracker()
    tracker.read(["1", "2", "3", "4", "5", "6"])
    tracker.done(["2", "3"])
    assert tracker.checkpoint is None
    tracker.done(["1"])
    assert tracker.checkpoint == "3"
    tracker.done(["5", "6"])
    assert tracker.checkpoint == "3"
    tracker.done(["4"])
    assert tracker.checkpoint == "6"
    assert tracker.outstanding == 0


def test_checkpoint_starts_where_the_shard_was_resumed() -> None:
    tracker = CheckpointTracker("41")
    tracker.read(["42"])
    assert tracker.checkpoint == "41"
    tracker.done(["42"])
    assert tracker.checkpoint == "42"


def test_a_partition_key_always_lands_in_the_same_lane() -> None:
    keys = [f"key-{i}" for i in range(200)]
    assert all(lane_of(k, 1) == 0 for k in keys)
    lanes = [lane_of(k, 10) for k in keys]
    assert lanes == [lane_of(k, 10) for k in keys]
    assert set(lanes) == set(range(10))


# -- the poller with a fake shard and a function that takes a while ------------------------------------------
class FakeShard:
    def __init__(self, records: list[StreamRecord]) -> None:
        self.records = records

    def shard_ids(self) -> list[str]:
        return [SHARD]

    def open(
        self, shard_id: str, *, position: str, timestamp: float | None = None, after_sequence: str | None = None
    ) -> str:
        return after_sequence or "0"

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        after = int(iterator)
        found = [r for r in self.records if int(r.sequence_number) > after][:limit]
        return found, (found[-1].sequence_number if found else iterator), 0


@dataclass
class Call:
    keys: list[str]
    seqs: list[str]
    start: float
    end: float
    failed: bool


@dataclass
class SlowFunction:
    """Takes ``seconds`` per batch; fails every batch holding a record of key ``poison``."""

    seconds: float = 0.05
    poison: str | None = None
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        start = time.monotonic()
        time.sleep(self.seconds)
        records = json.loads(payload)["Records"]
        keys = [r["kinesis"]["partitionKey"] for r in records]
        failed = self.poison in keys
        with self.lock:
            self.calls.append(
                Call(keys, [r["kinesis"]["sequenceNumber"] for r in records], start, time.monotonic(), failed)
            )
        if failed:
            error = {"errorMessage": "poison", "errorType": "ValueError", "stackTrace": []}
            return InvokeOutcome(json.dumps(error).encode(), "Unhandled", 200)
        return InvokeOutcome(b"null", None, 200)

    def role_arn(self, function_arn: str) -> str:
        return "arn:aws:iam::123456789012:role/r"


def stream_records(keys: list[str], per_key: int) -> list[StreamRecord]:
    """Keys interleaved: k0, k1, ..., k0, k1, ... so every read holds work for every lane."""
    out = []
    for n in range(per_key):
        for key in keys:
            seq = str(len(out) + 1)
            out.append(StreamRecord(seq, key, json.dumps({"n": n}).encode(), 1_700_000_000.0))
    return out


def run_poller(
    records: list[StreamRecord], function: SlowFunction, until: Callable[[], bool], **config: Any
) -> KinesisMappingPoller:
    base: dict[str, Any] = dict(
        uuid="u-1",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        event_source_arn="arn:aws:kinesis:us-east-1:123456789012:stream/s",
        kind="kinesis",
        enabled=True,
        batch_size=3,
        window_s=0,
        starting_position="TRIM_HORIZON",
    )
    base.update(config)
    poller = KinesisMappingPoller(
        MappingConfig(**base),
        source=FakeShard(records),
        invoker=function,
        sink=RecordingSink(),
        clock=ScaledClock(100.0),
        region="us-east-1",
        observer=RecordingObserver(),
        stats=MappingStats(),
        idle_poll_s=0.005,
    )
    poller.start()
    try:
        wait_for("the mapping to reach the test's condition", until, bool, timeout=20)
    except BaseException:
        poller.stop()
        raise
    return poller


KEYS = ["a", "b", "c", "d", "e", "f", "g", "h"]


def test_batches_run_concurrently_without_sharing_a_key_and_keep_each_key_in_order() -> None:
    assert len({lane_of(k, 4) for k in KEYS}) >= 2  # the keys spread over several lanes
    records = stream_records(KEYS, per_key=6)
    function = SlowFunction()
    poller = run_poller(
        records, function, lambda: sum(len(c.seqs) for c in function.calls) >= 48, parallelization_factor=4
    )
    try:
        calls = sorted(function.calls, key=lambda c: c.start)
        delivered = sorted(int(s) for c in calls for s in c.seqs)
        assert delivered == list(range(1, 49))  # each record once
        overlapping = [(x, y) for i, x in enumerate(calls) for y in calls[i + 1 :] if y.start < x.end]
        assert overlapping, "no two batches were ever in flight together"
        for x, y in overlapping:
            assert not set(x.keys) & set(y.keys), f"key in two concurrent batches: {x} / {y}"
        for key in KEYS:
            seqs = [int(s) for c in calls for k, s in zip(c.keys, c.seqs, strict=True) if k == key]
            assert seqs == sorted(seqs)
        assert all(len(c.seqs) <= 3 for c in calls)
        wait_for("the checkpoint to reach 48", lambda: poller.workers[0].checkpoint, lambda c: c == "48", timeout=5)
    finally:
        poller.stop()


def test_a_stuck_key_holds_the_checkpoint_but_not_the_other_lanes() -> None:
    # GIVEN key "a" fails forever (MaximumRetryAttempts -1) and shares no lane with some other keys
    stuck_lane = lane_of("a", 4)
    free_keys = [k for k in KEYS if lane_of(k, 4) != stuck_lane]
    assert free_keys
    # every free key's first record comes before the first of "a", so the checkpoint has somewhere to stop
    ordered = [*free_keys, "a", *(k for k in KEYS if k not in free_keys and k != "a")]
    records = stream_records(ordered, per_key=4)
    function = SlowFunction(seconds=0.01, poison="a")
    free = {r.sequence_number for r in records if r.partition_key in free_keys}

    def free_done() -> bool:
        return free <= {s for c in function.calls if not c.failed for s in c.seqs}

    # WHEN the mapping runs
    poller = run_poller(records, function, free_done, parallelization_factor=4, max_retry_attempts=-1)
    try:
        # THEN every record of the other lanes was delivered
        assert free_done()
        # and the checkpoint reaches the record just before the stuck key's first one, and stops there
        first_stuck = min(int(r.sequence_number) for r in records if r.partition_key == "a")
        assert first_stuck == len(free_keys) + 1
        expected = str(first_stuck - 1)
        wait_for(f"the checkpoint to stop at {expected}", lambda: poller.workers[0].checkpoint,
                 lambda c: c == expected, timeout=5)
    finally:
        saved = poller.stop()
    assert saved == {SHARD: expected}


def test_parallelization_factor_one_is_one_batch_at_a_time() -> None:
    records = stream_records(KEYS, per_key=2)
    function = SlowFunction(seconds=0.02)
    poller = run_poller(records, function, lambda: sum(len(c.seqs) for c in function.calls) >= 16)
    try:
        calls = sorted(function.calls, key=lambda c: c.start)
        assert all(later.start >= earlier.end for earlier, later in pairwise(calls))
        assert [int(s) for c in calls for s in c.seqs] == list(range(1, 17))
    finally:
        poller.stop()
