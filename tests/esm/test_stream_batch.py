"""StreamBatchProcessor with a fake clock, a scripted function and a recording destination: the AWS failure
semantics of Kinesis mappings, in milliseconds, without a server."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from esm_fakes import RecordingObserver, RecordingSink, ScriptedInvoker, ok, records, returns, unhandled

from emulator.clock import FakeClock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.stats import MappingStats
from emulator.esm.streams.batch import StreamBatchProcessor, retry_delay

DLQ = "arn:aws:sqs:us-east-1:123456789012:dlq"
FN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/s"


def config(**overrides: Any) -> MappingConfig:
    base: dict[str, Any] = dict(
        uuid="u-1",
        function_arn=FN,
        event_source_arn=STREAM,
        kind="kinesis",
        enabled=True,
        batch_size=100,
        window_s=0,
        starting_position="TRIM_HORIZON",
        on_failure_arn=DLQ,
    )
    base.update(overrides)
    return MappingConfig(**base)


def processor(cfg: MappingConfig, invoker: ScriptedInvoker, clock: FakeClock | None = None):
    sink, observer, checkpoints = RecordingSink(), RecordingObserver(), []
    p = StreamBatchProcessor(
        cfg,
        shard_id="shardId-000000000000",
        region="us-east-1",
        role_arn="arn:aws:iam::1:role/r",
        invoker=invoker,
        sink=sink,
        clock=clock or FakeClock(),
        stats=MappingStats(),
        observer=observer,
        stop=threading.Event(),
        on_checkpoint=checkpoints.append,
    )
    return p, sink, observer, checkpoints


def test_success_invokes_once_and_checkpoints_the_last_record() -> None:
    invoker = ScriptedInvoker(ok)
    p, sink, _, checkpoints = processor(config(), invoker)
    assert p.process(records(10))
    assert invoker.calls == [[str(i) for i in range(1, 11)]]
    assert checkpoints == ["10"]
    assert sink.sent == []


def test_retries_exhausted_sends_one_message_with_invoke_count_one_plus_retries() -> None:
    # GIVEN a function that always raises and MaximumRetryAttempts 1 (conformance: count 2, functionError Unhandled)
    invoker = ScriptedInvoker(unhandled)
    p, sink, _, checkpoints = processor(config(max_retry_attempts=1, batch_size=1), invoker)
    # WHEN one record is processed
    p.process(records(1))
    # THEN it was invoked twice and dead-lettered once
    assert len(invoker.calls) == 2
    [(dest, message, _)] = sink.sent
    assert dest == DLQ
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 2
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert message["KinesisBatchInfo"]["batchSize"] == 1
    assert (
        message["KinesisBatchInfo"]["startSequenceNumber"]
        == message["KinesisBatchInfo"]["endSequenceNumber"]
        == "1"
    )
    assert list(message) == ["requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"]
    assert checkpoints == ["1"]


def test_report_batch_item_failures_retries_from_the_lowest_failed_record() -> None:
    # conformance test_kinesis_report_batch_item_failures: BS 3, MRA 3, record 6 fails -> count 4, functionError null
    def respond(batch: list[dict[str, Any]]) -> InvokeOutcome:
        failed = [{"itemIdentifier": r["_seq"]} for r in batch if r.get("should_fail")]
        return returns({"batchItemFailures": failed})(batch)

    invoker = ScriptedInvoker(respond)
    cfg = config(batch_size=3, max_retry_attempts=3, report_batch_item_failures=True)
    p, sink, _, _ = processor(cfg, invoker)
    data = records(6, data=lambda i: {"should_fail": i == 6})
    p.process(data[:3])
    p.process(data[3:])
    assert invoker.calls == [["1", "2", "3"], ["4", "5", "6"], ["6"], ["6"], ["6"]]
    [(_, message, _)] = sink.sent
    assert message["requestContext"]["approximateInvokeCount"] == 4
    assert message["responseContext"]["functionError"] is None
    assert message["KinesisBatchInfo"]["batchSize"] == 1
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == "6"


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": 123}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"foo": 123}]},
        {"batchItemFailures": [{"foo": None}]},
    ],
)
def test_invalid_item_identifiers_fail_the_whole_batch(response: Any) -> None:
    invoker = ScriptedInvoker(returns(response))
    p, sink, _, _ = processor(
        config(batch_size=1, max_retry_attempts=2, report_batch_item_failures=True), invoker
    )
    p.process(records(1))
    assert len(invoker.calls) == 3
    [(_, message, _)] = sink.sent
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert message["responseContext"]["functionError"] is None


@pytest.mark.parametrize("response", [None, [], {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_success_variants_invoke_once(response: Any) -> None:
    invoker = ScriptedInvoker(returns(response))
    p, sink, _, _ = processor(
        config(batch_size=1, max_retry_attempts=2, report_batch_item_failures=True), invoker
    )
    p.process(records(1))
    assert len(invoker.calls) == 1
    assert sink.sent == []


def test_bisect_isolates_the_poison_record_and_delivers_the_rest_once() -> None:
    # GIVEN 100 records, record 37 poison, bisect on, 2 retries
    def respond(batch: list[dict[str, Any]]) -> InvokeOutcome:
        return unhandled(batch) if any(r["i"] == 37 for r in batch) else ok(batch)

    invoker = ScriptedInvoker(respond)
    p, sink, _, checkpoints = processor(config(bisect_on_error=True, max_retry_attempts=2), invoker)
    p.process(records(100))
    # THEN exactly one message for the poison record alone
    [(_, message, delivered)] = sink.sent
    assert message["KinesisBatchInfo"]["batchSize"] == 1
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == "37"
    assert [r["kinesis"]["sequenceNumber"] for r in delivered] == ["37"]
    # and every other record succeeded in exactly one invocation
    succeeded = [seq for call in invoker.calls if "37" not in call for seq in call]
    assert sorted(succeeded, key=int) == [str(i) for i in range(1, 101) if i != 37]
    # splits do not use retries: the lone poison record is invoked 1 + 2 times
    assert sum(1 for call in invoker.calls if call == ["37"]) == 3
    assert checkpoints[-1] == "100"


def test_record_age_exceeded_while_retrying_counts_invocations_and_has_no_response_context() -> None:
    # conformance expire-while-retrying: MRA -1, age 60 -> RecordAgeExceeded after 8 invocations
    clock = FakeClock()
    invoker = ScriptedInvoker(unhandled)
    p, sink, _, _ = processor(
        config(batch_size=1, max_record_age_s=60, max_retry_attempts=-1), invoker, clock
    )
    p.process(records(1, arrival=clock.now()))
    [(_, message, _)] = sink.sent
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 8
    assert "responseContext" not in message
    assert len(invoker.calls) == 8


def test_expired_records_are_split_off_and_the_fresh_ones_invoked() -> None:
    # conformance discard_records: one old record -> its own message (count 1); 5 fresh -> function
    clock = FakeClock()
    invoker = ScriptedInvoker(ok)
    p, sink, _, _ = processor(
        config(batch_size=10, max_record_age_s=60, max_retry_attempts=0), invoker, clock
    )
    old = records(1, arrival=clock.now() - 80)
    fresh = records(5, start=2, arrival=clock.now())
    p.process(old + fresh)
    [(_, message, _)] = sink.sent
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["requestContext"]["approximateInvokeCount"] == 1
    assert message["KinesisBatchInfo"]["batchSize"] == 1
    assert invoker.calls == [["2", "3", "4", "5", "6"]]


def test_errors_before_the_function_ran_do_not_count_as_retries() -> None:
    answers = iter([InvokeOutcome(b"", None, 429, invoked=False)] * 3 + [unhandled()] * 10)
    invoker = ScriptedInvoker(lambda _: next(answers))
    p, sink, _, _ = processor(config(batch_size=1, max_retry_attempts=1), invoker)
    p.process(records(1))
    assert len(invoker.calls) == 5  # 3 throttles + 1 + 1 retry
    [(_, message, _)] = sink.sent
    assert message["requestContext"]["approximateInvokeCount"] == 2


def test_no_destination_discards_and_tells_the_observer() -> None:
    invoker = ScriptedInvoker(unhandled)
    p, sink, observer, _ = processor(config(max_retry_attempts=0, on_failure_arn=None), invoker)
    p.process(records(2))
    assert sink.sent == []
    [(gone, condition, destination)] = observer.gave_up
    assert [r.sequence_number for r in gone] == ["1", "2"] and condition == "RetryAttemptsExhausted"
    assert destination is None


def test_retry_backoff_is_exponential_and_capped() -> None:
    assert [retry_delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 12, 12, 12]


def test_the_backoff_stays_capped_after_thousands_of_retries() -> None:
    # MaximumRetryAttempts -1 and no MaximumRecordAgeInSeconds: a poison batch is retried as long as the run
    # lasts (2.0 ** 1024 overflowed after 1025 retries, three emulated hours, and stopped the shard)
    assert [retry_delay(n) for n in (1025, 10**6)] == [12, 12]


def test_bisect_with_partial_failures_isolates_the_poison_record() -> None:
    # GIVEN a handler reporting its poison record 7 (of 20) as failed, and records after it not processed
    def respond(batch: list[dict[str, Any]]) -> InvokeOutcome:
        failed = [{"itemIdentifier": r["_seq"]} for r in batch if r["i"] == 7]
        return returns({"batchItemFailures": failed})(batch)

    invoker = ScriptedInvoker(respond)
    cfg = config(batch_size=20, max_retry_attempts=2, report_batch_item_failures=True, bisect_on_error=True)
    p, sink, _, checkpoints = processor(cfg, invoker)
    p.process(records(20))
    # THEN one message, for record 7 alone, after 1 + 2 invocations of it alone
    [(_, message, _)] = sink.sent
    assert message["KinesisBatchInfo"]["batchSize"] == 1
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == "7"
    assert sum(1 for call in invoker.calls if call == ["7"]) == 3
    assert checkpoints[-1] == "20"


# -- what the observer is told was processed ------------------------------------------------------------------
def test_observer_is_told_each_processed_record_once_with_its_shard() -> None:
    invoker = ScriptedInvoker(ok)
    p, _, observer, _ = processor(config(batch_size=5), invoker)
    p.process(records(3))
    assert [r.sequence_number for r in observer.processed] == ["1", "2", "3"]
    assert observer.shards == ["shardId-000000000000"]


def test_partial_failure_processes_only_the_records_before_the_lowest_failed_one() -> None:
    """AWS's checkpoint rule: records after the lowest failed item are retried, so they count as processed only
    when a later invocation succeeds with them."""
    calls = {"n": 0}

    def respond(batch: list[dict[str, Any]]) -> InvokeOutcome:
        calls["n"] += 1
        failed = ["5", "3"] if calls["n"] == 1 else []  # the handler reports 3 and 5; 4 succeeded in call 1
        return returns({"batchItemFailures": [{"itemIdentifier": s} for s in failed]})(batch)

    invoker = ScriptedInvoker(respond)
    p, _, observer, _ = processor(config(report_batch_item_failures=True, max_retry_attempts=2), invoker)
    p.process(records(6))
    assert invoker.calls == [["1", "2", "3", "4", "5", "6"], ["3", "4", "5", "6"]]
    assert [r.sequence_number for r in observer.processed] == ["1", "2", "3", "4", "5", "6"]


def test_given_up_records_are_not_processed_and_the_observer_hears_their_shard() -> None:
    invoker = ScriptedInvoker(unhandled)
    p, _, observer, _ = processor(config(max_retry_attempts=0), invoker)
    p.process(records(2))
    assert observer.processed == [] and observer.shards == ["shardId-000000000000"]


def test_bisect_reports_every_record_but_the_poison_one_processed() -> None:
    def respond(batch: list[dict[str, Any]]) -> InvokeOutcome:
        return unhandled(batch) if any(r["i"] == 7 for r in batch) else ok(batch)

    invoker = ScriptedInvoker(respond)
    p, _, observer, _ = processor(config(bisect_on_error=True, max_retry_attempts=1), invoker)
    p.process(records(20))
    processed = [r.sequence_number for r in observer.processed]
    assert sorted(processed, key=int) == [str(i) for i in range(1, 21) if i != 7]
    assert len(processed) == len(set(processed))


# -- what the function and the destination see of the mapping -----------------------------------------------
class Capturing(ScriptedInvoker):
    """Keeps every payload as the function received it."""

    def __init__(self, respond: Any) -> None:
        super().__init__(respond)
        self.events: list[dict[str, Any]] = []

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        self.events.append(json.loads(payload))
        return super().invoke(function_arn, payload)


def test_each_record_names_its_shard_stream_region_and_the_mapping_role() -> None:
    invoker = Capturing(unhandled)
    p, sink, _, _ = processor(config(max_retry_attempts=0), invoker)
    p.process(records(2))
    [event] = invoker.events
    for record in [*event["Records"], *sink.sent[0][2]]:
        assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
        assert (record["eventSourceARN"], record["awsRegion"]) == (STREAM, "us-east-1")
        assert record["invokeIdentityArn"] == "arn:aws:iam::1:role/r"
    assert sink.sent[0][1]["KinesisBatchInfo"]["shardId"] == "shardId-000000000000"
    assert "window" not in event and "state" not in event  # no tumbling window configured


# -- MaximumRecordAgeInSeconds -------------------------------------------------------------------------------
def test_a_record_exactly_maximum_record_age_old_is_still_invoked() -> None:
    # AWS discards records *older* than MaximumRecordAgeInSeconds
    clock = FakeClock()
    invoker = ScriptedInvoker(ok)
    p, sink, _, checkpoints = processor(config(max_record_age_s=60), invoker, clock)
    p.process(records(1, arrival=clock.now() - 60.5) + records(1, start=2, arrival=clock.now() - 60))
    assert invoker.calls == [["2"]]
    [(_, message, _)] = sink.sent
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == "1"
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert checkpoints == ["1", "2"]


def test_records_that_expire_while_their_half_is_retried_do_not_stop_the_other_half() -> None:
    # GIVEN record 1 (old) always failing and record 2 (fresh), bisect on, no retry limit, MaximumRecordAge 60
    clock = FakeClock()

    def respond(batch: list[dict[str, Any]]) -> InvokeOutcome:
        return unhandled(batch) if any(r["i"] == 1 for r in batch) else ok(batch)

    invoker = ScriptedInvoker(respond)
    cfg = config(bisect_on_error=True, max_retry_attempts=-1, max_record_age_s=60)
    p, sink, observer, checkpoints = processor(cfg, invoker, clock)
    old = records(1, arrival=clock.now() - 50)
    fresh = records(1, start=2, arrival=clock.now())
    assert p.process(old + fresh)
    # THEN record 1 expires during its retries and goes to the destination; record 2 is then invoked
    [(_, message, _)] = sink.sent
    assert message["requestContext"]["condition"] == "RecordAgeExceeded"
    assert message["KinesisBatchInfo"]["startSequenceNumber"] == "1"
    assert invoker.calls[-1] == ["2"]
    assert [r.sequence_number for r in observer.processed] == ["2"]
    assert checkpoints == ["1", "2"]


# -- stopping -----------------------------------------------------------------------------------------------
def test_stopped_while_the_previous_window_is_closed_the_batch_is_not_invoked() -> None:
    # GIVEN a mapping with tumbling windows whose final invocation keeps failing, and stopped during its backoff
    class StoppingClock(FakeClock):
        def wait(self, seconds: float, event: threading.Event | None = None) -> bool:
            stop.set()
            return super().wait(seconds, event)

    stop, clock = threading.Event(), StoppingClock(1_800_000_030.0)

    def respond(batch: list[dict[str, Any]]) -> InvokeOutcome:
        return returns({"state": {}})(batch) if batch else unhandled(batch)

    invoker = ScriptedInvoker(respond)
    p = StreamBatchProcessor(
        config(tumbling_window_s=60), shard_id="shardId-000000000000", region="us-east-1", role_arn="r",
        invoker=invoker, sink=RecordingSink(), clock=clock, stats=MappingStats(), observer=RecordingObserver(),
        stop=stop, on_checkpoint=lambda s: None,
    )
    assert p.process(records(1, arrival=1_800_000_001.0))
    # WHEN a batch of the next window comes and the final invocation of the first fails
    assert p.process(records(1, start=2, arrival=1_800_000_061.0)) is False
    # THEN the new batch was not invoked (it is read again from the checkpoint)
    assert invoker.calls == [["1"], []]


def test_a_one_second_tumbling_window_is_a_window() -> None:
    invoker = Capturing(returns({"state": {"n": 1}}))
    p, _, _, _ = processor(config(tumbling_window_s=1), invoker)
    p.process(records(1))
    assert invoker.events[0]["window"]["start"] == "2023-11-14T22:13:20Z"
    assert invoker.events[0]["isFinalInvokeForWindow"] is False
