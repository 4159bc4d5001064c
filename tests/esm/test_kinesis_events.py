"""The Kinesis on-failure record and its timestamps, against the AWS recording
(``test_kinesis_event_source_mapping_with_on_failure_destination_config`` in the Kinesis snapshot)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aws_recorded import recorded
from esm_fakes import records

from emulator.esm.core.filters import parse_filter_criteria
from emulator.esm.streams.kinesis_events import KINESIS_HOOKS, StreamRecord, iso_ms, on_failure_record

FN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/s"


def failure(**overrides: object) -> dict[str, object]:
    context: dict[str, object] = dict(
        condition="RetryAttemptsExhausted", invoke_count=2, function_arn=FN, shard_id="shardId-000000000000",
        stream_arn=STREAM, now=1_700_000_000.5, function_error="Unhandled", invoked=True,
    )
    return dict(on_failure_record(records(2), **(context | overrides)))  # type: ignore[arg-type]


def test_the_on_failure_record_has_the_recorded_shape() -> None:
    # GIVEN the record for a batch given up after two invocations that raised
    record = failure()
    # THEN its keys, in AWS's order, and the constant fields are the recorded ones
    assert list(record) == ["requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"]
    assert list(record["requestContext"]) == ["requestId", "functionArn", "condition", "approximateInvokeCount"]
    assert record["version"] == "1.0"
    assert record["timestamp"] == "2023-11-14T22:13:20.500Z"


def test_each_on_failure_record_has_its_own_uuid_request_id() -> None:
    first, second = failure()["requestContext"], failure()["requestContext"]
    ids = [first["requestId"], second["requestId"]]  # type: ignore[index]
    assert [str(uuid.UUID(i)) for i in ids] == ids and ids[0] != ids[1]


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("new_york")
def test_timestamps_are_utc_with_milliseconds_whatever_the_local_time_zone() -> None:
    assert iso_ms(1_700_000_000.123) == "2023-11-14T22:13:20.123Z"
    assert iso_ms(1_700_000_000.0) == "2023-11-14T22:13:20.000Z"


# -- against the AWS recordings ------------------------------------------------------------------------------
KINESIS = "test_lambda_integration_kinesis"
SHARD = "shardId-000000000000"


def recorded_failure(test: str, *path: str | int) -> dict[str, Any]:
    found: dict[str, Any] = recorded(KINESIS, test, *path)
    return found


def test_an_event_record_has_the_recorded_keys_values_and_order() -> None:
    aws = recorded_failure("test_kinesis_event_source_mapping_with_async_invocation", "invocation_events", 0,
                           "event", "Records", 0)
    record = StreamRecord(sequence_number="49590338271490256608559692538361571095921575989136588898",
                          partition_key="test_0", data=b'{"record_id": 0}', arrival=1_700_000_000.125)
    shaped = KINESIS_HOOKS.shape(record, shard_id=SHARD, stream_arn=STREAM, region="us-east-1",
                                 role_arn="arn:aws:iam::123456789012:role/r")
    assert list(shaped) == list(aws) and list(shaped["kinesis"]) == list(aws["kinesis"])
    assert shaped["kinesis"]["data"] == aws["kinesis"]["data"]
    assert shaped == {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "test_0",
            "sequenceNumber": record.sequence_number,
            "data": "eyJyZWNvcmRfaWQiOiAwfQ==",
            "approximateArrivalTimestamp": 1_700_000_000.125,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{SHARD}:{record.sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/r",
        "awsRegion": "us-east-1",
        "eventSourceARN": STREAM,
    }
    assert {key: shaped[key] for key in ("eventSource", "eventVersion", "eventName")} == {
        key: aws[key] for key in ("eventSource", "eventVersion", "eventName")}
    assert shaped["kinesis"]["kinesisSchemaVersion"] == aws["kinesis"]["kinesisSchemaVersion"]


def test_a_multi_record_batch_names_its_first_and_last_records() -> None:
    batch = [StreamRecord(str(seq), f"pk-{seq}", b"x", arrival) for seq, arrival in
             ((101, 1_700_000_000.25), (102, 1_700_000_001.5), (103, 1_700_000_002.75))]
    record = KINESIS_HOOKS.failure_record(
        batch, condition="RetryAttemptsExhausted", invoke_count=4, function_arn=FN, shard_id="shardId-000000000003",
        stream_arn=STREAM, now=1_700_000_010.0, function_error="Handled", invoked=True)
    aws = recorded_failure("test_kinesis_event_source_mapping_with_on_failure_destination_config", "sqs_payload",
                           "Messages", 0, "Body")
    assert list(record["KinesisBatchInfo"]) == list(aws["KinesisBatchInfo"])
    assert list(record["responseContext"]) == list(aws["responseContext"])
    assert record["KinesisBatchInfo"] == {
        "shardId": "shardId-000000000003",
        "startSequenceNumber": "101",
        "endSequenceNumber": "103",
        "approximateArrivalOfFirstRecord": "2023-11-14T22:13:20.250Z",
        "approximateArrivalOfLastRecord": "2023-11-14T22:13:22.750Z",
        "batchSize": 3,
        "streamArn": STREAM,
    }
    assert record["requestContext"] | {"requestId": "-"} == {
        "requestId": "-", "functionArn": FN, "condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Handled"}
    assert record["timestamp"] == "2023-11-14T22:13:30.000Z"


def test_a_record_that_expired_uninvoked_has_no_response_context() -> None:
    aws = recorded_failure("test_kinesis_maximum_record_age_exceeded[expire-while-retrying]",
                           "record_age_exceeded_payload", "Messages", 0, "Body")
    record = failure(condition="RecordAgeExceeded", invoke_count=8, function_error=None, invoked=False)
    assert list(record) == list(aws) == ["requestContext", "version", "timestamp", "KinesisBatchInfo"]
    assert record["requestContext"]["condition"] == "RecordAgeExceeded"  # type: ignore[index]
    assert record["requestContext"]["approximateInvokeCount"] == 8  # type: ignore[index]


def test_the_recorded_on_failure_constants() -> None:
    aws = recorded_failure("test_kinesis_event_source_mapping_with_on_failure_destination_config", "sqs_payload",
                           "Messages", 0, "Body")
    record = failure()
    assert list(record) == list(aws)
    assert record["version"] == aws["version"]
    assert record["responseContext"] == aws["responseContext"]


def test_filters_see_the_record_as_the_function_does() -> None:
    record = StreamRecord("1", "pk", json.dumps({"kind": "order", "amount": 12}).encode(), 1_700_000_000.0)
    shaped = KINESIS_HOOKS.shape(record, shard_id=SHARD, stream_arn=STREAM, region="us-east-1", role_arn="r")

    def keeps(pattern: dict[str, Any]) -> bool:
        criteria = parse_filter_criteria({"Filters": [{"Pattern": json.dumps(pattern)}]})
        return KINESIS_HOOKS.keeps(criteria, shaped)

    assert keeps({"data": {"kind": ["order"]}}) and not keeps({"data": {"kind": ["refund"]}})
    assert keeps({"partitionKey": ["pk"]}) and not keeps({"partitionKey": ["other"]})


def test_milliseconds_are_truncated_not_rounded() -> None:
    assert iso_ms(1_700_000_000.9996) == "2023-11-14T22:13:20.999Z"
    assert iso_ms(0.5) == "1970-01-01T00:00:00.500Z"
