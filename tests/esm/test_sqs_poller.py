"""SqsMappingPoller with a fake clock, a fake queue and a scripted function: batching, deletes, partial
failures, filtering, FIFO groups, throttles and idleness, in milliseconds, without a server."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from esm_fakes import RecordingObserver, ok, returns, unhandled
from waiting import returns_in_time, wait_for

from emulator.clock import FakeClock, ScaledClock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.stats import MappingStats
from emulator.esm.sqs.events import SqsMessage, event_record
from emulator.esm.sqs.poller import MAX_PAYLOAD_BYTES, SqsMappingPoller
from emulator.esm.sqs.source import QueueGone, QueueInfo

FN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"
RBIF = {"report_batch_item_failures": True}


@dataclass
class _Message:
    id: str
    body: str
    group: str | None
    available_at: float
    visible_at: float = 0.0
    receives: int = 0


@dataclass
class FakeQueue:
    """An SQS queue on a clock: visibility in wall seconds (as SQS counts it), FIFO groups blocked while one
    of their messages is in flight, redrive to ``dead`` on the receive after ``max_receives``."""

    clock: Any
    visibility: int = 30
    fifo: bool = False
    max_receives: int | None = None
    messages: list[_Message] = field(default_factory=list)
    dead: list[_Message] = field(default_factory=list)
    receives: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, body: Any, *, group: str | None = None, at: float | None = None) -> str:
        text = body if isinstance(body, str) else json.dumps(body)
        mid = f"m{len(self.messages) + len(self.dead) + 1}"
        self.messages.append(_Message(mid, text, group, self.clock.now() if at is None else at))
        return mid

    def info(self) -> QueueInfo:
        return QueueInfo(fifo=self.fifo, visibility_timeout_s=self.visibility, max_receive_count=self.max_receives)

    def _receivable(self, m: _Message, now: float) -> bool:
        return m.available_at <= now and m.visible_at <= now

    def receive(self, max_messages: int) -> list[SqsMessage]:
        now = self.clock.now()
        with self._lock:
            busy = {m.group for m in self.messages if m.group and not self._receivable(m, now)}
            out = []
            for m in list(self.messages):
                if len(out) >= max_messages:
                    break
                if not self._receivable(m, now) or m.group in busy:
                    continue
                if self.max_receives is not None and m.receives >= self.max_receives:
                    self.messages.remove(m)
                    self.dead.append(m)
                    continue
                m.receives += 1
                m.visible_at = now + self.visibility * self.clock.scale
                attributes = {"ApproximateReceiveCount": str(m.receives), "SentTimestamp": "1700000000000"}
                if m.group:
                    attributes["MessageGroupId"] = m.group
                out.append(SqsMessage(m.id, f"{m.id}#{m.receives}", m.body, "md5", attributes))
            self.receives.append(len(out))
            return out

    def _find(self, handle: str) -> _Message | None:
        return next((m for m in self.messages if handle == f"{m.id}#{m.receives}"), None)

    def delete(self, receipt_handles: Sequence[str]) -> None:
        with self._lock:
            for handle in receipt_handles:
                m = self._find(handle)
                if m is not None:
                    self.messages.remove(m)

    def change_visibility(self, receipt_handles: Sequence[str], timeout_s: int) -> None:
        with self._lock:
            for handle in receipt_handles:
                m = self._find(handle)
                if m is not None:
                    m.visible_at = self.clock.now() + timeout_s * self.clock.scale

    def outstanding(self) -> int:
        return len(self.messages)

    def bodies(self) -> list[str]:
        return [m.body for m in self.messages]


@dataclass
class Function:
    """Answers each batch with ``respond(records)`` and records the bodies it got."""

    respond: Callable[[list[dict[str, Any]]], InvokeOutcome] = ok
    calls: list[list[str]] = field(default_factory=list)
    counts: list[list[str]] = field(default_factory=list)
    arns: list[str] = field(default_factory=list)

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        records = json.loads(payload)["Records"]
        self.arns.append(function_arn)
        self.calls.append([r["body"] for r in records])
        self.counts.append([r["attributes"]["ApproximateReceiveCount"] for r in records])
        return self.respond(records)

    def role_arn(self, function_arn: str) -> str:
        return "arn:aws:iam::123456789012:role/r"


def config(**overrides: Any) -> MappingConfig:
    base: dict[str, Any] = dict(
        uuid="u-1", function_arn=FN, event_source_arn=QUEUE, kind="sqs", enabled=True, batch_size=10, window_s=0
    )
    return MappingConfig(**(base | overrides))


def poller(
    queue: FakeQueue, fn: Function, *, idle_poll_s: float | None = None, **overrides: Any
) -> tuple[SqsMappingPoller, RecordingObserver]:
    observer = RecordingObserver()
    p = SqsMappingPoller(
        config(**overrides),
        source=queue,
        invoker=fn,
        clock=queue.clock,
        region="us-east-1",
        observer=observer,
        stats=MappingStats(),
        **({} if idle_poll_s is None else {"idle_poll_s": idle_poll_s}),
    )
    return p, observer


def fail_ids(predicate: Callable[[dict[str, Any]], bool]) -> Callable[[list[dict[str, Any]]], InvokeOutcome]:
    def respond(records: list[dict[str, Any]]) -> InvokeOutcome:
        failures = [{"itemIdentifier": r["messageId"]} for r in records if predicate(r)]
        return returns({"batchItemFailures": failures})(records)

    return respond


def run_once(p: SqsMappingPoller) -> list[str]:
    """One reader step: release what is due, gather a batch, run it. Returns the bodies delivered."""
    p.release_due()
    batch = p.gather()
    if batch:
        p.process(batch)
    return [r.record["body"] for r in batch]


# -- batching ----------------------------------------------------------------------------------------------
def test_window_zero_invokes_with_what_one_receive_returned() -> None:
    queue = FakeQueue(FakeClock())
    for i in range(13):
        queue.send(f"b{i}")
    p, _ = poller(queue, Function(), batch_size=10)
    assert run_once(p) == [f"b{i}" for i in range(10)]
    assert queue.receives == [10] and queue.clock.waits == []
    assert run_once(p) == ["b10", "b11", "b12"]


def test_window_gathers_messages_until_it_elapses() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock)
    start = clock.now()
    for i, at in enumerate((0.0, 1.0, 2.5, 7.0)):
        queue.send(f"b{i}", at=start + at)
    p, _ = poller(queue, Function(), batch_size=100, window_s=5)
    assert run_once(p) == ["b0", "b1", "b2"]
    assert 5.0 <= clock.now() - start < 5.1
    assert queue.bodies() == ["b3"]


def test_a_full_batch_does_not_wait_for_the_window() -> None:
    queue = FakeQueue(FakeClock())
    for i in range(25):
        queue.send(f"b{i}")
    p, _ = poller(queue, Function(), batch_size=20, window_s=60)
    assert len(run_once(p)) == 20
    assert queue.receives == [10, 10] and queue.clock.waits == []


def test_payload_over_6_mb_is_split_across_invocations() -> None:
    queue = FakeQueue(FakeClock())
    for i in range(30):
        queue.send(f"{i:03d}" + "x" * 250_000)
    fn = Function()
    p, _ = poller(queue, fn, batch_size=100, window_s=1)
    run_once(p)
    run_once(p)
    assert [len(c) for c in fn.calls] == [25, 5]
    assert all(sum(len(b) for b in call) < MAX_PAYLOAD_BYTES for call in fn.calls)
    assert sorted(b[:3] for c in fn.calls for b in c) == [f"{i:03d}" for i in range(30)]


# -- settling ----------------------------------------------------------------------------------------------
def test_success_deletes_the_batch() -> None:
    queue = FakeQueue(FakeClock())
    queue.send("a")
    queue.send("b")
    p, _ = poller(queue, Function())
    run_once(p)
    assert queue.messages == []
    counts = p.stats.as_dict()
    assert (counts["invocations"], counts["batches_succeeded"], counts["records_succeeded"]) == (1, 1, 2)


def test_function_error_deletes_nothing_and_messages_return_after_the_visibility_timeout() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=30)
    queue.send("a")
    fn = Function(unhandled)
    p, _ = poller(queue, fn)
    received = clock.now()
    run_once(p)
    assert queue.bodies() == ["a"]
    clock.advance(29.9)
    assert run_once(p) == []
    clock.advance(0.2)  # 30 s after the receive
    fn.respond = ok
    assert run_once(p) == ["a"]
    assert fn.counts == [["1"], ["2"]]
    assert 30.0 <= clock.now() - received < 30.2
    assert queue.messages == [] and p.stats.retries == 1


def test_partial_failure_deletes_only_the_successes() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=10)
    for body in ("ok-1", "bad", "ok-2"):
        queue.send(body)
    fn = Function(fail_ids(lambda r: r["body"] == "bad" and r["attributes"]["ApproximateReceiveCount"] == "1"))
    p, _ = poller(queue, fn, **RBIF)
    run_once(p)
    assert queue.bodies() == ["bad"]
    clock.advance(10)
    assert run_once(p) == ["bad"]
    assert fn.counts[-1] == ["2"]
    assert queue.messages == []
    assert p.stats.partial_failures == 1 and p.stats.records_succeeded == 3


@pytest.mark.parametrize("reported", [["b4", "b2"], ["b2", "b4"]])
def test_several_failed_items_in_any_order_return_and_only_they(reported: list[str]) -> None:
    # GIVEN b2 and b4 failing on their first receive, reported in either order
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=10)
    ids = {queue.send(f"b{i}"): f"b{i}" for i in range(1, 6)}
    by_body = {body: mid for mid, body in ids.items()}

    def respond(records: list[dict[str, Any]]) -> InvokeOutcome:
        first = {r["messageId"] for r in records if r["attributes"]["ApproximateReceiveCount"] == "1"}
        failed = [{"itemIdentifier": by_body[b]} for b in reported if by_body[b] in first]
        return returns({"batchItemFailures": failed})(records)

    fn = Function(respond)
    p, _ = poller(queue, fn, **RBIF)
    # WHEN the batch runs: the three others are deleted, b2 and b4 stay
    assert run_once(p) == ["b1", "b2", "b3", "b4", "b5"]
    assert queue.bodies() == ["b2", "b4"]
    stats = p.stats.as_dict()
    assert (stats["records_succeeded"], stats["partial_failures"], stats["retries"]) == (3, 1, 0)
    # THEN both come back together after the visibility timeout, received a second time, and succeed
    clock.advance(10)
    assert run_once(p) == ["b2", "b4"] and fn.counts[-1] == ["2", "2"]
    assert queue.messages == [] and p.stats.records_succeeded == 5 and p.stats.batches_succeeded == 1


def test_visibility_is_counted_from_the_receive_while_the_function_runs_on() -> None:
    # GIVEN a function that takes 20 of the queue's 30 visibility seconds and fails
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=30)
    queue.send("a")

    def slow_failure(records: list[dict[str, Any]]) -> InvokeOutcome:
        clock.advance(20)
        return unhandled(records)

    fn = Function(slow_failure)
    p, _ = poller(queue, fn)
    received = clock.now()
    run_once(p)
    assert clock.now() - received == 20
    fn.respond = ok
    # THEN the message is visible again 30 s after its receive, 10 s after the failure, not 30 s after it
    clock.advance(9.9)
    assert run_once(p) == []
    clock.advance(0.2)
    assert run_once(p) == ["a"] and fn.counts == [["1"], ["2"]]


def test_each_message_of_a_window_batch_returns_30_s_after_its_own_receive() -> None:
    # GIVEN a 5 s batching window gathering a (received at 0 s) and b (received at 2 s), then failing
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=30)
    start = clock.now()
    queue.send("a")
    queue.send("b", at=start + 2)
    fn = Function(unhandled)
    p, _ = poller(queue, fn, batch_size=10, window_s=5)
    assert run_once(p) == ["a", "b"]

    def visible_after(seconds: float) -> list[str]:
        clock.advance(start + seconds - clock.now())
        p.release_due()
        return [m.body for m in queue.messages if m.visible_at <= clock.now()]

    # THEN a is visible again 30 s after its receive, b 30 s after its own (the first look after 2 s)
    assert visible_after(29.9) == []
    assert visible_after(30.0) == ["a"]
    assert visible_after(31.99) == ["a"]
    assert visible_after(32.1) == ["a", "b"]


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"foo": "notvalid"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]},
        {"batchItemFailures": "nope"},
    ],
)
def test_invalid_partial_response_fails_the_whole_batch(response: Any) -> None:
    queue = FakeQueue(FakeClock())
    queue.send("a")
    queue.send("b")
    p, _ = poller(queue, Function(returns(response)), **RBIF)
    run_once(p)
    assert queue.bodies() == ["a", "b"]
    assert p.stats.retries == 1 and p.stats.records_succeeded == 0


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, ""])
def test_empty_partial_responses_succeed(response: Any) -> None:
    queue = FakeQueue(FakeClock())
    queue.send("a")
    p, _ = poller(queue, Function(returns(response)), **RBIF)
    run_once(p)
    assert queue.messages == []


def test_redrive_is_counted_when_a_message_returns_for_the_last_time() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=5, max_receives=2)
    queue.send("poison")
    fn = Function(unhandled)
    p, _ = poller(queue, fn)
    run_once(p)
    clock.advance(5)
    run_once(p)
    clock.advance(5)
    assert run_once(p) == []
    assert [m.body for m in queue.dead] == ["poison"] and fn.counts == [["1"], ["2"]]
    assert p.stats.records_dead_lettered == 1


def test_a_redrive_policy_added_while_the_mapping_runs_is_read_when_a_message_fails() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=5)
    queue.send("poison")
    p, _ = poller(queue, Function(unhandled))
    batch = p.gather()  # the queue's attributes are read here, without a RedrivePolicy
    queue.max_receives = 1
    p.process(batch)
    clock.advance(5)
    p.release_due()
    assert p.stats.records_dead_lettered == 1


def test_a_batch_failing_after_stop_is_left_to_return_at_its_own_timeout() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=10)
    queue.send("a")
    p, _ = poller(queue, Function(unhandled))
    received = clock.now()
    batch = p.gather()
    clock.advance(4)
    p.stop()
    p.process(batch)
    assert queue.messages[0].visible_at == received + 10


def test_throttled_invocations_are_retried_without_a_new_receive() -> None:
    queue = FakeQueue(FakeClock())
    queue.send("a")
    throttled = InvokeOutcome(payload=b"", function_error=None, status_code=429, invoked=False)
    answers = [throttled, throttled]
    fn = Function(lambda records: answers.pop(0) if answers else ok(records))
    p, _ = poller(queue, fn)
    run_once(p)
    assert fn.counts == [["1"], ["1"], ["1"]]
    assert queue.messages == []
    assert (p.stats.throttles, p.stats.invocations) == (2, 1)


def test_throttled_past_the_visibility_timeout_goes_back_to_the_queue() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=3)
    queue.send("a")
    throttled = InvokeOutcome(payload=b"", function_error=None, status_code=429, invoked=False)
    p, _ = poller(queue, Function(lambda _: throttled))
    run_once(p)
    assert p.stats.invocations == 0 and p.stats.throttles == 3
    assert queue.bodies() == ["a"] and queue.messages[0].receives == 1


# -- filtering ---------------------------------------------------------------------------------------------
def test_filtered_messages_are_deleted_and_reported() -> None:
    queue = FakeQueue(FakeClock())
    queue.send({"key": "keep", "id": 1})
    queue.send({"key": "drop", "id": 2})
    queue.send("plain-string")
    fn = Function()
    criteria = {"Filters": [{"Pattern": json.dumps({"body": {"key": ["keep"]}})}]}
    p, observer = poller(queue, fn, filter_criteria=criteria)
    run_once(p)
    assert fn.calls == [[json.dumps({"key": "keep", "id": 1})]]
    assert queue.messages == []
    assert [json.loads(r.data) if r.data.startswith(b"{") else r.data for r in observer.filtered] == [
        {"key": "drop", "id": 2},
        b"plain-string",
    ]
    assert p.stats.records_filtered == 2


# -- FIFO --------------------------------------------------------------------------------------------------
def test_fifo_failed_message_blocks_its_group_until_it_returns() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=10, fifo=True)
    for body, group in (("a1", "A"), ("a2", "A"), ("b1", "B")):
        queue.send(body, group=group)
    fn = Function(fail_ids(lambda r: r["body"] == "a1" and r["attributes"]["ApproximateReceiveCount"] == "1"))
    p, _ = poller(queue, fn, batch_size=1, window_s=30, **RBIF)  # FIFO: no batching window
    assert run_once(p) == ["a1"]
    assert run_once(p) == ["b1"]
    assert run_once(p) == []  # a2 waits behind a1
    assert clock.waits == []
    clock.advance(10)
    assert run_once(p) == ["a1"]
    assert run_once(p) == ["a2"]
    assert queue.messages == []


def test_fifo_batches_hold_at_most_ten_messages() -> None:
    queue = FakeQueue(FakeClock(), fifo=True)
    for i in range(12):
        queue.send(f"b{i}", group="g")
    p, _ = poller(queue, Function(), batch_size=100, window_s=5)
    assert len(run_once(p)) == 10


# -- record shape ------------------------------------------------------------------------------------------
def test_record_has_the_lambda_shape() -> None:
    message = SqsMessage(
        "id-1",
        "rh-1",
        "hello",
        "5d41402abc4b2a76b9719d911017c592",
        {
            "SenderId": "AIDA",
            "SentTimestamp": "1700000000000",
            "ApproximateReceiveCount": "1",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
            "MessageGroupId": "g",
            "MessageDeduplicationId": "d",
        },
        {
            "WeeksOn": {"StringValue": "6", "DataType": "Number"},
            "Blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
        "d25a6aea97eb8f585bfa92d314504a92",
    )
    record = event_record(message, queue_arn=QUEUE, region="us-east-1")
    assert list(record["attributes"]) == [
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SequenceNumber",
        "MessageGroupId",
        "SenderId",
        "MessageDeduplicationId",
        "ApproximateFirstReceiveTimestamp",
    ]
    assert len(record["attributes"]["SequenceNumber"]) == 20
    assert record["messageAttributes"] == {
        "WeeksOn": {"stringValue": "6", "stringListValues": [], "binaryListValues": [], "dataType": "Number"},
        "Blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:sqs", QUEUE, "us-east-1")
    assert record["md5OfMessageAttributes"] == "d25a6aea97eb8f585bfa92d314504a92"


# -- idleness and the thread -------------------------------------------------------------------------------
def test_idle_only_after_an_empty_receive_with_nothing_in_flight() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=5)
    queue.send("a")
    p, _ = poller(queue, Function(unhandled))
    since = time.monotonic()
    assert not p.idle_since(since)
    run_once(p)  # fails: the message is held invisible
    assert run_once(p) == [] and not p.idle_since(since)
    clock.advance(5)
    p.release_due()
    assert not p.idle_since(since)
    queue.messages.clear()
    assert run_once(p) == [] and p.idle_since(since)
    assert not p.idle_since(time.monotonic())


def test_fifo_not_idle_when_the_group_unblocks_during_an_empty_receive() -> None:
    """The race behind runs that settled with FIFO messages still queued: a receive finds the group blocked by
    the batch in flight, that batch then succeeds and is deleted before the poller asks what is left. Nothing
    is in flight any more, yet the queue still holds the group's next messages, so the poller is not idle."""
    clock = FakeClock()
    batches: list[Any] = []

    class BatchEndsDuringReceive(FakeQueue):
        def receive(self, max_messages: int) -> list[SqsMessage]:
            got = super().receive(max_messages)
            if not got and batches:
                p.process(batches.pop())  # the batch thread settles between the receive and the idleness check
            return got

    queue = BatchEndsDuringReceive(clock, fifo=True)
    for i in range(3):
        queue.send(f"m{i}", group="g")
    fn = Function()
    p, _ = poller(queue, fn, batch_size=1)
    since = time.monotonic()
    batches.append(p.gather())
    assert p.gather() == []  # m1 waits behind m0, which succeeds meanwhile
    assert fn.calls == [["m0"]] and queue.bodies() == ["m1", "m2"]
    assert not p.idle_since(since)
    assert run_once(p) == ["m1"]
    assert run_once(p) == ["m2"]
    assert run_once(p) == [] and p.idle_since(since)


