"""The registry of source kinds (``core.sources``): Kinesis and DynamoDB streams run the ordered-stream poller
with their own event shapes and boto3 readers, SQS its queue poller; each poller gets what the manager gives it
(reader, invoker, destinations, clock, region, observer, counts, checkpoints, pinned positions). Checked by
running each kind's poller over in-memory sources. Also the invocation outcome (``core.invoker``)."""

from __future__ import annotations

import base64
import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from esm_fakes import RecordingObserver, RecordingSink
from waiting import wait_for

from emulator.clock import ScaledClock
from emulator.esm.core.config import MappingConfig
from emulator.esm.core.invoker import InvokeOutcome, log_thread_failure
from emulator.esm.core.sources import SOURCE_KINDS, Poller, PollerContext, ordered_stream
from emulator.esm.core.stats import MappingStats
from emulator.esm.sqs.events import SqsMessage
from emulator.esm.sqs.source import Boto3QueueSource, QueueInfo
from emulator.esm.streams.dynamodb_events import DYNAMODB_HOOKS, stream_record
from emulator.esm.streams.dynamodb_source import Boto3DynamoDBStreamSource
from emulator.esm.streams.kinesis_events import KINESIS_HOOKS
from emulator.esm.streams.kinesis_source import Boto3ShardSource
from emulator.esm.streams.records import StreamRecord

REGION = "eu-west-1"
FUNCTION_ARN = "arn:aws:lambda:eu-west-1:123456789012:function:enrich"
DLQ_ARN = "arn:aws:sqs:eu-west-1:123456789012:failures"
KINESIS_ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks"
DDB_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-03T10:00:00.000"
SQS_ARN = "arn:aws:sqs:eu-west-1:123456789012:orders"
ROLE_ARN = "arn:aws:iam::123456789012:role/enrich-role"


# -- the registry --------------------------------------------------------------------------------------------


def test_streams_are_ordered_and_queues_are_not() -> None:
    assert {name: SOURCE_KINDS[name].ordered for name in ("kinesis", "dynamodb", "sqs")} == {
        "kinesis": True, "dynamodb": True, "sqs": False,
    }
    for name in ("kinesis", "dynamodb", "sqs"):
        assert SOURCE_KINDS[name].name == name


def test_a_kind_made_by_ordered_stream_is_ordered_and_keeps_its_reader() -> None:
    def reader(clients: Any, arn: str) -> Any:
        return None

    kind = ordered_stream("toystream", KINESIS_HOOKS, reader=reader)
    assert (kind.name, kind.ordered, kind.reader) == ("toystream", True, reader)
    assert ordered_stream("toystream", KINESIS_HOOKS).reader is None


@pytest.mark.parametrize(
    ("kind", "service", "source_arn", "reader_type"),
    [
        ("kinesis", "kinesis", KINESIS_ARN, Boto3ShardSource),
        ("dynamodb", "dynamodbstreams", DDB_ARN, Boto3DynamoDBStreamSource),
        ("sqs", "sqs", SQS_ARN, Boto3QueueSource),
    ],
)
def test_each_kind_reads_its_source_with_its_services_client(
    kind: str, service: str, source_arn: str, reader_type: type
) -> None:
    asked: list[str] = []

    def clients(name: str) -> object:
        asked.append(name)
        return object()

    build = SOURCE_KINDS[kind].reader
    assert build is not None
    reader = build(clients, source_arn)
    assert isinstance(reader, reader_type)
    assert asked == [service]
    assert reader._arn == source_arn


# -- running each kind's poller ------------------------------------------------------------------------------


@dataclass
class Recorder:
    """An invoker that records each event and fails every batch holding a record whose text has ``poison``."""

    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        event = json.loads(payload)
        with self.lock:
            self.events.append(event)
        if "poison" in payload.decode() or "cG9pc29u" in payload.decode():  # plain or base64 "poison"
            body = json.dumps({"errorMessage": "poison", "errorType": "ValueError"}).encode()
            return InvokeOutcome(payload=body, function_error="Unhandled", status_code=200)
        return InvokeOutcome(payload=b"null", function_error=None, status_code=200)

    def role_arn(self, function_arn: str) -> str:
        return ROLE_ARN

    def records(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for e in self.events for r in e["Records"]]


class Shards:
    """Two shards of in-memory records; an iterator is ``shard:index``, pinned positions are ``pin:shard``."""

    def __init__(self, records: dict[str, list[StreamRecord]]) -> None:
        self.records = records
        self.opened: list[tuple[str, str, str | None]] = []

    def shard_ids(self) -> list[str]:
        return list(self.records)

    def open(self, shard_id: str, *, position: str, timestamp: float | None = None,
             after_sequence: str | None = None) -> str:
        self.opened.append((shard_id, position, after_sequence))
        seqs = [r.sequence_number for r in self.records[shard_id]]
        start = seqs.index(after_sequence) + 1 if after_sequence is not None else 0
        return f"{shard_id}:{start}"

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        if iterator.startswith("pin:"):  # a LATEST position pinned at create time: after the first record
            iterator = f"{iterator[4:]}:1"
        shard_id, start = iterator.rsplit(":", 1)
        batch = self.records[shard_id][int(start) : int(start) + limit]
        return batch, f"{shard_id}:{int(start) + len(batch)}", 0


