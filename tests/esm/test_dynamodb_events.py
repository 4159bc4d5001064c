"""DynamoDB Streams record shapes: the event AWS delivers, SizeBytes as DynamoDB sizes items, the on-failure
record (DDBStreamBatchInfo), filter matching on DynamoDB JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from emulator.esm.core.filters import parse_filter_criteria
from emulator.esm.streams.dynamodb_events import (
    DYNAMODB_HOOKS,
    attribute_size,
    item_keys,
    on_failure_record,
    size_bytes,
    stream_record,
)

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
    assert item_keys(record) == {"order_id": {"S": "o-1"}}


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
