"""Kinesis batches with several failed records: where the checkpoint lands, what is retried, how bisection splits,
and what the on-failure destination is told, after every invocation. Fake clock, scripted function, no server.

AWS (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html): with
ReportBatchItemFailures Lambda checkpoints before the LOWEST reported sequence number, whatever order the
function lists its failures in, and retries the batch from that record; with BisectBatchOnFunctionError the
batch is split at that sequence number instead.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from esm_fakes import RecordingObserver, RecordingSink, ScriptedInvoker, records, returns, unhandled

from emulator.clock import FakeClock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.responses import read_response
from emulator.esm.core.stats import MappingStats
from emulator.esm.streams.batch import StreamBatchProcessor
from emulator.esm.streams.kinesis_events import StreamRecord, iso_ms

DLQ = "arn:aws:sqs:us-east-1:123456789012:dlq"
FN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/s"
T0 = 1_700_000_000.0


@dataclass
class Flaky:
    """A function reporting record ``i`` failed on its first ``fails[i]`` invocations (every one when -1),
    listing the failures in ``order`` ("desc" lists the highest first), or raising when ``raises``."""

    fails: dict[int, int]
    order: str = "desc"
    raises: bool = False
    attempts: Counter[int] = field(default_factory=Counter)

    def failing(self, i: int) -> bool:
        self.attempts[i] += 1
        limit = self.fails.get(i, 0)
        return limit < 0 or self.attempts[i] <= limit

    def __call__(self, batch: list[dict[str, Any]]) -> InvokeOutcome:
        failed = [r["i"] for r in batch if self.failing(r["i"])]
        if self.raises:
            return unhandled(batch) if failed else returns(None)(batch)
        failed.sort(reverse=self.order == "desc")
        return returns({"batchItemFailures": [{"itemIdentifier": str(i)} for i in failed]})(batch)


@dataclass
class Run:
    """A processor wired to recording fakes; ``seen`` is the (checkpoints, records_succeeded) each invocation
    found, that is, the state the previous invocation left."""

    processor: StreamBatchProcessor
    invoker: ScriptedInvoker
    sink: RecordingSink
    observer: RecordingObserver
    stats: MappingStats
    checkpoints: list[str]
    seen: list[tuple[list[str], int]] = field(default_factory=list)

    @property
    def calls(self) -> list[list[int]]:
        return [[int(s) for s in call] for call in self.invoker.calls]


def run(function: Flaky, batch: list[StreamRecord], **overrides: Any) -> Run:
    settings: dict[str, Any] = dict(
        uuid="u-1",
        function_arn=FN,
        event_source_arn=STREAM,
        kind="kinesis",
        enabled=True,
        batch_size=100,
        window_s=0,
        starting_position="TRIM_HORIZON",
        on_failure_arn=DLQ,
        report_batch_item_failures=not function.raises,
    )
    checkpoints: list[str] = []
    stats = MappingStats()

    def respond(decoded: list[dict[str, Any]]) -> InvokeOutcome:
        result.seen.append((list(checkpoints), stats.records_succeeded))
        return function(decoded)

    invoker = ScriptedInvoker(respond)
    processor = StreamBatchProcessor(
        MappingConfig(**(settings | overrides)),
        shard_id="shardId-000000000000",
        region="us-east-1",
        role_arn="arn:aws:iam::123456789012:role/r",
        invoker=invoker,
        sink=RecordingSink(),
        clock=FakeClock(),
        stats=stats,
        observer=RecordingObserver(),
        stop=threading.Event(),
        on_checkpoint=checkpoints.append,
    )
    result = Run(processor, invoker, processor.sink, processor.observer, stats, checkpoints)
    assert processor.process(batch)
    return result


def spread(n: int) -> list[StreamRecord]:
    """``n`` records 1..n that arrived one second apart."""
    return [StreamRecord(r.sequence_number, r.partition_key, r.data, T0 + i) for i, r in enumerate(records(n))]


def test_reported_failures_are_read_in_batch_order() -> None:
    outcome = returns({"batchItemFailures": [{"itemIdentifier": i} for i in ("9", "2", "5")]})([])
    verdict = read_response(outcome, [str(i) for i in range(1, 11)], report_item_failures=True)
    assert (verdict.verdict, verdict.failed_ids) == ("partial_failure", ("2", "5", "9"))


# -- ReportBatchItemFailures without bisect ----------------------------------------------------------------
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_retry_starts_at_the_lowest_failed_record_whatever_order_they_are_reported_in(order: str) -> None:
    # GIVEN records 3 and 9 failing once and 7 twice, listed highest first or lowest first
    r = run(Flaky({3: 1, 7: 2, 9: 1}, order=order), records(10), max_retry_attempts=5)
    # THEN each retry starts at the lowest record reported
    assert r.calls == [list(range(1, 11)), list(range(3, 11)), list(range(7, 11))]
    # AND the records before it are checkpointed (and counted) before the retry, the failed record is not
    assert r.seen == [([], 0), (["2"], 2), (["2", "6"], 6)]
    assert r.checkpoints == ["2", "6", "10"]
    stats = r.stats.as_dict()
    assert (stats["records_succeeded"], stats["partial_failures"], stats["retries"]) == (10, 2, 2)
    assert (stats["invocations"], stats["bisects"]) == (3, 0)
    assert r.sink.sent == []


def test_a_failure_on_the_first_record_checkpoints_nothing_and_uses_a_retry() -> None:
    r = run(Flaky({1: 1, 4: 1}), records(5), max_retry_attempts=1)
    assert r.calls == [[1, 2, 3, 4, 5], [1, 2, 3, 4, 5]]
    assert r.seen == [([], 0), ([], 0)]
    assert r.checkpoints == ["5"] and r.stats.retries == 1 and r.sink.sent == []


def test_partial_retries_count_against_maximum_retry_attempts() -> None:
    # Records 2, 4, 6 fail, 4 and 6 twice; MaximumRetryAttempts 1 allows one retry (from 2), the second
    # partial failure gives up what is left from the lowest failed record (4) on.
    r = run(Flaky({2: 1, 4: 2, 6: 2}), spread(6), max_retry_attempts=1)
    assert r.calls == [[1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6]]
    [(_, message, delivered)] = r.sink.sent
    info = message["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("4", "6", 3)
    assert [d["kinesis"]["sequenceNumber"] for d in delivered] == ["4", "5", "6"]
    assert r.checkpoints == ["1", "3", "6"]
    assert (r.stats.records_succeeded, r.stats.records_dead_lettered) == (3, 3)


# -- on-failure messages for several records ---------------------------------------------------------------
def test_on_failure_message_describes_every_record_given_up() -> None:
    # GIVEN records 3 and 5 always failing (reported 5 first), MaximumRetryAttempts 1, no bisect
    r = run(Flaky({3: -1, 5: -1}), spread(6), max_retry_attempts=1)
    # THEN 1-2 succeed, 3-6 are retried once and given up together
    assert r.calls == [[1, 2, 3, 4, 5, 6], [3, 4, 5, 6]]
    [(destination, message, delivered)] = r.sink.sent
    assert destination == DLQ
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 2
    assert message["responseContext"]["functionError"] is None
    assert message["KinesisBatchInfo"] == {
        "shardId": "shardId-000000000000",
        "startSequenceNumber": "3",
        "endSequenceNumber": "6",
        "approximateArrivalOfFirstRecord": iso_ms(T0 + 2),
        "approximateArrivalOfLastRecord": iso_ms(T0 + 5),
        "batchSize": 4,
        "streamArn": STREAM,
    }
    assert [d["kinesis"]["sequenceNumber"] for d in delivered] == ["3", "4", "5", "6"]
    assert message["requestContext"]["functionArn"] == FN
    assert r.sink.mapping_uuids == ["u-1"]
    [(gone, condition, told)] = r.observer.gave_up
    assert ([g.sequence_number for g in gone], condition, told) == (["3", "4", "5", "6"], "RetryAttemptsExhausted", DLQ)
    assert r.observer.mapping_uuids == ["u-1"]
    assert r.checkpoints == ["2", "6"]
    assert (r.stats.records_succeeded, r.stats.records_dead_lettered, r.stats.records_discarded) == (2, 4, 0)


def test_without_a_destination_the_records_given_up_are_discarded_and_checkpointed() -> None:
    r = run(Flaky({3: -1, 5: -1}), spread(6), max_retry_attempts=1, on_failure_arn=None)
    assert r.sink.sent == []
    [(gone, condition, destination)] = r.observer.gave_up
    assert [g.sequence_number for g in gone] == ["3", "4", "5", "6"]
    assert (condition, destination) == ("RetryAttemptsExhausted", None)
    assert r.checkpoints == ["2", "6"]
    assert (r.stats.records_succeeded, r.stats.records_discarded, r.stats.records_dead_lettered) == (2, 4, 0)


def test_a_whole_failed_batch_is_described_from_its_first_to_its_last_record() -> None:
    r = run(Flaky({2: -1, 4: -1}, raises=True), spread(5), max_retry_attempts=0)
    [(_, message, delivered)] = r.sink.sent
    info = message["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("1", "5", 5)
    assert (info["approximateArrivalOfFirstRecord"], info["approximateArrivalOfLastRecord"]) == (
        iso_ms(T0),
        iso_ms(T0 + 4),
    )
    assert message["requestContext"]["approximateInvokeCount"] == 1
    assert message["responseContext"]["functionError"] == "Unhandled"
    assert len(delivered) == 5 and r.checkpoints == ["5"]


# -- with BisectBatchOnFunctionError -----------------------------------------------------------------------
@pytest.mark.parametrize("order", ["desc", "asc"])
def test_bisect_splits_at_the_lowest_returned_sequence_number_without_using_a_retry(order: str) -> None:
    # GIVEN records 4 and 8 failing (8 twice), MaximumRetryAttempts 0: any retry used would give up
    r = run(Flaky({4: 1, 8: 2}, order=order), records(10), max_retry_attempts=0, bisect_on_error=True)
    # THEN the batch is split at 4, then at 8, not in halves, and nothing is given up
    assert r.calls == [list(range(1, 11)), list(range(4, 11)), list(range(8, 11))]
    assert r.seen == [([], 0), (["3"], 3), (["3", "7"], 7)]
    assert r.checkpoints == ["3", "7", "10"]
    assert (r.stats.bisects, r.stats.retries, r.stats.partial_failures) == (2, 0, 2)
    assert r.sink.sent == [] and r.stats.records_succeeded == 10


def test_bisect_halves_a_batch_whose_first_record_failed_and_isolates_it() -> None:
    # GIVEN record 1 always failing and record 3 failing once, reported highest first
    r = run(Flaky({1: -1, 3: 1}), spread(4), max_retry_attempts=1, bisect_on_error=True)
    # THEN [1..4] is halved, [1, 2] halved again, record 1 alone retried once and given up alone
    assert r.calls == [[1, 2, 3, 4], [1, 2], [1], [1], [2], [3, 4]]
    [(_, message, _)] = r.sink.sent
    info = message["KinesisBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("1", "1", 1)
    assert message["requestContext"]["approximateInvokeCount"] == 2
    assert r.seen[-1] == (["1", "2"], 1)
    assert r.checkpoints == ["1", "2", "4"]
    assert (r.stats.bisects, r.stats.retries, r.stats.records_succeeded) == (2, 1, 3)


def test_bisect_with_a_whole_batch_error_gives_up_each_poison_record_alone() -> None:
    r = run(Flaky({2: -1, 3: -1}, raises=True), spread(4), max_retry_attempts=0, bisect_on_error=True)
    assert r.calls == [[1, 2, 3, 4], [1, 2], [1], [2], [3, 4], [3], [4]]
    sent = [m["KinesisBatchInfo"] for _, m, _ in r.sink.sent]
    assert [(i["startSequenceNumber"], i["endSequenceNumber"], i["batchSize"]) for i in sent] == [
        ("2", "2", 1),
        ("3", "3", 1),
    ]
    assert r.checkpoints == ["1", "2", "3", "4"]


def test_bisect_splits_at_the_second_record_when_it_is_the_lowest_failed() -> None:
    # GIVEN record 2 failing once, reported; bisect on and MaximumRetryAttempts 0
    r = run(Flaky({2: 1}), records(4), max_retry_attempts=0, bisect_on_error=True)
    # THEN record 1 is checkpointed and the batch split there: 2..4 next, not a halving of it
    assert r.calls == [[1, 2, 3, 4], [2, 3, 4]]
    assert r.checkpoints == ["1", "4"] and r.sink.sent == []
    assert (r.stats.bisects, r.stats.retries) == (1, 0)


@pytest.mark.parametrize(
    ("raises", "expected"),
    [
        (True, ["PROBLEM: Function call failed", "OK"]),
        (False, ["OK"]),  # a partial batch response is not a function error
    ],
)
def test_last_processing_result_follows_each_invocation(raises: bool, expected: list[str]) -> None:
    # Built here, not in the parametrize: a Flaky uses up its failures, and one process may run the test twice
    # (mutmut's clean run does).
    function = Flaky({2: 1}, raises=raises)
    results: list[str] = []
    processor = StreamBatchProcessor(
        MappingConfig(
            uuid="u-1", function_arn=FN, event_source_arn=STREAM, kind="kinesis", enabled=True, batch_size=10,
            window_s=0, starting_position="TRIM_HORIZON", report_batch_item_failures=not function.raises,
        ),
        shard_id="shardId-000000000000", region="us-east-1", role_arn="arn:aws:iam::123456789012:role/r",
        invoker=ScriptedInvoker(function), sink=RecordingSink(), clock=FakeClock(), stats=MappingStats(),
        observer=RecordingObserver(), stop=threading.Event(), on_checkpoint=lambda seq: None,
        on_result=results.append,
    )
    assert processor.process(records(3))
    assert results == expected


def test_stop_ends_the_backoff_between_retries() -> None:
    class StoppingClock(FakeClock):
        def wait(self, seconds: float, event: threading.Event | None = None) -> bool:
            stop.set()  # the mapping is disabled during the backoff
            return super().wait(seconds, event)

    stop, clock = threading.Event(), StoppingClock()
    processor = StreamBatchProcessor(
        MappingConfig(
            uuid="u-1", function_arn=FN, event_source_arn=STREAM, kind="kinesis", enabled=True, batch_size=10,
            window_s=0, starting_position="TRIM_HORIZON", max_retry_attempts=5,
        ),
        shard_id="shardId-000000000000", region="us-east-1", role_arn="arn:aws:iam::123456789012:role/r",
        invoker=ScriptedInvoker(unhandled), sink=RecordingSink(), clock=clock, stats=MappingStats(),
        observer=RecordingObserver(), stop=stop, on_checkpoint=lambda seq: None,
    )
    assert processor.process(records(1)) is False
    assert clock.waits == []  # the wait ended at once instead of sleeping through the backoff
