"""Payload shapes of DynamoDB Streams event source mappings, as AWS delivers them.

Shapes: the AWS recordings in tests/conformance/aws-snapshots (test_lambda_integration_dynamodbstreams) and
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (event and on-failure record examples).

A DynamoDB stream record travels through the ordered-stream algorithm as a ``StreamRecord`` whose ``data`` is the
record's JSON (``eventID``, ``eventName``, ``dynamodb``), whose ``partition_key`` is its item's keys (so
ParallelizationFactor keeps each item's changes in order, as AWS does) and whose ``arrival`` is its
ApproximateCreationDateTime.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict

from emulator.esm.streams.kinesis_events import RequestContext, ResponseContext, iso_ms
from emulator.esm.streams.records import StreamRecord


class DynamoDBData(TypedDict):
    ApproximateCreationDateTime: float
    Keys: dict[str, Any]
    NewImage: NotRequired[dict[str, Any]]
    OldImage: NotRequired[dict[str, Any]]
    SequenceNumber: str
    SizeBytes: int
    StreamViewType: str


class DynamoDBEventRecord(TypedDict):
    eventID: str
    eventName: str  # INSERT, MODIFY, REMOVE
    eventVersion: str
    eventSource: str
    awsRegion: str
    dynamodb: DynamoDBData
    eventSourceARN: str


class DDBStreamBatchInfo(TypedDict):
    shardId: str
    startSequenceNumber: str
    endSequenceNumber: str
    approximateArrivalOfFirstRecord: str
    approximateArrivalOfLastRecord: str
    batchSize: int
    streamArn: str


class DDBOnFailureRecord(TypedDict):
    requestContext: RequestContext
    responseContext: NotRequired[ResponseContext]
    version: str
    timestamp: str
    DDBStreamBatchInfo: DDBStreamBatchInfo


def iso_s(epoch: float) -> str:
    """The batch info's arrival times: ISO-8601 to the second, with Z (AWS-recorded)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def attribute_size(value: Mapping[str, Any]) -> int:
    """The size DynamoDB counts for one attribute value in DynamoDB JSON
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
    strings and binaries by their bytes, numbers by about one byte per two significant digits plus one,
    booleans and nulls one byte, lists and maps 3 bytes plus their elements (and a map's names)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode())
    if kind == "B":
        return len(_binary(inner))
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in inner)
    if kind == "NS":
        return sum(attribute_size({"N": n}) for n in inner)
    if kind == "BS":
        return sum(len(_binary(b)) for b in inner)
    if kind == "L":
        return 3 + sum(attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + item_size(inner)
    raise ValueError(f"not a DynamoDB attribute value: {dict(value)!r}")


def _binary(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    import base64

    return base64.b64decode(str(value))


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Attribute names' bytes plus their values' sizes."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def size_bytes(dynamodb: Mapping[str, Any]) -> int:
    """``SizeBytes`` of a stream record: its keys and images as DynamoDB sizes items (AWS-recorded: a one-key
    INSERT of a NEW_IMAGE stream is the key twice plus the other attributes)."""
    return sum(item_size(dynamodb[part]) for part in ("Keys", "NewImage", "OldImage") if part in dynamodb)


def stream_record(record: Mapping[str, Any]) -> StreamRecord:
    """A DynamoDB Streams GetRecords record (boto3's shape, ``ApproximateCreationDateTime`` a datetime or epoch
    seconds) as the ordered-stream algorithm carries it."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime) and created.tzinfo is None:  # moto's own objects hold naive UTC times
        created = created.replace(tzinfo=UTC)
    arrival = created.timestamp() if isinstance(created, datetime) else float(created or 0.0)
    dynamodb.pop("ApproximateCreationDateTime", None)
    dynamodb.pop("SizeBytes", None)  # computed again as AWS does (moto's is the JSON's length)
    body = {"eventID": str(record.get("eventID") or uuid.uuid4().hex), "eventName": str(record["eventName"]),
            "dynamodb": dynamodb}
    keys = json.dumps(dynamodb.get("Keys", {}), sort_keys=True, default=json_default)
    return StreamRecord(str(dynamodb["SequenceNumber"]), keys, json.dumps(body, default=json_default).encode(),
                        arrival)


def json_default(value: Any) -> Any:
    """Binary attribute values (bytes from boto3) as the base64 text DynamoDB JSON carries on the wire."""
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(bytes(value)).decode()
    return str(value)