def test_stop_leaves_held_messages_to_return_when_their_timeout_ends() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=10)
    queue.send("a")
    p, _ = poller(queue, Function(unhandled))
    run_once(p)
    clock.advance(4)
    assert p.stop() == {}
    assert queue.messages[0].visible_at == clock.now() + 6


def test_a_missing_queue_is_idle_not_an_error() -> None:
    class Gone(FakeQueue):
        def info(self) -> QueueInfo:
            raise QueueGone(QUEUE)

    p, _ = poller(Gone(FakeClock()), Function())
    since = time.monotonic()
    assert run_once(p) == []
    assert p.idle_since(since) and p.errors == []


def test_thread_runs_batches_concurrently_up_to_maximum_concurrency() -> None:
    clock = ScaledClock(100)
    queue = FakeQueue(clock)
    for i in range(12):
        queue.send(f"b{i}")
    running, peak, lock = [0], [0], threading.Lock()

    def slow(records: list[dict[str, Any]]) -> InvokeOutcome:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return ok(records)

    p, _ = poller(queue, Function(slow), batch_size=1, max_concurrency=3)
    since = time.monotonic()
    p.start()
    try:
        deadline = time.monotonic() + 10
        while not p.idle_since(since) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert p.idle_since(since), "the poller never became idle"
    finally:
        assert p.stop() == {}
    assert queue.messages == [] and peak[0] == 3
    assert p.errors == []


