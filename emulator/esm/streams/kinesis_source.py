"""Reading a Kinesis shard, behind a small interface so the poller unit-tests without a server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from botocore.exceptions import ClientError

from emulator.esm.streams.kinesis_events import StreamRecord

T = TypeVar("T")

# LastProcessingResult of a mapping whose stream does not exist (deleted, or the emulator was reset under it).
STREAM_GONE_RESULT = "PROBLEM: Stream not found"


class StreamGone(Exception):
    """The source stream (or the shard) does not exist: deleted, or the backend was reset under a live
    mapping. Not a poller failure: the mapping waits for its stream to come back, as on AWS."""

    def __init__(self, stream_arn: str) -> None:
        self.stream_arn = stream_arn
        super().__init__(f"stream {stream_arn} does not exist")


class ShardSource(Protocol):
    def shard_ids(self) -> list[str]: ...

    def open(
        self,
        shard_id: str,
        *,
        position: str,
        timestamp: float | None = None,
        after_sequence: str | None = None,
    ) -> str: ...

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        """Records after ``iterator``, the next iterator (None when the shard is closed) and
        MillisBehindLatest."""
        ...


@contextmanager
def gone_if_not_found(stream_arn: str) -> Iterator[None]:
    """ResourceNotFoundException (from boto3, or moto's in-process exception of that code) -> StreamGone."""
    try:
        yield
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise StreamGone(stream_arn) from exc
        raise


def call_source(stream_arn: str, call: Callable[[], T]) -> T:
    with gone_if_not_found(stream_arn):
        return call()


class Boto3ShardSource:
    """``GetShardIterator``/``GetRecords`` through a boto3 Kinesis client."""

    def __init__(self, kinesis_client: Any, stream_arn: str) -> None:
        self._client = kinesis_client
        self._arn = stream_arn
        self._name = stream_arn.split("/", 1)[1]

    def shard_ids(self) -> list[str]:
        shards = call_source(self._arn, lambda: self._client.list_shards(StreamName=self._name))["Shards"]
        return [str(s["ShardId"]) for s in shards]

    def open(
        self,
        shard_id: str,
        *,
        position: str,
        timestamp: float | None = None,
        after_sequence: str | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {"StreamName": self._name, "ShardId": shard_id}
        if after_sequence is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=after_sequence)
        elif position == "AT_TIMESTAMP":
            kwargs.update(ShardIteratorType="AT_TIMESTAMP", Timestamp=timestamp or 0.0)
        else:
            kwargs.update(ShardIteratorType=position)
        return str(call_source(self._arn, lambda: self._client.get_shard_iterator(**kwargs))["ShardIterator"])

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        response = call_source(self._arn, lambda: self._client.get_records(ShardIterator=iterator, Limit=limit))
        records = [
            StreamRecord(
                sequence_number=str(r["SequenceNumber"]),
                partition_key=str(r["PartitionKey"]),
                data=bytes(r["Data"]),
                arrival=r["ApproximateArrivalTimestamp"].timestamp(),
            )
            for r in response["Records"]
        ]
        return records, response.get("NextShardIterator"), int(response.get("MillisBehindLatest", 0))
