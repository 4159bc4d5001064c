"""Reading a DynamoDB stream's shards through the DynamoDB Streams API (boto3 ``dynamodbstreams``), as a
``ShardSource`` for the ordered-stream poller. Every backend answers it (moto implements it); the embedded
backend reads moto's store in process instead (``backends.moto_seams.dynamodb_streams``).

https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Operations_Amazon_DynamoDB_Streams.html
"""

from __future__ import annotations

from typing import Any

from emulator.esm.streams.dynamodb_events import stream_record
from emulator.esm.streams.kinesis_source import call_source
from emulator.esm.streams.records import StreamRecord

GET_RECORDS_LIMIT = 1000  # DynamoDB Streams' GetRecords returns at most 1,000 records


class Boto3DynamoDBStreamSource:
    """``DescribeStream``/``GetShardIterator``/``GetRecords`` through a boto3 ``dynamodbstreams`` client. A
    deleted table (or stream) is ``StreamGone``, as for Kinesis."""

    def __init__(self, client: Any, stream_arn: str) -> None:
        self._client = client
        self._arn = stream_arn

    def shard_ids(self) -> list[str]:
        shards: list[str] = []
        kwargs: dict[str, Any] = {"StreamArn": self._arn}
        while True:
            description = call_source(self._arn, lambda: self._client.describe_stream(**kwargs))["StreamDescription"]
            shards += [str(s["ShardId"]) for s in description.get("Shards", [])]
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            kwargs["ExclusiveStartShardId"] = last

    def open(
        self,
        shard_id: str,
        *,
        position: str,
        timestamp: float | None = None,
        after_sequence: str | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {"StreamArn": self._arn, "ShardId": shard_id}
        if after_sequence is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after_sequence)
        else:
            # DynamoDB Streams has no AT_TIMESTAMP (Lambda refuses it for these mappings).
            kwargs.update(ShardIteratorType="LATEST" if position == "LATEST" else "TRIM_HORIZON")
        return str(call_source(self._arn, lambda: self._client.get_shard_iterator(**kwargs))["ShardIterator"])

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        limit = min(limit, GET_RECORDS_LIMIT)
        response = call_source(self._arn, lambda: self._client.get_records(ShardIterator=iterator, Limit=limit))
        records = [stream_record(r) for r in response.get("Records", [])]
        # No MillisBehindLatest in DynamoDB Streams: an empty read means the shard's end was reached.
        return records, response.get("NextShardIterator"), 0


__all__ = ["GET_RECORDS_LIMIT", "Boto3DynamoDBStreamSource"]