def test_thread_returns_a_failed_message_when_its_visibility_timeout_ends() -> None:
    clock = ScaledClock(100)
    queue = FakeQueue(clock, visibility=2)
    queue.send("a")
    fn = Function(lambda records: unhandled(records) if fn.counts == [["1"]] else ok(records))
    p, _ = poller(queue, fn)
    since = time.monotonic()
    p.start()
    try:
        deadline = time.monotonic() + 10
        while not (queue.messages == [] and p.idle_since(since)) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        p.stop()
    assert fn.counts == [["1"], ["2"]] and queue.messages == []
    assert p.errors == []


def test_an_unexpected_error_in_the_reader_is_kept_for_the_harness_and_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = RuntimeError("emulator died")

    class Broken(FakeQueue):
        def receive(self, max_messages: int) -> list[SqsMessage]:
            raise broken

    p, _ = poller(Broken(ScaledClock(100)), Function())
    p.start()
    try:
        # The reader keeps the error before it logs it: wait for the log record.
        wait_for("the reader's failure to be logged", lambda: [
            r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info and r.exc_info[1] is broken
        ], bool, timeout=10)
    finally:
        p.stop()
    assert p.errors == [broken]


@pytest.mark.parametrize("halted", [True, False])
def test_a_batch_ended_by_stopping_is_not_logged_as_an_error_but_one_while_running_is(
    halted: bool, caplog: pytest.LogCaptureFixture
) -> None:
    running, end = threading.Event(), threading.Event()

    def hang(records: list[dict[str, Any]]) -> InvokeOutcome:
        running.set()
        end.wait(60)
        raise RuntimeError("the Lambda runtime was closed while 'f' was running")

    caplog.set_level(logging.DEBUG, logger="emulator.esm.sqs.poller")
    queue = FakeQueue(ScaledClock(100))
    queue.send("a")
    p, _ = poller(queue, Function(hang))
    p.start()
    try:
        assert running.wait(20)
        if halted:
            p.halt()
        end.set()
        # The batch thread keeps the error before it logs it: wait for the log record (at any level).
        message = "event source mapping u-1: settling a batch failed"
        wait_for("the failure to be logged", lambda: [r for r in caplog.records if r.getMessage() == message], bool,
                 timeout=10)
    finally:
        end.set()
        p.stop()
    assert "runtime was closed" in str(p.errors[0])
    assert [r.levelno for r in caplog.records if r.getMessage() == message] == [10 if halted else 40]
    assert [r for r in caplog.records if r.levelno >= 40 and r.getMessage() != message] == []


