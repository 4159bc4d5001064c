"""Payload shapes of Kinesis event source mappings, as AWS delivers them.

Shapes: the AWS recordings in tests/conformance/aws-snapshots, and
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (event and on-failure record examples).
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict

from emulator.esm.streams.records import StreamRecord


class KinesisData(TypedDict):
    kinesisSchemaVersion: str
    partitionKey: str
    sequenceNumber: str
    data: str
    approximateArrivalTimestamp: float


class KinesisEventRecord(TypedDict):
    kinesis: KinesisData
    eventSource: str
    eventVersion: str
    eventID: str
    eventName: str
    invokeIdentityArn: str
    awsRegion: str
    eventSourceARN: str


class RequestContext(TypedDict):
    requestId: str
    functionArn: str
    condition: str
    approximateInvokeCount: int


class ResponseContext(TypedDict):
    statusCode: int
    executedVersion: str
    functionError: str | None


class KinesisBatchInfo(TypedDict):
    shardId: str
    startSequenceNumber: str
    endSequenceNumber: str
    approximateArrivalOfFirstRecord: str
    approximateArrivalOfLastRecord: str
    batchSize: int
    streamArn: str


class OnFailureRecord(TypedDict):
    requestContext: RequestContext
    responseContext: NotRequired[ResponseContext]
    version: str
    timestamp: str
    KinesisBatchInfo: KinesisBatchInfo
    payload: NotRequired[dict[str, Any]]


def iso_ms(epoch: float) -> str:
    """AWS's timestamp format in failure records: ISO-8601 with milliseconds and Z."""
    return (
        datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(epoch * 1000) % 1000:03d}Z"
    )


def event_record(
    record: StreamRecord, *, shard_id: str, stream_arn: str, region: str, role_arn: str
) -> KinesisEventRecord:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence_number,
            "data": base64.b64encode(record.data).decode(),
            "approximateArrivalTimestamp": record.arrival,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record.sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": role_arn,
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


def on_failure_record(
    records: list[StreamRecord],
    *,
    condition: str,
    invoke_count: int,
    function_arn: str,
    shard_id: str,
    stream_arn: str,
    now: float,
    function_error: str | None,
    invoked: bool,
) -> OnFailureRecord:
    """The message AWS sends to an on-failure destination for a batch it gives up on.

    ``responseContext`` is present only when the function was invoked for this batch (AWS omits it for
    RecordAgeExceeded, where the records expired before or between invocations).
    """
    out: OnFailureRecord = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "version": "1.0",
        "timestamp": iso_ms(now),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0].sequence_number,
            "endSequenceNumber": records[-1].sequence_number,
            "approximateArrivalOfFirstRecord": iso_ms(records[0].arrival),
            "approximateArrivalOfLastRecord": iso_ms(records[-1].arrival),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }
    if invoked:
        out["responseContext"] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": function_error,
        }
    # Key order as AWS writes it.
    ordered: dict[str, Any] = {"requestContext": out["requestContext"]}
    if "responseContext" in out:
        ordered["responseContext"] = out["responseContext"]
    ordered.update(
        version=out["version"], timestamp=out["timestamp"], KinesisBatchInfo=out["KinesisBatchInfo"]
    )
    return ordered  # type: ignore[return-value]


class KinesisHooks:
    """The Kinesis parts of the ordered-stream algorithm (``streams.batch.StreamHooks``)."""

    def shape(self, record: StreamRecord, *, shard_id: str, stream_arn: str, region: str, role_arn: str) -> Any:
        return event_record(record, shard_id=shard_id, stream_arn=stream_arn, region=region, role_arn=role_arn)

    def failure_record(self, records: list[StreamRecord], **context: Any) -> Any:
        return on_failure_record(records, **context)

    def keeps(self, patterns: Any, shaped: Any) -> bool:
        from emulator.esm.core.filters import kinesis_record_matches

        return kinesis_record_matches(patterns, shaped)


KINESIS_HOOKS = KinesisHooks()


__all__ = [
    "KINESIS_HOOKS", "KinesisBatchInfo", "KinesisData", "KinesisEventRecord", "KinesisHooks", "OnFailureRecord",
    "RequestContext", "ResponseContext", "StreamRecord", "event_record", "iso_ms", "on_failure_record",
]