def kinesis_records(first: int, *values: str) -> list[StreamRecord]:
    return [StreamRecord(str(first + i), f"pk-{i}", v.encode(), 1_700_000_000.0) for i, v in enumerate(values)]


class RecordingClock(ScaledClock):
    """A fast clock that keeps how long each poller wait was (in emulated seconds)."""

    def __init__(self) -> None:
        super().__init__(1000.0)
        self.waits: set[float] = set()

    def wait(self, seconds: float, event: threading.Event | None = None) -> bool:
        self.waits.add(seconds)
        return super().wait(seconds, event)


IDLE_POLL_S = 0.01
IDLE_WAIT = IDLE_POLL_S * 1000.0  # an idle poller waits idle_poll_s of wall time between reads


@dataclass
class Run:
    ctx: PollerContext
    invoker: Recorder
    sink: RecordingSink
    observer: RecordingObserver
    results: list[tuple[str, str]]
    clock: RecordingClock


def context(reader: Any, **options: Any) -> Run:
    invoker, sink, observer, results, clock = Recorder(), RecordingSink(), RecordingObserver(), [], RecordingClock()
    ctx = PollerContext(
        reader=reader, invoker=invoker, sink=sink, clock=clock, region=REGION, observer=observer,
        stats=MappingStats(), idle_poll_s=IDLE_POLL_S,
        on_processing_result=lambda uuid, text: results.append((uuid, text)),
        **options,
    )
    return Run(ctx, invoker, sink, observer, results, clock)


def settle(poller: Poller, what: str, probe: Any, done: Any) -> None:
    """Wait for ``done(probe())``; a poller thread that failed fails the test at once."""

    def checked() -> Any:
        assert poller.errors == [], f"the poller failed while waiting for {what}"
        return probe()

    wait_for(what, checked, done, timeout=20.0)


def running(poller: Poller) -> Any:
    """Start ``poller``; the context manager stops it, also on failure."""

    class Started:
        def __enter__(self) -> Poller:
            poller.start()
            return poller

        def __exit__(self, *exc: object) -> None:
            poller.stop(20.0)

    return Started()


def test_a_kinesis_mapping_resumes_from_checkpoints_starts_pinned_shards_and_sends_failures_on() -> None:
    shards = Shards({
        "shard-a": kinesis_records(11, "a1", "a2", "a3"),
        "shard-b": kinesis_records(21, "b1", "b2", "poison"),
    })
    run = context(shards, checkpoints={"shard-a": "11"}, start_iterators={"shard-b": "pin:shard-b"})
    config = MappingConfig.from_api({
        "UUID": "k-1", "FunctionArn": FUNCTION_ARN, "EventSourceArn": KINESIS_ARN, "BatchSize": 10,
        "StartingPosition": "TRIM_HORIZON", "MaximumRetryAttempts": 0,
        "DestinationConfig": {"OnFailure": {"Destination": DLQ_ARN}},
    })
    kind = ordered_stream("kinesis", KINESIS_HOOKS)
    with running(kind.make_poller(config, run.ctx)) as poller:
        settle(poller, "both shards' batches to settle", lambda: (len(run.sink.sent), len(run.observer.processed)),
               lambda n: n == (1, 2))
        settle(poller, "an idle wait", lambda: run.clock.waits, lambda w: IDLE_WAIT in w)
    assert poller.errors == []
    records = run.invoker.records()
    # shard-a resumed after its checkpoint; shard-b started at its pinned position (after b1)
    assert sorted(base64.b64decode(r["kinesis"]["data"]) for r in records) == [b"a2", b"a3", b"b2", b"poison"]
    assert {r["awsRegion"] for r in records} == {REGION}
    assert {r["eventSource"] for r in records} == {"aws:kinesis"}
    assert {r["invokeIdentityArn"] for r in records} == {ROLE_ARN}
    assert shards.opened == [("shard-a", "AFTER_SEQUENCE_NUMBER", "11")]  # shard-b was pinned: not opened
    [(destination, failure, _)] = run.sink.sent
    assert destination == DLQ_ARN
    assert run.sink.mapping_uuids == ["k-1"]
    assert failure["KinesisBatchInfo"]["shardId"] == "shard-b"
    assert failure["KinesisBatchInfo"]["batchSize"] == 2
    assert poller.stats.as_dict()["records_succeeded"] == 2
    assert sorted(r.data for r in run.observer.processed) == [b"a2", b"a3"]
    assert poller.stats is run.ctx.stats
    assert ("k-1", "OK") in run.results