# -- what the observer is told was processed ------------------------------------------------------------------
def test_observer_is_told_the_processed_messages_by_message_id_and_body() -> None:
    queue = FakeQueue(FakeClock())
    ids = [queue.send(body) for body in ("ok-1", "bad", "\x00not json")]
    fn = Function(fail_ids(lambda r: r["body"] == "bad"))
    p, observer = poller(queue, fn, **RBIF)
    run_once(p)
    assert [(r.sequence_number, r.data) for r in observer.processed] == [(ids[0], b"ok-1"), (ids[2], b"\x00not json")]
    assert observer.shards == [""]


def test_a_failed_batch_is_not_processed_and_a_later_success_is() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=10)
    [mid] = [queue.send("x")]
    fn = Function(lambda batch: unhandled(batch) if fn.counts == [["1"]] else ok(batch))
    p, observer = poller(queue, fn)
    run_once(p)
    assert observer.processed == []
    clock.advance(10)
    run_once(p)
    assert [r.sequence_number for r in observer.processed] == [mid]


def test_fifo_messages_are_known_by_message_id_not_sequence_number() -> None:
    queue = FakeQueue(FakeClock(), fifo=True)
    mid = queue.send("a", group="g")
    p, observer = poller(queue, Function())
    run_once(p)
    [record] = observer.processed
    assert record.sequence_number == mid and record.partition_key == "g"


