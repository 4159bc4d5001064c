"""DynamoDB Streams record shapes: the event AWS delivers, SizeBytes as DynamoDB sizes items, the on-failure
record (DDBStreamBatchInfo), filter matching on DynamoDB JSON."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from aws_recorded import recorded

from emulator.esm.core.filters import parse_filter_criteria
from emulator.esm.streams.dynamodb_events import (
    DYNAMODB_HOOKS,
    attribute_size,
    image_identity,
    iso_s,
    item_size,
    json_default,
    ledger_key,
    on_failure_record,
    record_identity,
    size_bytes,
    stream_record,
)
from emulator.esm.streams.records import StreamRecord

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-03T10:00:00.000"
RAW = {
    "eventID": "0123456789abcdef0123456789abcdef",
    "eventName": "MODIFY",
    "eventVersion": "1.0",
    "eventSource": "aws:dynamodb",
    "awsRegion": "us-east-1",
    "dynamodb": {
        "ApproximateCreationDateTime": datetime(2026, 12, 3, 10, 0, 5, 700000, tzinfo=UTC),
        "Keys": {"order_id": {"S": "o-1"}},
        "NewImage": {"order_id": {"S": "o-1"}, "amount": {"N": "12.5"}},
        "OldImage": {"order_id": {"S": "o-1"}, "amount": {"N": "10"}},
        "SequenceNumber": "1100000000017454423010",
        "SizeBytes": 999,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    },
}


def test_a_record_travels_with_its_keys_as_partition_and_creation_time_as_arrival() -> None:
    record = stream_record(RAW)
    assert record.sequence_number == "1100000000017454423010"
    assert json.loads(record.partition_key) == {"order_id": {"S": "o-1"}}
    assert record.arrival == datetime(2026, 12, 3, 10, 0, 5, 700000, tzinfo=UTC).timestamp()


def test_the_function_sees_aws_shape_with_size_and_creation_time_rounded_down() -> None:
    shaped = DYNAMODB_HOOKS.shape(stream_record(RAW), shard_id="s", stream_arn=ARN, region="eu-west-1", role_arn="r")
    assert list(shaped) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb",
                            "eventSourceARN"]
    assert shaped["eventID"] == RAW["eventID"] and shaped["eventName"] == "MODIFY"
    assert (shaped["eventVersion"], shaped["eventSource"], shaped["awsRegion"], shaped["eventSourceARN"]) == (
        "1.1", "aws:dynamodb", "eu-west-1", ARN)
    inner = shaped["dynamodb"]
    assert inner["ApproximateCreationDateTime"] == float(int(RAW["dynamodb"]["ApproximateCreationDateTime"]
                                                             .timestamp()))
    assert isinstance(inner["ApproximateCreationDateTime"], float)
    assert inner["OldImage"]["amount"] == {"N": "10"} and inner["NewImage"]["amount"] == {"N": "12.5"}
    # Keys 8+3; NewImage 11 + amount(6) + 12.5 (3 digits: 3) ; OldImage 11 + 6 + 10 (1 digit: 2)
    assert inner["SizeBytes"] == 11 + (11 + 6 + 3) + (11 + 6 + 2)
    assert inner["SequenceNumber"] == "1100000000017454423010" and inner["StreamViewType"] == "NEW_AND_OLD_IMAGES"


@pytest.mark.parametrize(("value", "size"), [
    ({"S": "héllo"}, 6), ({"B": "Zm9vYmFy"}, 6), ({"B": b"foobar"}, 6), ({"N": "42"}, 2), ({"N": "-1234.5"}, 4),
    ({"N": "0"}, 2), ({"BOOL": True}, 1), ({"NULL": True}, 1), ({"SS": ["ab", "c"]}, 3), ({"NS": ["1", "22"]}, 4),
    ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + 2 + 2), ({"M": {"k": {"S": "vv"}}}, 3 + 1 + 2),
])
def test_attribute_sizes_follow_dynamodb(value, size) -> None:
    assert attribute_size(value) == size


def test_size_bytes_matches_the_aws_recordings() -> None:
    # Recorded: a one-key INSERT of a NEW_IMAGE stream with a binary attribute is 70 bytes, with a boolean 58.
    key = {"my_partition_key": {"S": "hello world"}}
    assert size_bytes({"Keys": key, "NewImage": {**key, "binary_key": {"B": "Zm9vYmFy"}}}) == 70
    key = {"my_partition_key": {"S": "testId0"}}
    assert size_bytes({"Keys": key, "NewImage": {**key, "should_fail": {"BOOL": False}}}) == 58


def test_on_failure_record_has_ddb_stream_batch_info_and_response_context_only_when_invoked() -> None:
    later = {**RAW, "dynamodb": {**RAW["dynamodb"], "SequenceNumber": "1100000000017454423011"}}
    records = [stream_record(RAW), stream_record(later)]
    failed = on_failure_record(records, condition="RetryAttemptsExhausted", invoke_count=3, function_arn="fn",
                               shard_id="shard-1", stream_arn=ARN, now=1_800_000_000.25, function_error="Unhandled",
                               invoked=True)
    assert list(failed) == ["requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"]
    assert failed["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failed["requestContext"]["approximateInvokeCount"] == 3
    assert failed["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert failed["timestamp"] == "2027-01-15T08:00:00.250Z"
    assert failed["DDBStreamBatchInfo"] == {
        "shardId": "shard-1", "startSequenceNumber": "1100000000017454423010",
        "endSequenceNumber": "1100000000017454423011", "approximateArrivalOfFirstRecord": "2026-12-03T10:00:05Z",
        "approximateArrivalOfLastRecord": "2026-12-03T10:00:05Z", "batchSize": 2, "streamArn": ARN,
    }
    aged = on_failure_record(records[:1], condition="RecordAgeExceeded", invoke_count=1, function_arn="fn",
                             shard_id="s", stream_arn=ARN, now=0.0, function_error=None, invoked=False)
    assert "responseContext" not in aged and aged["DDBStreamBatchInfo"]["batchSize"] == 1


def test_filters_match_dynamodb_json_as_delivered() -> None:
    shaped = DYNAMODB_HOOKS.shape(stream_record(RAW), shard_id="s", stream_arn=ARN, region="r", role_arn="r")

    def keeps(pattern: dict) -> bool:
        return DYNAMODB_HOOKS.keeps(parse_filter_criteria({"Filters": [{"Pattern": json.dumps(pattern)}]}), shaped)

    assert keeps({"eventName": ["MODIFY"]}) and not keeps({"eventName": ["INSERT"]})
    assert keeps({"dynamodb": {"NewImage": {"amount": {"N": ["12.5"]}}}})
    assert not keeps({"dynamodb": {"NewImage": {"amount": ["12.5"]}}})  # the type key is part of the path
    assert keeps({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}})


# -- against the AWS recordings ------------------------------------------------------------------------------
DDB = "test_lambda_integration_dynamodbstreams"
SHARD = "shardId-00000001700000000000-abcdef01"


def recorded_body(test: str, *path: str | int) -> dict[str, Any]:
    found: dict[str, Any] = recorded(DDB, test, *path)
    return found


def raw(**dynamodb: Any) -> dict[str, Any]:
    """A GetRecords record (boto3's shape) of an INSERT into a NEW_IMAGE stream."""
    key = {"my_partition_key": {"S": "hello world"}}
    inner = {"ApproximateCreationDateTime": 1_700_000_000.9, "Keys": key,
             "NewImage": {"binary_key": {"B": b"foobar"}, **key}, "SequenceNumber": "100000000000000000001",
             "SizeBytes": 123, "StreamViewType": "NEW_IMAGE"}
    return {"eventID": "e-1", "eventName": "INSERT", "dynamodb": {**inner, **dynamodb}}


def test_an_insert_has_the_recorded_shape_and_size() -> None:
    aws = recorded_body("test_dynamodb_event_source_mapping", "event_logs", 0, "Records", 0)
    shaped = DYNAMODB_HOOKS.shape(stream_record(raw()), shard_id=SHARD, stream_arn=ARN, region="eu-west-1",
                                  role_arn="r")
    assert list(shaped) == list(aws) and list(shaped["dynamodb"]) == list(aws["dynamodb"])
    assert {k: shaped["dynamodb"][k] for k in ("Keys", "NewImage", "SizeBytes", "StreamViewType")} == {
        k: aws["dynamodb"][k] for k in ("Keys", "NewImage", "SizeBytes", "StreamViewType")}
    assert (shaped["eventName"], shaped["eventVersion"], shaped["eventSource"]) == (
        aws["eventName"], aws["eventVersion"], aws["eventSource"])
    assert shaped["eventID"] == "e-1" and shaped["dynamodb"]["SequenceNumber"] == "100000000000000000001"
    assert shaped["dynamodb"]["ApproximateCreationDateTime"] == 1_700_000_000.0
    assert "OldImage" not in shaped["dynamodb"]


def test_a_modify_of_a_new_and_old_images_stream_has_the_recorded_shape_and_size() -> None:
    aws = recorded_body("test_dynamodb_event_filter[content_or_filter]", "lambda-multiple-log-events", 1,
                        "Records", 0)
    inner = {key: aws["dynamodb"][key] for key in ("Keys", "NewImage", "OldImage", "StreamViewType")}
    record = stream_record({"eventID": "e-2", "eventName": "MODIFY",
                            "dynamodb": {**inner, "ApproximateCreationDateTime": 5.0, "SequenceNumber": "7"}})
    shaped = DYNAMODB_HOOKS.shape(record, shard_id=SHARD, stream_arn=ARN, region="eu-west-1", role_arn="r")
    assert list(shaped["dynamodb"]) == list(aws["dynamodb"])
    assert shaped["dynamodb"]["SizeBytes"] == aws["dynamodb"]["SizeBytes"] == 46
    assert shaped["dynamodb"]["OldImage"] == aws["dynamodb"]["OldImage"]


def test_a_record_without_a_view_type_or_keys_gets_the_defaults() -> None:
    record = stream_record({"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "9"}})
    shaped = DYNAMODB_HOOKS.shape(record, shard_id=SHARD, stream_arn=ARN, region="eu-west-1", role_arn="r")
    assert shaped["dynamodb"] == {"ApproximateCreationDateTime": 0.0, "Keys": {}, "SequenceNumber": "9",
                                  "SizeBytes": 0, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert record.arrival == 0.0 and record.partition_key == "{}"
    # Without an eventID from the stream, each record gets its own
    ids = {json.loads(stream_record({"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "9"}}).data)["eventID"]
           for _ in range(2)}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A host whose local time is not UTC."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("new_york")
def test_creation_times_from_moto_and_boto3_are_read_as_utc() -> None:
    naive = datetime(2026, 12, 3, 10, 0, 5)  # moto's objects hold naive UTC times
    aware = datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC)
    assert stream_record(raw(ApproximateCreationDateTime=naive)).arrival == aware.timestamp()
    assert stream_record(raw(ApproximateCreationDateTime=aware)).arrival == aware.timestamp()
    # boto3 gives the host's local time zone; the instant is what counts
    local = aware.astimezone(timezone(timedelta(hours=2)))
    assert stream_record(raw(ApproximateCreationDateTime=local)).arrival == aware.timestamp()
    assert stream_record(raw(ApproximateCreationDateTime=1_700_000_000.9)).arrival == 1_700_000_000.9
    body = json.loads(stream_record(raw()).data)
    assert set(body) == {"eventID", "eventName", "dynamodb"}
    assert "SizeBytes" not in body["dynamodb"] and "ApproximateCreationDateTime" not in body["dynamodb"]
    assert body["dynamodb"]["NewImage"]["binary_key"] == {"B": "Zm9vYmFy"}  # bytes as DynamoDB JSON's base64


def test_binary_keys_partition_as_base64_text() -> None:
    record = stream_record(raw(Keys={"k": {"B": b"\x00\x01"}}))
    assert json.loads(record.partition_key) == {"k": {"B": "AAE="}}
    assert json_default(bytearray(b"ab")) == "YWI=" and json_default(Decimal("1.5")) == "1.5"


def test_the_on_failure_record_has_the_recorded_keys_and_constants() -> None:
    aws = recorded_body("test_dynamodb_event_source_mapping_with_on_failure_destination_config",
                        "destination_queue_messages", "Messages", 0, "Body")
    records = [stream_record(raw(SequenceNumber="1", ApproximateCreationDateTime=1_700_000_000.9)),
               stream_record(raw(SequenceNumber="2", ApproximateCreationDateTime=1_700_000_061.2))]
    failed = DYNAMODB_HOOKS.failure_record(
        records, condition="RetryAttemptsExhausted", invoke_count=2, function_arn="fn", shard_id=SHARD,
        stream_arn=ARN, now=1_700_000_100.0, function_error="Unhandled", invoked=True)
    assert list(failed) == list(aws)
    assert list(failed["DDBStreamBatchInfo"]) == list(aws["DDBStreamBatchInfo"])
    assert failed["responseContext"] == aws["responseContext"] and failed["version"] == aws["version"]
    assert list(failed["requestContext"]) == list(aws["requestContext"])
    assert failed["requestContext"]["functionArn"] == "fn"
    assert str(uuid.UUID(failed["requestContext"]["requestId"])) == failed["requestContext"]["requestId"]
    info = failed["DDBStreamBatchInfo"]
    assert (info["shardId"], info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        SHARD, "1", "2", 2)
    assert (info["approximateArrivalOfFirstRecord"], info["approximateArrivalOfLastRecord"]) == (
        "2023-11-14T22:13:20Z", "2023-11-14T22:14:21Z")
    aged = on_failure_record(records, condition="RecordAgeExceeded", invoke_count=1, function_arn="fn",
                             shard_id=SHARD, stream_arn=ARN, now=0.0, function_error=None, invoked=False)
    assert list(aged) == ["requestContext", "version", "timestamp", "DDBStreamBatchInfo"]


@pytest.mark.usefixtures("new_york")
def test_iso_s_truncates_to_the_second_in_utc() -> None:
    assert iso_s(1_700_000_000.999) == "2023-11-14T22:13:20Z"
    assert iso_s(0) == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize(("value", "size"), [
    ({"N": "-1234"}, 3), ({"N": "1.234"}, 3), ({"N": "100"}, 2), ({"N": "0.001"}, 2), ({"N": "12345"}, 4),
    ({"BS": ["Zm9v", b"ab"]}, 5), ({"B": bytearray(b"abc")}, 3), ({"NS": ["0"]}, 2), ({"SS": ["é"]}, 2),
    ({"L": []}, 3), ({"M": {}}, 3), ({"S": ""}, 0),
])
def test_more_attribute_sizes(value, size) -> None:
    assert attribute_size(value) == size


def test_an_unknown_attribute_type_is_refused() -> None:
    with pytest.raises(ValueError, match="not a DynamoDB attribute value"):
        attribute_size({"X": "1"})


def test_size_bytes_counts_keys_and_both_images() -> None:
    assert item_size({"ab": {"S": "c"}, "d": {"BOOL": True}}) == 3 + 2
    keys = {"k": {"S": "v"}}
    assert size_bytes({"Keys": keys, "OldImage": keys, "NewImage": keys, "StreamViewType": "X"}) == 6
    assert size_bytes({"Keys": keys}) == 2 and size_bytes({}) == 0


# -- how a run's ledger knows the event behind a record --------------------------------------------------
def ddb(event: str, *, new: dict[str, Any] | None = None, keys: dict[str, Any] | None = None) -> StreamRecord:
    inner: dict[str, Any] = {"Keys": keys or {"id": {"S": "o-1"}}, "SequenceNumber": "1"}
    if new is not None:
        inner["NewImage"] = new
    return stream_record({"eventID": "e", "eventName": event, "dynamodb": inner})


def test_a_remove_is_known_by_the_keys_it_removed() -> None:
    record = ddb("REMOVE", keys={"b": {"S": "2"}, "a": {"N": "1"}})
    assert ledger_key(record, "order_id") == 'removed:{"a": {"N": "1"}, "b": {"S": "2"}}'
    assert record_identity(record) == 'removed:{"a": {"N": "1"}, "b": {"S": "2"}}'


def test_an_insert_or_modify_is_known_by_its_correlate_field() -> None:
    new = {"order_id": {"S": "o-7"}, "n": {"N": "42"}, "m": {"M": {"z": {"S": "1"}, "a": {"N": "2"}}}}
    for event in ("INSERT", "MODIFY"):
        assert ledger_key(ddb(event, new=new), "order_id") == "o-7"
    assert ledger_key(ddb("INSERT", new=new), "n") == "42"
    assert ledger_key(ddb("INSERT", new=new), "m") == '{"a": {"N": "2"}, "z": {"S": "1"}}'
    assert ledger_key(ddb("INSERT", new=new), "missing") == ""
    assert ledger_key(ddb("INSERT", new=new), None) == ""
    assert ledger_key(ddb("INSERT", new={"": {"S": "blank-named"}}), None) == "blank-named"
    assert ledger_key(ddb("INSERT", new={"order_id": {}}), "order_id") == ""
    assert ledger_key(ddb("INSERT", new={"order_id": "plain"}), "order_id") == ""
    assert ledger_key(ddb("INSERT"), "order_id") == ""  # a KEYS_ONLY stream


def test_a_record_that_is_not_a_dynamodb_stream_record_has_no_ledger_key() -> None:
    def kinesis(data: bytes) -> StreamRecord:
        return StreamRecord("1", "pk", data, 0.0)

    assert ledger_key(kinesis(b"not json"), "id") is None
    assert ledger_key(kinesis(b"[1, 2]"), "id") is None
    assert ledger_key(kinesis(b'{"eventID": "e", "eventName": "INSERT"}'), "id") is None
    body = {"eventID": "e", "eventName": "INSERT", "dynamodb": {}, "extra": 1}
    assert ledger_key(kinesis(json.dumps(body).encode()), "id") is None
    body = {"eventID": "e", "eventName": "UPSERT", "dynamodb": {"NewImage": {"id": {"S": "x"}}}}
    assert ledger_key(kinesis(json.dumps(body).encode()), "id") is None
    body["eventName"] = "INSERT"
    assert ledger_key(kinesis(json.dumps(body).encode()), "id") == "x"


def test_a_write_is_identified_by_its_whole_new_image() -> None:
    new = {"b": {"B": b"\x01"}, "a": {"S": "x"}}
    assert image_identity(new) == 'dynamodb-image:{"a": {"S": "x"}, "b": {"B": "AQ=="}}'
    assert record_identity(ddb("MODIFY", new=new)) == image_identity(new)
    assert record_identity(ddb("INSERT")) is None