def event_record(record: StreamRecord, *, stream_arn: str, region: str) -> DynamoDBEventRecord:
    body = json.loads(record.data)
    inner = body["dynamodb"]
    dynamodb: dict[str, Any] = {
        # Epoch seconds "rounded down to the closest second" (DynamoDB Streams API: StreamRecord), a JSON float
        # in Lambda's event (AWS-recorded; filters compare it as a number).
        "ApproximateCreationDateTime": float(int(record.arrival)),
        "Keys": inner.get("Keys", {}),
    }
    for image in ("NewImage", "OldImage"):
        if image in inner:
            dynamodb[image] = inner[image]
    dynamodb.update(SequenceNumber=record.sequence_number, SizeBytes=size_bytes(inner),
                    StreamViewType=inner.get("StreamViewType", "NEW_AND_OLD_IMAGES"))
    return {
        "eventID": body["eventID"],
        "eventName": body["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,  # type: ignore[typeddict-item]
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
) -> DDBOnFailureRecord:
    """The message AWS sends to an on-failure destination for a batch it gives up on (key order as AWS writes
    it; ``responseContext`` only when the function ran for this batch)."""
    out: dict[str, Any] = {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
    }
    if invoked:
        out["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST", "functionError": function_error}
    out.update(
        version="1.0",
        timestamp=iso_ms(now),
        DDBStreamBatchInfo={
            "shardId": shard_id,
            "startSequenceNumber": records[0].sequence_number,
            "endSequenceNumber": records[-1].sequence_number,
            "approximateArrivalOfFirstRecord": iso_s(records[0].arrival),
            "approximateArrivalOfLastRecord": iso_s(records[-1].arrival),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    )
    return out  # type: ignore[return-value]


_BODY_KEYS = frozenset({"eventID", "eventName", "dynamodb"})


def ledger_key(record: StreamRecord, correlate: str | None) -> str | None:
    """How a run's ledger knows the event behind a DynamoDB stream record: a REMOVE by the keys it removed
    (``removed:<keys>``, as ``replay.table_producer`` names a delete event), an INSERT or MODIFY by the
    ``correlate`` field of its new image ("" when it has none). None when ``record`` is not a DynamoDB stream
    record (a Kinesis record's data is the producer's own bytes)."""
    try:
        body = json.loads(record.data)
    except (ValueError, RecursionError):  # any record passes here, a Kinesis record's data nested however deep
        return None
    if not isinstance(body, dict) or set(body) != _BODY_KEYS or body["eventName"] not in ("INSERT", "MODIFY", "REMOVE"):
        return None
    if body["eventName"] == "REMOVE":
        return "removed:" + record.partition_key
    value = (body["dynamodb"].get("NewImage") or {}).get(correlate or "")
    if not isinstance(value, dict) or not value:
        return ""
    kind, inner = next(iter(value.items()))
    return str(inner) if kind in ("S", "N") else json.dumps(inner, sort_keys=True)


def image_identity(image: dict[str, Any]) -> str:
    """An item's identity by its whole content: how a ``table/NAME`` scenario source names the event whose write
    produced this new image, when no correlate field says more (``processed_by`` ends)."""
    return "dynamodb-image:" + json.dumps(image, sort_keys=True, default=json_default)


def record_identity(record: StreamRecord) -> str | None:
    """The identity of the write behind a DynamoDB stream record: its new image's (``image_identity``) or, for
    a REMOVE, the keys it removed. None without a new image (KEYS_ONLY and OLD_IMAGE streams)."""
    body = json.loads(record.data)
    if body["eventName"] == "REMOVE":
        return "removed:" + record.partition_key
    image = body["dynamodb"].get("NewImage")
    return image_identity(image) if isinstance(image, dict) else None


class DynamoDBHooks:
    """The DynamoDB Streams parts of the ordered-stream algorithm (``streams.batch.StreamHooks``)."""

    def shape(self, record: StreamRecord, *, shard_id: str, stream_arn: str, region: str, role_arn: str) -> Any:
        return event_record(record, stream_arn=stream_arn, region=region)

    def failure_record(self, records: list[StreamRecord], **context: Any) -> Any:
        return on_failure_record(records, **context)

    def keeps(self, patterns: Any, shaped: Any) -> bool:
        """Patterns see the record as the function does, DynamoDB JSON included
        (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb-filtering.html)."""
        from emulator.esm.core.filters import matches

        return any(matches(pattern, shaped) for pattern in patterns)


DYNAMODB_HOOKS = DynamoDBHooks()


__all__ = [
    "DYNAMODB_HOOKS",
    "DDBOnFailureRecord",
    "DDBStreamBatchInfo",
    "DynamoDBData",
    "DynamoDBEventRecord",
    "DynamoDBHooks",
    "attribute_size",
    "event_record",
    "image_identity",
    "iso_s",
    "item_size",
    "json_default",
    "ledger_key",
    "on_failure_record",
    "record_identity",
    "size_bytes",
    "stream_record",
]