# -- found by mutation testing: what the poller does at its edges ------------------------------------------------
class CompressedClock(FakeClock):
    """A fake clock at time scale 100: SQS counts visibility in wall seconds, so the queue's own 10 s timeout
    lasts 1000 emulated seconds and the poller must hand messages back itself."""

    @property
    def scale(self) -> float:
        return 100.0


class HookedClock(FakeClock):
    """A fake clock that calls ``on_wait(seconds, event)`` at each wait, before the wait advances it."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self._scale = scale
        self.on_wait: Callable[[float, threading.Event | None], None] = lambda seconds, event: None

    @property
    def scale(self) -> float:
        return self._scale

    def wait(self, seconds: float, event: threading.Event | None = None) -> bool:
        self.on_wait(seconds, event)
        return super().wait(seconds, event)


@dataclass
class Vanishing(FakeQueue):
    """A queue that can be deleted under the mapping: every call raises QueueGone once ``gone``."""

    gone: bool = False

    def _exists(self) -> None:
        if self.gone:
            raise QueueGone(QUEUE)

    def info(self) -> QueueInfo:
        self._exists()
        return super().info()

    def receive(self, max_messages: int) -> list[SqsMessage]:
        self._exists()
        return super().receive(max_messages)

    def delete(self, receipt_handles: Sequence[str]) -> None:
        self._exists()
        super().delete(receipt_handles)

    def outstanding(self) -> int:
        self._exists()
        return super().outstanding()


class StaleCounts(FakeQueue):
    """SQS's ApproximateNumberOfMessages* lag behind: this queue reports none while it still holds messages."""

    def outstanding(self) -> int:
        return 0


def test_the_function_is_invoked_by_the_mapping_s_function_arn() -> None:
    queue = FakeQueue(FakeClock())
    queue.send("a")
    fn = Function()
    p, _ = poller(queue, fn)
    run_once(p)
    assert fn.arns == [FN]


def test_failed_items_return_on_the_emulated_clock_when_the_queue_counts_wall_seconds() -> None:
    # GIVEN time scale 100 and a batch whose second item fails on its first receive
    clock = CompressedClock()
    queue = FakeQueue(clock, visibility=10)
    queue.send("ok")
    queue.send("bad")
    fn = Function(fail_ids(lambda r: r["body"] == "bad" and r["attributes"]["ApproximateReceiveCount"] == "1"))
    p, _ = poller(queue, fn, **RBIF)
    assert run_once(p) == ["ok", "bad"]
    # THEN the failed item alone is visible again 10 emulated seconds after its receive
    clock.advance(9.9)
    assert run_once(p) == []
    clock.advance(0.1)
    assert run_once(p) == ["bad"] and fn.counts[-1] == ["2"]
    assert queue.messages == []


def test_a_batch_throttled_until_its_visibility_timeout_returns_on_the_emulated_clock() -> None:
    # GIVEN time scale 100 and a function throttled for as long as the 3 s visibility timeout lasts
    clock = CompressedClock()
    queue = FakeQueue(clock, visibility=3)
    queue.send("a")
    received = clock.now()
    throttled = InvokeOutcome(payload=b"", function_error=None, status_code=429, invoked=False)
    fn = Function(lambda _: throttled)
    p, _ = poller(queue, fn)
    assert run_once(p) == ["a"] and p.stats.invocations == 0
    # THEN the message is handed back and received again 3 emulated seconds after its first receive
    fn.respond = ok
    clock.advance(received + 2.9 - clock.now())
    assert run_once(p) == []
    clock.advance(0.1)
    assert run_once(p) == ["a"] and fn.counts[-1] == ["2"]


def test_stop_ends_the_wait_between_throttled_invocations() -> None:
    clock = HookedClock()
    queue = FakeQueue(clock)
    queue.send("a")
    throttled = InvokeOutcome(payload=b"", function_error=None, status_code=429, invoked=False)
    p, _ = poller(queue, Function(lambda _: throttled))
    clock.on_wait = lambda seconds, event: p.stop()  # the mapping is stopped during the first backoff
    run_once(p)
    assert clock.waits == [] and p.stats.throttles == 2


def test_a_batch_in_flight_keeps_the_poller_busy_after_its_queue_is_deleted() -> None:
    # GIVEN a batch running when its queue is deleted
    queue = Vanishing(FakeClock())
    queue.send("a")
    p, _ = poller(queue, Function())
    since = time.monotonic()
    batch = p.gather()
    queue.gone = True
    # WHEN a receive finds the queue gone
    assert p.gather() == []
    # THEN the poller is busy until the batch has settled
    assert not p.idle_since(since)
    p.process(batch)
    assert p.idle_since(since) and p.errors == []


def test_messages_gathered_in_a_window_keep_the_poller_busy_when_the_queue_vanishes() -> None:
    clock = HookedClock()
    queue = Vanishing(clock)
    queue.send("a")
    p, _ = poller(queue, Function(), window_s=5)
    since = time.monotonic()
    idle: list[bool] = []

    def deleted_during_the_window(seconds: float, event: threading.Event | None) -> None:
        queue.gone = True
        idle.append(p.idle_since(since))

    clock.on_wait = deleted_during_the_window
    assert run_once(p) == ["a"]
    assert len(idle) > 1 and not any(idle)


def test_not_idle_while_a_receive_is_under_way() -> None:
    seen: list[bool] = []

    class Watched(FakeQueue):
        def receive(self, max_messages: int) -> list[SqsMessage]:
            seen.append(p.idle_since(since))
            return super().receive(max_messages)

    queue = Watched(FakeClock())
    p, _ = poller(queue, Function())
    since = time.monotonic()
    assert run_once(p) == [] and p.idle_since(since)
    queue.send("a")  # the next receive will bring it
    assert run_once(p) == ["a"]
    assert seen == [False, False]


def test_a_receive_that_started_at_the_instant_asked_about_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    import emulator.esm.sqs.poller as module

    monkeypatch.setattr(module, "time", type("Frozen", (), {"monotonic": staticmethod(lambda: 100.0)}))
    p, _ = poller(FakeQueue(FakeClock()), Function())
    assert run_once(p) == [] and p.idle_since(100.0)


