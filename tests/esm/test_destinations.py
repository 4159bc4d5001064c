"""On-failure destinations through fake boto3 clients: which call each destination kind gets, with what
(https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from esm_fakes import records

from emulator.esm.core.destinations import Boto3FailureSink, s3_failure_key
from emulator.esm.streams.dynamodb_events import on_failure_record as ddb_on_failure_record
from emulator.esm.streams.kinesis_events import event_record, on_failure_record

SHARD = "shardId-000000000001"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/s"


@dataclass
class FakeClient:
    """Records every call as (operation, kwargs); answers GetQueueUrl."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> dict[str, Any]:
            self.calls.append((operation, kwargs))
            if operation == "get_queue_url":
                return {"QueueUrl": f"http://sqs/{kwargs['QueueOwnerAWSAccountId']}/{kwargs['QueueName']}"}
            return {}

        return call


def sink() -> tuple[Boto3FailureSink, dict[str, FakeClient], list[str]]:
    clients: dict[str, FakeClient] = {}
    made: list[str] = []

    def factory(service: str) -> FakeClient:
        made.append(service)
        return clients.setdefault(service, FakeClient())

    return Boto3FailureSink(factory), clients, made


def failure(n: int = 2) -> tuple[Any, list[Any]]:
    batch = records(n)
    record = on_failure_record(
        batch,
        condition="RetryAttemptsExhausted",
        invoke_count=3,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        shard_id=SHARD,
        stream_arn=STREAM,
        now=1_700_000_000.5,
        function_error=None,
        invoked=True,
    )
    shaped = [event_record(r, shard_id=SHARD, stream_arn=STREAM, region="us-east-1", role_arn="r") for r in batch]
    return record, shaped


def test_sqs_gets_the_record_as_json_at_the_queue_url_looked_up_once() -> None:
    s, clients, made = sink()
    record, shaped = failure()
    for _ in range(2):
        s.send("arn:aws:sqs:us-east-1:210987654321:dlq", record, mapping_uuid="u-1", delivered=shaped)
    sqs = clients["sqs"].calls
    assert sqs[0] == ("get_queue_url", {"QueueName": "dlq", "QueueOwnerAWSAccountId": "210987654321"})
    assert [c[0] for c in sqs] == ["get_queue_url", "send_message", "send_message"]
    assert sqs[1][1] == {"QueueUrl": "http://sqs/210987654321/dlq", "MessageBody": json.dumps(record)}
    assert made == ["sqs"]  # one client per service


def test_sns_gets_the_record_as_the_message() -> None:
    s, clients, _ = sink()
    record, shaped = failure()
    topic = "arn:aws:sns:us-east-1:123456789012:failures"
    s.send(topic, record, mapping_uuid="u-1", delivered=shaped)
    assert clients["sns"].calls == [("publish", {"TopicArn": topic, "Message": json.dumps(record)})]


def test_s3_gets_the_record_with_the_payload_under_aws_key_pattern() -> None:
    s, clients, _ = sink()
    record, shaped = failure()
    s.send("arn:aws:s3:::failed-bucket", record, mapping_uuid="u-1", delivered=shaped)
    [(operation, kwargs)] = clients["s3"].calls
    assert operation == "put_object" and kwargs["Bucket"] == "failed-bucket"
    assert json.loads(kwargs["Body"]) == {**record, "payload": {"Records": shaped}}
    assert kwargs["Key"].startswith(f"aws/lambda/u-1/{SHARD}/2023/11/14/2023-11-14T22.13.20-")
    assert "payload" not in record  # the record given is not changed


def test_s3_names_a_dynamodb_stream_s_failure_by_its_shard() -> None:
    # GIVEN the on-failure record of a DynamoDB Streams mapping (its batch info is DDBStreamBatchInfo)
    s, clients, _ = sink()
    table_stream = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"
    record = ddb_on_failure_record(
        records(1), condition="RetryAttemptsExhausted", invoke_count=1,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:fn", shard_id=SHARD, stream_arn=table_stream,
        now=1_700_000_000.5, function_error=None, invoked=True,
    )
    s.send("arn:aws:s3:::failed-bucket", record, mapping_uuid="u-1", delivered=[])  # type: ignore[arg-type]
    [(_, kwargs)] = clients["s3"].calls
    assert kwargs["Key"].startswith(f"aws/lambda/u-1/{SHARD}/2023/11/14/2023-11-14T22.13.20-")


def test_s3_key_pattern() -> None:
    key = s3_failure_key("esm-uuid", SHARD, "2024-02-29T23:59:58.123Z")
    prefix = f"aws/lambda/esm-uuid/{SHARD}/2024/02/29/2024-02-29T23.59.58-"
    assert key.startswith(prefix)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", key[len(prefix) :])


def test_an_unknown_destination_kind_is_refused() -> None:
    s, _, _ = sink()
    record, shaped = failure()
    with pytest.raises(ValueError, match="unsupported on-failure destination arn:aws:lambda"):
        s.send("arn:aws:lambda:us-east-1:123456789012:function:x", record, mapping_uuid="u-1", delivered=shaped)