DDB_RAW = {
    "eventID": "e-1",
    "eventName": "INSERT",
    "eventVersion": "1.1",
    "eventSource": "aws:dynamodb",
    "awsRegion": "us-east-1",
    "dynamodb": {
        "ApproximateCreationDateTime": datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC),
        "Keys": {"id": {"S": "o-1"}},
        "NewImage": {"id": {"S": "o-1"}},
        "SequenceNumber": "100",
        "SizeBytes": 10,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    },
}


def test_a_dynamodb_mapping_delivers_dynamodb_records() -> None:
    shards = Shards({"shard-0": [stream_record(DDB_RAW)]})
    run = context(shards)
    config = MappingConfig.from_api({"UUID": "d-1", "FunctionArn": FUNCTION_ARN, "EventSourceArn": DDB_ARN,
                                     "StartingPosition": "TRIM_HORIZON"})
    with running(ordered_stream("dynamodb", DYNAMODB_HOOKS).make_poller(config, run.ctx)) as poller:
        settle(poller, "the record to be delivered", run.invoker.records, lambda r: len(r) == 1)
    [record] = run.invoker.records()
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == ("aws:dynamodb", DDB_ARN,
                                                                                     REGION)
    assert record["dynamodb"]["Keys"] == {"id": {"S": "o-1"}}


class Queue:
    """An in-memory queue that hands each message out once and records deletions."""

    def __init__(self, *bodies: str) -> None:
        self.waiting = [
            SqsMessage(message_id=f"m{i}", receipt_handle=f"h{i}", body=b, md5_of_body="0",
                       attributes={"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"})
            for i, b in enumerate(bodies)
        ]
        self.deleted: list[str] = []
        self.lock = threading.Lock()

    def info(self) -> QueueInfo:
        return QueueInfo(fifo=False, visibility_timeout_s=30)

    def receive(self, max_messages: int) -> list[SqsMessage]:
        with self.lock:
            taken, self.waiting = self.waiting[:max_messages], self.waiting[max_messages:]
            return taken

    def delete(self, receipt_handles: Any) -> None:
        with self.lock:
            self.deleted.extend(receipt_handles)

    def change_visibility(self, receipt_handles: Any, timeout_s: int) -> None:
        pass

    def outstanding(self) -> int:
        with self.lock:
            return len(self.waiting)


def test_an_sqs_mapping_delivers_and_deletes_its_messages() -> None:
    queue = Queue('{"order": 1}', '{"order": 2}')
    run = context(queue)
    config = MappingConfig.from_api({"UUID": "q-1", "FunctionArn": FUNCTION_ARN, "EventSourceArn": SQS_ARN})
    with running(SOURCE_KINDS["sqs"].make_poller(config, run.ctx)) as poller:
        settle(poller, "both messages to be deleted", lambda: sorted(queue.deleted), lambda d: d == ["h0", "h1"])
        settle(poller, "the success to be counted", lambda: poller.stats.as_dict()["records_succeeded"],
               lambda n: n == 2)
        settle(poller, "an idle wait", lambda: run.clock.waits, lambda w: IDLE_WAIT in w)
    assert poller.errors == []
    records = run.invoker.records()
    assert sorted(r["body"] for r in records) == ['{"order": 1}', '{"order": 2}']
    assert {(r["eventSource"], r["eventSourceARN"], r["awsRegion"]) for r in records} == {
        ("aws:sqs", SQS_ARN, REGION)}
    assert poller.stats is run.ctx.stats
    assert len(run.observer.processed) == 2


# -- the invocation outcome ----------------------------------------------------------------------------------


def test_an_invocation_failed_when_the_function_erred_or_never_ran() -> None:
    assert not InvokeOutcome(payload=b"null", function_error=None, status_code=200).failed
    assert InvokeOutcome(payload=b"{}", function_error="Unhandled", status_code=200).failed
    throttled = InvokeOutcome(payload=b"", function_error=None, status_code=429, invoked=False,
                              error_code="TooManyRequestsException")
    assert throttled.failed
    assert (throttled.request_id, InvokeOutcome(b"", None, 200).invoked) == ("", True)


def test_a_thread_failure_is_shown_unless_the_poller_was_stopping(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("pipemu-test-thread-failure")
    stopping = threading.Event()
    caplog.set_level(logging.DEBUG, logger=log.name)
    for state in ("running", "stopping"):
        if state == "stopping":
            stopping.set()
        try:
            raise RuntimeError(f"boom while {state}")
        except RuntimeError:
            log_thread_failure(log, stopping, "shard %s failed", "shard-0")
    shown, quiet = caplog.records
    assert (shown.levelno, shown.getMessage(), shown.exc_info is not None) == (
        logging.ERROR, "shard shard-0 failed", True)
    assert (quiet.levelno, quiet.getMessage()) == (logging.DEBUG, "shard shard-0 failed")
    assert quiet.exc_info is not None and "stopping" in str(quiet.exc_info[1])