def test_stale_queue_counts_do_not_end_the_wait_for_a_batch_in_flight() -> None:
    # GIVEN a queue whose approximate counts say empty, and a batch that fails while a receive comes back empty
    clock = FakeClock()
    queue = StaleCounts(clock, visibility=5)
    queue.send("a")
    fn = Function(unhandled)
    p, _ = poller(queue, fn)
    since = time.monotonic()
    batch = p.gather()
    assert p.gather() == []
    p.process(batch)
    # WHEN its visibility timeout ends
    clock.advance(5)
    p.release_due()
    # THEN the poller is not idle: the message is about to be received again
    assert not p.idle_since(since)
    fn.respond = ok
    assert run_once(p) == ["a"]
    assert run_once(p) == [] and p.idle_since(since)


def test_stale_queue_counts_do_not_end_the_wait_for_messages_gathered_in_a_window() -> None:
    clock = FakeClock()
    queue = StaleCounts(clock, visibility=30)
    queue.send("a")
    p, _ = poller(queue, Function(unhandled), window_s=2)
    since = time.monotonic()
    assert run_once(p) == ["a"]  # the window's later receives came back empty; the batch failed
    clock.advance(30)
    p.release_due()
    assert not p.idle_since(since)


def test_a_queue_deleted_between_the_receive_and_the_count_is_idle() -> None:
    class DeletedAfterReceive(FakeQueue):
        def outstanding(self) -> int:
            raise QueueGone(QUEUE)

    p, _ = poller(DeletedAfterReceive(FakeClock()), Function())
    since = time.monotonic()
    assert run_once(p) == [] and p.idle_since(since)



def first_reader_wait(p: Any, clock: Any, then: Callable[[], Any] = lambda: None) -> float:
    """Start the reader and stop it from inside its first wait, then call ``then`` (the batches already taken
    still run); returns how long that wait was to be."""
    waits: list[float] = []

    def on_wait(seconds: float, event: threading.Event | None) -> None:
        if not waits:
            waits.append(seconds)
            p.stop()

    clock.on_wait = on_wait
    p.start()
    try:
        wait_for("the reader's first idle wait", lambda: list(waits), bool)
        then()
    finally:
        p.stop()
    return waits[0]

def first_idle_wait(queue: FakeQueue, clock: HookedClock, **overrides: Any) -> tuple[float, bool]:
    """Start the reader; return its first wait with nothing to do: (emulated seconds, whether ``wake()`` ends
    that wait). The mapping is stopped from inside that wait."""
    p, _ = poller(queue, Function(), **overrides)
    waits: list[tuple[float, bool]] = []

    def on_wait(seconds: float, event: threading.Event | None) -> None:
        if not waits:
            p.wake()
            waits.append((seconds, event is not None and event.is_set()))
            p.stop()

    clock.on_wait = on_wait
    p.start()
    try:
        wait_for("the reader's first idle wait", lambda: list(waits), bool)
    finally:
        p.stop()
    return waits[0]


def test_an_idle_reader_polls_every_idle_interval_of_wall_time_and_wakes_on_wake() -> None:
    clock = HookedClock(scale=100)
    assert first_idle_wait(FakeQueue(clock), clock) == (pytest.approx(0.02 * 100), True)


def test_a_missing_queue_is_polled_less_often() -> None:
    class Gone(FakeQueue):
        def info(self) -> QueueInfo:
            raise QueueGone(QUEUE)

    clock = HookedClock(scale=100)
    assert first_idle_wait(Gone(clock), clock) == (pytest.approx(0.5 * 100), True)


def test_an_idle_reader_wakes_when_a_held_message_is_due() -> None:
    # GIVEN a failed message held for 3 emulated seconds and an idle interval far longer than that
    clock = HookedClock(scale=100)
    queue = FakeQueue(clock, visibility=3)
    queue.send("a")
    p, _ = poller(queue, Function(unhandled), idle_poll_s=10)
    assert run_once(p) == ["a"]
    # WHEN the reader runs out of work
    # THEN it waits until the message is due, not a whole idle interval
    assert first_reader_wait(p, clock) == pytest.approx(3.0)


def test_the_batching_window_is_polled_every_idle_interval_and_a_wake_ends_the_wait() -> None:
    # GIVEN time scale 100 (an idle interval of 0.02 wall seconds is 2 emulated seconds) and a 5 s window
    clock = HookedClock(scale=100)
    queue = FakeQueue(clock)
    queue.send("a")
    p, _ = poller(queue, Function(), window_s=5)
    waits: list[tuple[float, bool]] = []

    def on_wait(seconds: float, event: threading.Event | None) -> None:
        if not waits:
            p.wake()
        waits.append((seconds, event is not None and event.is_set()))

    clock.on_wait = on_wait
    assert run_once(p) == ["a"]
    assert waits[0] == (pytest.approx(0.02 * 100), True)  # woken: the wait ended without time passing
    assert waits[1:] == [(pytest.approx(2.0), False)] * 2 + [(pytest.approx(1.0), False)]  # the window's end


def test_stop_during_a_batching_window_returns_the_gathered_messages_at_their_visibility_timeout() -> None:
    clock = HookedClock()
    queue = FakeQueue(clock, visibility=10)
    queue.send("a")
    fn = Function()
    p, _ = poller(queue, fn, window_s=5)
    received = clock.now()
    clock.on_wait = lambda seconds, event: p.stop()
    assert p.gather() == [] and fn.calls == []
    assert queue.messages[0].visible_at == received + 10


def test_a_batch_that_fails_to_settle_is_reported_to_the_harness() -> None:
    broken = RuntimeError("delete failed")

    class BrokenDelete(FakeQueue):
        def delete(self, receipt_handles: Sequence[str]) -> None:
            raise broken

    queue = BrokenDelete(ScaledClock(100))
    queue.send("a")
    p, _ = poller(queue, Function())
    p.start()
    try:
        wait_for("the batch's error", lambda: p.errors, bool)
    finally:
        p.stop()
    assert all(error is broken for error in p.errors)


def test_fifo_ignores_the_batching_window() -> None:
    queue = FakeQueue(FakeClock(), fifo=True)
    for i in range(3):
        queue.send(f"b{i}", group=f"g{i}")
    p, _ = poller(queue, Function(), batch_size=10, window_s=30)
    assert run_once(p) == ["b0", "b1", "b2"]
    assert queue.clock.waits == []


def test_fifo_batches_hold_at_most_ten_messages_also_after_a_payload_split() -> None:
    # GIVEN ten 700 KB FIFO messages (more than 6 MB together), then ten small ones, BatchSize 100
    queue = FakeQueue(FakeClock(), fifo=True)
    for i in range(10):
        queue.send(f"big{i}".ljust(700_000, "x"), group=f"big{i}")
    for i in range(10):
        queue.send(f"small{i}", group=f"small{i}")
    fn = Function()
    p, _ = poller(queue, fn, batch_size=100)
    # THEN the first batch is cut by size, and the next holds its two leftovers and eight more: ten
    while run_once(p):
        pass
    assert [len(call) for call in fn.calls] == [8, 10, 2]


