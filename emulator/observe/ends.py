"""Watching the ends of ``expect.delivered`` that are not buckets, through boto3 only (so every backend works):
messages in a queue, records in a Kinesis stream, messages published to a topic (through a queue pipemu
subscribes to it before the replay) and items in a DynamoDB table. Each is an ``ObjectFeed`` whose arrivals carry
one output each; the collector matches them to events by the end's correlate/key field. Arrival time is when
pipemu first saw the output, so latency to these ends is as fine as the polling (tens of milliseconds).
"""

from __future__ import annotations

import json
import math
import time
import uuid
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from emulator.observe.api_meter import mark_observer, observer_calls
from emulator.observe.outputs import ObjectArrival

TABLE_SCAN_EVERY_S = 0.25  # a Scan reads the whole table: at most this often


def _unwrap(body: str) -> str:
    """The published message of an SNS Notification envelope (a subscription without raw delivery), else
    ``body`` itself."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return body
    if isinstance(value, dict) and value.get("Type") == "Notification" and isinstance(value.get("Message"), str):
        return str(value["Message"])
    return body


class QueueFeed:
    """Messages in a queue, each received once with a long visibility timeout (the harness does not consume a
    message another consumer could need during the run, and never sees one twice)."""

    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._sqs = mark_observer(sqs_client)
        self._url = queue_url
        self._seen: set[str] = set()

    def drain(self) -> list[ObjectArrival]:
        out: list[ObjectArrival] = []
        with observer_calls():  # the harness's reads are not the pipeline's cost
            while True:
                messages = self._sqs.receive_message(
                    QueueUrl=self._url, MaxNumberOfMessages=10, VisibilityTimeout=43200, WaitTimeSeconds=0,
                ).get("Messages", [])
                fresh = [m for m in messages if m["MessageId"] not in self._seen]
                if not fresh:
                    return out
                for m in fresh:
                    self._seen.add(m["MessageId"])
                    out.append(ObjectArrival(self._url, m["MessageId"], _unwrap(m["Body"]).encode(), time.time()))

    def wait(self, timeout: float) -> None:
        time.sleep(timeout)


class StreamFeed:
    """Records in a Kinesis stream, every shard read from its start (shards found again when the stream
    reshards)."""

    def __init__(self, kinesis_client: Any, stream_name: str) -> None:
        self._kinesis = mark_observer(kinesis_client)
        self._stream = stream_name
        self._iterators: dict[str, str | None] = {}

    def _shards(self) -> None:
        shards = self._kinesis.list_shards(StreamName=self._stream)["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self._kinesis.get_shard_iterator(
                    StreamName=self._stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON",
                )["ShardIterator"]

    def drain(self) -> list[ObjectArrival]:
        out: list[ObjectArrival] = []
        with observer_calls():
            self._shards()
            for shard, iterator in list(self._iterators.items()):
                while iterator is not None:
                    response = self._kinesis.get_records(ShardIterator=iterator, Limit=1000)
                    records = response["Records"]
                    now = time.time()
                    out += [ObjectArrival(self._stream, f"{shard}/{r['SequenceNumber']}", r["Data"], now)
                            for r in records]
                    iterator = response.get("NextShardIterator")
                    if not records:
                        break
                self._iterators[shard] = iterator
        return out

    def wait(self, timeout: float) -> None:
        time.sleep(timeout)


def subscribe_queue(sns_client: Any, sqs_client: Any, topic_arn: str, name: str) -> tuple[str, str]:
    """A queue of pipemu's own subscribed to ``topic_arn`` with raw message delivery (the published message is
    the body). Returns (queue URL, subscription ARN); ``unsubscribe`` removes both."""
    url = sqs_client.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs_client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage",
        "Resource": arn, "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
    }]}
    sqs_client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    subscription = sns_client.subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return url, subscription


def unsubscribe(sns_client: Any, sqs_client: Any, queue_url: str, subscription_arn: str) -> None:
    sns_client.unsubscribe(SubscriptionArn=subscription_arn)
    sqs_client.delete_queue(QueueUrl=queue_url)


def topic_queue_name(prefix: str, topic: str) -> str:
    """Within SQS's 80 characters, unique per run."""
    return f"{prefix}pipemu-end-{topic}"[:70] + "-" + uuid.uuid4().hex[:8]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class TableFeed:
    """Items of a DynamoDB table, each arriving once as ``{field: the item's key attribute}``."""

    def __init__(
        self, dynamodb_client: Any, table: str, attribute: str, field: str, *, every_s: float = TABLE_SCAN_EVERY_S
    ) -> None:
        self._dynamodb = mark_observer(dynamodb_client)
        self._every_s = every_s
        self._table = table
        self._attribute = attribute
        self._field = field
        self._seen: set[str] = set()
        self._scanned = -math.inf
        self._types = TypeDeserializer()

    def catch_up(self) -> None:
        """The next ``drain`` scans, however recent the last scan."""
        self._scanned = -math.inf

    def drain(self) -> list[ObjectArrival]:
        if time.monotonic() - self._scanned < self._every_s:
            return []
        self._scanned = time.monotonic()
        out: list[ObjectArrival] = []
        with observer_calls():
            paginator = self._dynamodb.get_paginator("scan")
            for page in paginator.paginate(TableName=self._table, ProjectionExpression="#k",
                                           ExpressionAttributeNames={"#k": self._attribute}):
                for item in page.get("Items", []):
                    if self._attribute not in item:
                        continue
                    value = _plain(self._types.deserialize(item[self._attribute]))
                    marker = json.dumps(value, default=str)
                    if marker in self._seen:
                        continue
                    self._seen.add(marker)
                    body = json.dumps({self._field: value}, default=str).encode()
                    out.append(ObjectArrival(self._table, marker, body, time.time()))
        return out

    def wait(self, timeout: float) -> None:
        time.sleep(timeout)
