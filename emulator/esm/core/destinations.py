"""On-failure destinations (SQS, SNS, S3) for batches a mapping gives up on.

https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html: SQS and SNS get the
failure record as JSON; S3 gets it plus ``payload`` (the records as delivered) under
``aws/lambda/<ESM UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from emulator.esm.streams.kinesis_events import KinesisEventRecord, OnFailureRecord


class FailureSink(Protocol):
    def send(
        self,
        destination_arn: str,
        record: OnFailureRecord,
        *,
        mapping_uuid: str,
        delivered: Sequence[KinesisEventRecord],
    ) -> None: ...


def s3_failure_key(mapping_uuid: str, shard_id: str, timestamp: str) -> str:
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return f"aws/lambda/{mapping_uuid}/{shard_id}/{moment:%Y/%m/%d}/{moment:%Y-%m-%dT%H.%M.%S}-{uuid.uuid4()}"


class Boto3FailureSink:
    """Sends failure records with boto3 clients made by ``client_factory(service)``."""

    def __init__(self, client_factory: Callable[[str], Any]) -> None:
        self._clients: dict[str, Any] = {}
        self._factory = client_factory
        self._queue_urls: dict[str, str] = {}

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._factory(service)
        return self._clients[service]

    def send(
        self,
        destination_arn: str,
        record: OnFailureRecord,
        *,
        mapping_uuid: str,
        delivered: Sequence[KinesisEventRecord],
    ) -> None:
        service = destination_arn.split(":")[2]
        if service == "sqs":
            self._client("sqs").send_message(
                QueueUrl=self._queue_url(destination_arn), MessageBody=json.dumps(record)
            )
        elif service == "sns":
            self._client("sns").publish(TopicArn=destination_arn, Message=json.dumps(record))
        elif service == "s3":
            body = dict(record)
            body["payload"] = {"Records": list(delivered)}
            info = record.get("KinesisBatchInfo") or record["DDBStreamBatchInfo"]
            key = s3_failure_key(mapping_uuid, info["shardId"], record["timestamp"])
            bucket = destination_arn.split(":::", 1)[1]
            self._client("s3").put_object(Bucket=bucket, Key=key, Body=json.dumps(body).encode())
        else:
            raise ValueError(f"unsupported on-failure destination {destination_arn}")

    def _queue_url(self, queue_arn: str) -> str:
        if queue_arn not in self._queue_urls:
            _, _, _, _, account, name = queue_arn.split(":", 5)
            response = self._client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
            self._queue_urls[queue_arn] = str(response["QueueUrl"])
        return self._queue_urls[queue_arn]