def test_a_receive_asks_only_for_the_room_left_in_the_batch() -> None:
    # GIVEN BatchSize 3 with a window: one message at once, five more a second later
    clock = FakeClock()
    queue = FakeQueue(clock)
    start = clock.now()
    queue.send("b0")
    for i in range(1, 6):
        queue.send(f"b{i}", at=start + 1)
    p, _ = poller(queue, Function(), batch_size=3, window_s=5)
    assert run_once(p) == ["b0", "b1", "b2"]
    # THEN the last receive asked for two: b3 and b4 were not received (their visibility timeout not started)
    assert queue.receives[0] == 1 and queue.receives[-1] == 2
    assert [(m.body, m.receives) for m in queue.messages] == [("b3", 0), ("b4", 0), ("b5", 0)]


KEEP = {"Filters": [{"Pattern": json.dumps({"body": {"key": ["keep"]}})}]}


def test_a_receive_of_fewer_messages_than_asked_all_filtered_out_ends_the_gather() -> None:
    queue = FakeQueue(FakeClock())
    queue.send({"key": "drop"})
    queue.send({"key": "drop"})
    p, _ = poller(queue, Function(), filter_criteria=KEEP)
    assert run_once(p) == []
    assert queue.receives == [2] and queue.messages == []


def test_a_full_receive_all_filtered_out_is_followed_by_another() -> None:
    queue = FakeQueue(FakeClock())
    for i in range(10):
        queue.send({"key": "drop", "i": i})
    queue.send({"key": "keep", "i": 10})
    fn = Function()
    p, observer = poller(queue, fn, filter_criteria=KEEP)
    assert len(run_once(p)) == 1
    assert queue.receives == [10, 1] and len(observer.filtered) == 10
    assert observer.mapping_uuids == ["u-1"]


def test_records_name_the_mapping_s_queue_and_region() -> None:
    queue = FakeQueue(FakeClock())
    queue.send("a")
    seen: list[dict[str, Any]] = []
    fn = Function(lambda records: seen.extend(records) or ok(records))
    p, _ = poller(queue, fn)
    run_once(p)
    assert [(r["eventSourceARN"], r["awsRegion"]) for r in seen] == [(QUEUE, "us-east-1")]


def test_a_payload_over_6_mb_is_invoked_without_waiting_for_the_window_and_its_leftovers_wait() -> None:
    # GIVEN thirty 250 KB messages (7.5 MB), a 60 s window and a visibility timeout longer than it
    queue = FakeQueue(FakeClock(), visibility=600)
    for i in range(30):
        queue.send(f"{i:03d}" + "x" * 250_000)
    fn = Function()
    p, _ = poller(queue, fn, batch_size=100, window_s=60)
    # THEN the first 6 MB go at once, and the leftovers wait for the window to fill
    run_once(p)
    assert queue.clock.waits == [] and len(fn.calls) == 1
    run_once(p)
    assert sum(queue.clock.waits) == pytest.approx(60.0)
    assert sorted(b[:3] for c in fn.calls for b in c) == [f"{i:03d}" for i in range(30)]


# -- stopping the reader, concurrency, a queue deleted under a receive -------------------------------------------
@dataclass
class BlockingQueue(FakeQueue):
    """A queue whose receives block until ``gate`` is set; ``entered`` is set when one is under way."""

    entered: threading.Event = field(default_factory=threading.Event)
    gate: threading.Event = field(default_factory=threading.Event)

    def receive(self, max_messages: int) -> list[SqsMessage]:
        self.entered.set()
        self.gate.wait(60)
        return super().receive(max_messages)


def test_stop_waits_no_longer_than_its_bound_for_a_reader_stuck_in_a_receive() -> None:
    queue = BlockingQueue(ScaledClock(100))
    p, _ = poller(queue, Function())
    p.start()
    try:
        assert queue.entered.wait(20)
        returns_in_time(lambda: p.stop(timeout_s=0.05), "stop() to return while the receive still hangs", timeout=10)
        assert not queue.gate.is_set()
    finally:
        queue.gate.set()


def test_stop_waits_for_the_reader_to_end_within_its_bound() -> None:
    # GIVEN a reader in the middle of a receive that returns once stopping was asked
    queue = BlockingQueue(ScaledClock(100))
    p, _ = poller(queue, Function())
    p.start()
    reader_alive_when_stop_returned: list[bool] = []

    def stop() -> None:
        p.stop(timeout_s=30)
        reader_alive_when_stop_returned.append(p._thread.is_alive())

    try:
        assert queue.entered.wait(20)
        stopper = threading.Thread(target=stop, daemon=True)
        stopper.start()
        wait_for("stopping to be asked", p._stop.is_set, bool, timeout=10)
        queue.gate.set()
        wait_for("stop() to return", lambda: reader_alive_when_stop_returned, bool, timeout=40)
    finally:
        queue.gate.set()
    # THEN stop returned only after the reader had ended
    assert reader_alive_when_stop_returned == [False]
    assert p.errors == []


def test_stop_called_from_the_reader_s_own_thread_ends_it_without_an_error() -> None:
    clock = HookedClock(scale=100)
    p, _ = poller(FakeQueue(clock), Function())
    stopped: list[bool] = []

    def on_wait(seconds: float, event: threading.Event | None) -> None:
        if not stopped:
            p.stop(timeout_s=30)  # in the reader's thread: it cannot wait for itself
            stopped.append(True)

    clock.on_wait = on_wait
    p.start()
    wait_for("the reader to end", lambda: stopped and not p._thread.is_alive(), bool, timeout=10)
    assert p.errors == []


@pytest.mark.parametrize(("max_concurrency", "limit"), [(1, 1), (None, 5)])
def test_the_reader_receives_nothing_while_maximum_concurrency_batches_are_in_flight(
    max_concurrency: int | None, limit: int
) -> None:
    # GIVEN as many one-message batches in flight as MaximumConcurrency allows (5 without it: where AWS starts)
    clock = HookedClock(scale=100)
    queue = FakeQueue(clock)
    for i in range(limit + 1):
        queue.send(f"b{i}")
    p, _ = poller(queue, Function(), batch_size=1, max_concurrency=max_concurrency)
    in_flight = [p.gather() for _ in range(limit)]
    assert all(len(batch) == 1 for batch in in_flight)
    receives = len(queue.receives)
    # WHEN the reader runs until its first wait
    first_reader_wait(p, clock)
    # THEN it received nothing more: the last message waits for a batch to end
    assert len(queue.receives) == receives and queue.bodies()[-1] == f"b{limit}"


