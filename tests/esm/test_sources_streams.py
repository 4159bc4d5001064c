"""Reading Kinesis and DynamoDB streams over boto3 (``Boto3ShardSource``, ``Boto3DynamoDBStreamSource``), against
moto in process: shard discovery, the starting positions Lambda supports (TRIM_HORIZON, LATEST, AT_TIMESTAMP,
resuming after a checkpoint), the records as GetRecords answers them, and a deleted stream seen as gone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from emulator.esm.streams.dynamodb_source import GET_RECORDS_LIMIT, Boto3DynamoDBStreamSource
from emulator.esm.streams.kinesis_source import Boto3ShardSource, StreamGone, call_source, gone_if_not_found

REGION = "us-east-1"


def client(service: str) -> Any:
    # Account-based endpoints off: botocore 1.44 sends DynamoDB Streams calls to
    # ACCOUNT.streams-ddb.REGION.amazonaws.com, which moto's in-process mock does not route (it answers 404).
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(account_id_endpoint_mode="disabled"))


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def kinesis(aws: None) -> Any:
    return client("kinesis")


def make_stream(kinesis: Any, name: str = "clicks", shards: int = 1) -> str:
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return str(kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"])


def put(kinesis: Any, *values: str, stream: str = "clicks") -> list[str]:
    return [
        str(kinesis.put_record(StreamName=stream, Data=v.encode(), PartitionKey=f"pk-{v}")["SequenceNumber"])
        for v in values
    ]


def read_all(source: Any, iterator: str) -> list[bytes]:
    records, _, _ = source.read(iterator, 100)
    return [r.data for r in records]


# -- Kinesis ---------------------------------------------------------------------------------------------


def test_every_shard_of_the_stream_is_discovered(kinesis: Any) -> None:
    source = Boto3ShardSource(kinesis, make_stream(kinesis, shards=3))
    assert source.shard_ids() == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]


def test_trim_horizon_reads_from_the_oldest_record_and_latest_only_what_is_put_after(kinesis: Any) -> None:
    source = Boto3ShardSource(kinesis, make_stream(kinesis))
    [shard] = source.shard_ids()
    put(kinesis, "before")
    oldest = source.open(shard, position="TRIM_HORIZON")
    latest = source.open(shard, position="LATEST")
    put(kinesis, "after")
    assert read_all(source, oldest) == [b"before", b"after"]
    assert read_all(source, latest) == [b"after"]


def test_at_timestamp_reads_the_records_that_arrive_from_that_instant(kinesis: Any) -> None:
    source = Boto3ShardSource(kinesis, make_stream(kinesis))
    [shard] = source.shard_ids()
    put(kinesis, "old")
    an_hour_ago = source.open(shard, position="AT_TIMESTAMP", timestamp=time.time() - 3600)
    in_an_hour = source.open(shard, position="AT_TIMESTAMP", timestamp=time.time() + 3600)
    from_epoch = source.open(shard, position="AT_TIMESTAMP")  # no timestamp: from the epoch
    put(kinesis, "new")
    assert read_all(source, an_hour_ago) == [b"old", b"new"]
    assert read_all(source, from_epoch) == [b"old", b"new"]
    # moto starts a future timestamp after the last record put so far
    assert read_all(source, in_an_hour) == [b"new"]


def test_a_checkpoint_resumes_after_its_sequence_number_whatever_the_starting_position(kinesis: Any) -> None:
    source = Boto3ShardSource(kinesis, make_stream(kinesis))
    [shard] = source.shard_ids()
    first, _, _ = put(kinesis, "a", "b", "c")
    assert read_all(source, source.open(shard, position="LATEST", after_sequence=first)) == [b"b", b"c"]
    assert read_all(source, source.open(shard, position="AT_TIMESTAMP", timestamp=0.0, after_sequence=first)) \
        == [b"b", b"c"]


def test_a_read_answers_records_the_next_iterator_and_how_far_behind_it_is(kinesis: Any) -> None:
    source = Boto3ShardSource(kinesis, make_stream(kinesis))
    [shard] = source.shard_ids()
    sequences = put(kinesis, "a", "b", "c")
    records, following, behind = source.read(source.open(shard, position="TRIM_HORIZON"), 2)
    assert [(r.sequence_number, r.partition_key, r.data) for r in records] == [
        (sequences[0], "pk-a", b"a"), (sequences[1], "pk-b", b"b"),
    ]
    assert isinstance(records[0].data, bytes)
    assert abs(records[0].arrival - time.time()) < 600  # epoch seconds, as approximateArrivalTimestamp
    assert isinstance(behind, int)
    assert following is not None
    rest, _, _ = source.read(following, 10)
    assert [r.data for r in rest] == [b"c"]


class Answers:
    """A Kinesis client whose GetRecords answers one prepared response."""

    def __init__(self, response: dict[str, Any]) -> None:
        self.response = response
        self.calls: list[dict[str, Any]] = []

    def get_records(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.response

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"ShardIterator": "it-1"}


def test_millis_behind_latest_is_passed_on_and_a_closed_shard_has_no_next_iterator() -> None:
    arrival = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC)
    record = {"SequenceNumber": 7, "PartitionKey": "k", "Data": b"x", "ApproximateArrivalTimestamp": arrival}
    fake = Answers({"Records": [record], "MillisBehindLatest": 1500})
    source = Boto3ShardSource(fake, "arn:aws:kinesis:us-east-1:123456789012:stream/clicks")
    records, following, behind = source.read("it-0", 25)
    assert fake.calls == [{"ShardIterator": "it-0", "Limit": 25}]
    assert (records[0].sequence_number, records[0].arrival) == ("7", arrival.timestamp())
    assert (following, behind) == (None, 1500)
    assert Boto3ShardSource(Answers({"Records": []}), "arn:aws:kinesis:r:1:stream/s").read("i", 1)[2] == 0


def test_open_asks_for_the_stream_by_name_and_the_requested_iterator_type() -> None:
    fake = Answers({})
    source = Boto3ShardSource(fake, "arn:aws:kinesis:us-east-1:123456789012:stream/clicks")
    assert source.open("shard-1", position="AT_TIMESTAMP", timestamp=12.5) == "it-1"
    source.open("shard-1", position="TRIM_HORIZON", timestamp=12.5)
    source.open("shard-1", position="LATEST", after_sequence="42")
    assert fake.calls == [
        {"StreamName": "clicks", "ShardId": "shard-1", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 12.5},
        {"StreamName": "clicks", "ShardId": "shard-1", "ShardIteratorType": "TRIM_HORIZON"},
        {"StreamName": "clicks", "ShardId": "shard-1", "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
         "StartingSequenceNumber": "42"},
    ]


def test_a_deleted_stream_is_gone_for_every_call(kinesis: Any) -> None:
    arn = make_stream(kinesis)
    source = Boto3ShardSource(kinesis, arn)
    [shard] = source.shard_ids()
    iterator = source.open(shard, position="TRIM_HORIZON")
    kinesis.delete_stream(StreamName="clicks")
    for call in (source.shard_ids, lambda: source.open(shard, position="LATEST"), lambda: source.read(iterator, 1)):
        with pytest.raises(StreamGone) as gone:
            call()
        assert gone.value.stream_arn == arn
        assert str(gone.value) == f"stream {arn} does not exist"


def test_a_missing_shard_is_gone(kinesis: Any) -> None:
    source = Boto3ShardSource(kinesis, make_stream(kinesis))
    with pytest.raises(StreamGone):
        source.open("shardId-000000000009", position="LATEST")


def _fails(code: str) -> Any:
    def call() -> Any:
        raise ClientError({"Error": {"Code": code, "Message": "m"}}, "GetRecords")

    return call


def test_other_errors_are_not_taken_for_a_gone_stream() -> None:
    with pytest.raises(ClientError, match="ExpiredIteratorException"):
        call_source("arn", _fails("ExpiredIteratorException"))
    with pytest.raises(StreamGone), gone_if_not_found("arn"):
        _fails("ResourceNotFoundException")()
    assert call_source("arn", lambda: 3) == 3


# -- DynamoDB Streams ------------------------------------------------------------------------------------


@pytest.fixture
def table(aws: None) -> tuple[Any, str]:
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="orders", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return dynamodb, str(dynamodb.describe_table(TableName="orders")["Table"]["LatestStreamArn"])


def keys(source: Any, iterator: str) -> list[str]:
    records, _, behind = source.read(iterator, 100)
    assert behind == 0  # DynamoDB Streams answer no MillisBehindLatest
    return [r.partition_key for r in records]


def test_dynamodb_trim_horizon_latest_and_resume_after_a_checkpoint(table: tuple[Any, str]) -> None:
    dynamodb, arn = table
    source = Boto3DynamoDBStreamSource(client("dynamodbstreams"), arn)
    [shard] = source.shard_ids()
    dynamodb.put_item(TableName="orders", Item={"id": {"S": "o-1"}})
    oldest = source.open(shard, position="TRIM_HORIZON")
    latest = source.open(shard, position="LATEST")
    dynamodb.put_item(TableName="orders", Item={"id": {"S": "o-2"}})
    first, following, _ = source.read(oldest, 1)
    assert len(first) == 1 and following is not None
    assert keys(source, latest) == keys(source, following)
    assert keys(source, source.open(shard, position="LATEST", after_sequence=first[0].sequence_number)) \
        == keys(source, following)
    assert len(keys(source, source.open(shard, position="TRIM_HORIZON"))) == 2


def test_dynamodb_at_timestamp_reads_from_the_oldest_record(table: tuple[Any, str]) -> None:
    # DynamoDB Streams has no AT_TIMESTAMP iterator; Lambda refuses it for these mappings, and anything but
    # LATEST starts at the oldest record.
    dynamodb, arn = table
    source = Boto3DynamoDBStreamSource(client("dynamodbstreams"), arn)
    [shard] = source.shard_ids()
    dynamodb.put_item(TableName="orders", Item={"id": {"S": "o-1"}})
    assert len(keys(source, source.open(shard, position="AT_TIMESTAMP", timestamp=time.time() + 60))) == 1


def test_a_deleted_table_is_a_gone_stream(table: tuple[Any, str]) -> None:
    dynamodb, arn = table
    source = Boto3DynamoDBStreamSource(client("dynamodbstreams"), arn)
    dynamodb.delete_table(TableName="orders")
    with pytest.raises(StreamGone) as gone:
        source.shard_ids()
    assert gone.value.stream_arn == arn


class NotFound:
    """A dynamodbstreams client whose every call finds no stream."""

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "m"}}, operation)

        return call


def test_every_read_of_a_deleted_dynamodb_stream_is_gone() -> None:
    source = Boto3DynamoDBStreamSource(NotFound(), ARN)
    for call in (source.shard_ids, lambda: source.open("s-1", position="LATEST"), lambda: source.read("it", 1)):
        with pytest.raises(StreamGone) as gone:
            call()
        assert gone.value.stream_arn == ARN


class PagedStreams:
    """A dynamodbstreams client answering DescribeStream in pages of one shard."""

    def __init__(self, shards: list[str]) -> None:
        self.shards = shards
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def describe_stream(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("describe_stream", kwargs))
        start = self.shards.index(kwargs["ExclusiveStartShardId"]) + 1 if "ExclusiveStartShardId" in kwargs else 0
        page: dict[str, Any] = {"Shards": [{"ShardId": s} for s in self.shards[start : start + 1]]}
        if start + 1 < len(self.shards):
            page["LastEvaluatedShardId"] = self.shards[start]
        return {"StreamDescription": page}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("get_shard_iterator", kwargs))
        return {"ShardIterator": "it"}

    def get_records(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("get_records", kwargs))
        return {"NextShardIterator": "next"}


ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-12-03T10:00:00.000"


def test_dynamodb_shards_are_discovered_across_describe_stream_pages() -> None:
    fake = PagedStreams(["s-1", "s-2", "s-3"])
    assert Boto3DynamoDBStreamSource(fake, ARN).shard_ids() == ["s-1", "s-2", "s-3"]
    assert fake.calls == [
        ("describe_stream", {"StreamArn": ARN}),
        ("describe_stream", {"StreamArn": ARN, "ExclusiveStartShardId": "s-1"}),
        ("describe_stream", {"StreamArn": ARN, "ExclusiveStartShardId": "s-2"}),
    ]
    assert Boto3DynamoDBStreamSource(PagedStreams([]), ARN).shard_ids() == []


class NoShardsYet(PagedStreams):
    def describe_stream(self, **kwargs: Any) -> dict[str, Any]:
        return {"StreamDescription": {"StreamStatus": "ENABLING"}}  # DescribeStream leaves Shards out


def test_a_dynamodb_stream_without_shards_yet_has_none() -> None:
    assert Boto3DynamoDBStreamSource(NoShardsYet([]), ARN).shard_ids() == []


def test_dynamodb_reads_at_most_1000_records_and_asks_for_the_right_iterators() -> None:
    fake = PagedStreams([])
    source = Boto3DynamoDBStreamSource(fake, ARN)
    assert source.read("it", 5000) == ([], "next", 0)
    source.read("it", 10)
    source.open("s-1", position="TRIM_HORIZON")
    source.open("s-1", position="LATEST")
    source.open("s-1", position="LATEST", after_sequence="99")
    assert GET_RECORDS_LIMIT == 1000
    assert fake.calls == [
        ("get_records", {"ShardIterator": "it", "Limit": 1000}),
        ("get_records", {"ShardIterator": "it", "Limit": 10}),
        ("get_shard_iterator", {"StreamArn": ARN, "ShardId": "s-1", "ShardIteratorType": "TRIM_HORIZON"}),
        ("get_shard_iterator", {"StreamArn": ARN, "ShardId": "s-1", "ShardIteratorType": "LATEST"}),
        ("get_shard_iterator", {"StreamArn": ARN, "ShardId": "s-1", "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                                "SequenceNumber": "99"}),
    ]