def test_one_batch_fewer_in_flight_than_maximum_concurrency_lets_the_reader_receive() -> None:
    clock = HookedClock(scale=100)
    queue = FakeQueue(clock)
    queue.send("b0")
    queue.send("b1")
    p, _ = poller(queue, Function(), batch_size=1, max_concurrency=2)
    assert len(p.gather()) == 1
    first_reader_wait(p, clock, then=lambda: wait_for(
        "the second batch to be deleted", lambda: queue.bodies() == ["b0"], bool, timeout=10))


def test_a_receive_finding_the_queue_deleted_polls_it_less_often() -> None:
    # GIVEN a queue whose attributes were read and which is then deleted: its receives raise QueueGone
    class DeletedAfterInfo(FakeQueue):
        def receive(self, max_messages: int) -> list[SqsMessage]:
            raise QueueGone(QUEUE)

    clock = HookedClock(scale=100)
    assert first_idle_wait(DeletedAfterInfo(clock), clock) == (pytest.approx(0.5 * 100), True)


def test_messages_redriven_together_are_all_counted() -> None:
    clock = FakeClock()
    queue = FakeQueue(clock, visibility=5, max_receives=1)
    queue.send("poison-1")
    queue.send("poison-2")
    p, _ = poller(queue, Function(unhandled))
    assert run_once(p) == ["poison-1", "poison-2"]
    clock.advance(5)
    p.release_due()
    assert p.stats.records_dead_lettered == 2


# -- the 6 MB payload limit at its exact boundary, the observer's mapping ----------------------------------------
@dataclass
class PayloadSizes(Function):
    sizes: list[int] = field(default_factory=list)

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        self.sizes.append(len(payload))
        return super().invoke(function_arn, payload)


def two_message_payload(first: int, second: int) -> tuple[list[int], list[list[str]]]:
    """Send two messages with bodies of these lengths, run the mapping once; the payload sizes of its
    invocations and the bodies' first letters per invocation."""
    queue = FakeQueue(FakeClock())
    queue.send("a" * first)
    queue.send("b" * second)
    fn = PayloadSizes()
    p, _ = poller(queue, fn, batch_size=10)
    while run_once(p):
        pass
    return fn.sizes, [[body[0] for body in call] for call in fn.calls]


@pytest.mark.parametrize(("extra", "invocations"), [(0, [["a", "b"]]), (1, [["a"], ["b"]])])
def test_a_payload_of_exactly_6_mb_is_one_invocation_and_one_byte_more_is_two(
    extra: int, invocations: list[list[str]]
) -> None:
    # GIVEN two messages whose payload together is exactly 6 MB (plus ``extra`` bytes): measured with short
    # bodies first, then the bodies lengthened by what is missing (one body character is one payload byte)
    (small,), _ = two_message_payload(10, 10)
    first = 10 + (MAX_PAYLOAD_BYTES - small) // 2
    second = 10 + MAX_PAYLOAD_BYTES - small - (first - 10) + extra
    sizes, calls = two_message_payload(first, second)
    # THEN (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 6 MB per synchronous
    # invocation) exactly 6 MB goes in one invocation, one byte more in two
    assert calls == invocations
    assert sizes[0] == MAX_PAYLOAD_BYTES if extra == 0 else all(size < MAX_PAYLOAD_BYTES for size in sizes)


def test_leftovers_of_a_split_still_over_6_mb_are_invoked_without_waiting_for_the_window() -> None:
    # GIVEN ten 2.1 MB messages (21 MB: a 6 MB invocation holds two), a 60 s window
    queue = FakeQueue(FakeClock(), visibility=600)
    for i in range(10):
        queue.send(f"{i:03d}" + "x" * 2_100_000)
    fn = Function()
    p, _ = poller(queue, fn, batch_size=100, window_s=60)
    # WHEN the mapping has run twice
    run_once(p)
    run_once(p)
    # THEN neither waited for the window: the second batch was over 6 MB already
    assert queue.clock.waits == [] and [len(c) for c in fn.calls] == [2, 2]


class UuidObserver(RecordingObserver):
    def __init__(self) -> None:
        super().__init__()
        self.processed_by: list[str] = []

    def on_processed(self, mapping_uuid: str, records: list[Any], *, shard_id: str = "") -> None:
        self.processed_by.append(mapping_uuid)
        super().on_processed(mapping_uuid, records, shard_id=shard_id)


def test_the_observer_is_told_what_was_processed_under_the_mapping_s_uuid() -> None:
    queue = FakeQueue(FakeClock())
    queue.send("ok")
    queue.send("bad")
    observer = UuidObserver()
    p = SqsMappingPoller(
        config(uuid="mapping-7", **RBIF), source=queue, invoker=Function(fail_ids(lambda r: r["body"] == "bad")),
        clock=queue.clock, region="us-east-1", observer=observer, stats=MappingStats(),
    )
    run_once(p)  # a partial failure: "ok" processed
    queue.messages = [m for m in queue.messages if m.body != "bad"]
    queue.send("fine")
    run_once(p)  # a success
    assert observer.processed_by == ["mapping-7", "mapping-7"]
    assert [r.data for r in observer.processed] == [b"ok", b"fine"]


@pytest.mark.parametrize(("over", "waits"), [(13, []), (12, [60.0])])
def test_messages_buffered_up_to_a_whole_payload_are_taken_without_waiting_for_the_window(
    over: int, waits: list[float]
) -> None:
    # GIVEN two messages whose payload would be 6 MB + ``over`` bytes: with 13, the two records alone (each
    # with its separator) reach 6 MB, a whole invocation's worth; with 12 they fall one byte short
    (small,), _ = two_message_payload(10, 10)
    first = 10 + (MAX_PAYLOAD_BYTES - small) // 2
    second = 10 + MAX_PAYLOAD_BYTES - small - (first - 10) + over
    queue = FakeQueue(FakeClock(), visibility=600)
    queue.send("a" * first)
    queue.send("b" * second)
    p, _ = poller(queue, Function(), batch_size=10, window_s=60)
    # WHEN the mapping gathers a batch
    batch = p.gather()
    # THEN it waited for the window only when less than a whole payload was buffered
    assert sum(queue.clock.waits) == pytest.approx(sum(waits)) and len(batch) == 1
