"""Payload shapes of SQS event source mappings, as AWS delivers them.

Shapes: ``test_message_body_and_attributes_passed_correctly`` and ``test_report_batch_item_failures`` in the
SQS snapshot under tests/conformance/aws-snapshots; https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
(standard and FIFO event examples).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from emulator.esm.streams.records import StreamRecord

# Key order of ``attributes`` as Lambda writes it (standard, then the FIFO keys in their places).
_ATTRIBUTE_ORDER = (
    "ApproximateReceiveCount",
    "AWSTraceHeader",
    "SentTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "SenderId",
    "MessageDeduplicationId",
    "ApproximateFirstReceiveTimestamp",
)


class SqsMessageAttribute(TypedDict):
    """One message attribute in Lambda's lower-camel form; ``stringValue`` or ``binaryValue`` (base64)."""

    stringValue: NotRequired[str]
    binaryValue: NotRequired[str]
    stringListValues: list[str]
    binaryListValues: list[str]
    dataType: str


class SqsRecordAttributes(TypedDict):
    ApproximateReceiveCount: str
    AWSTraceHeader: NotRequired[str]
    SentTimestamp: str
    SequenceNumber: NotRequired[str]
    MessageGroupId: NotRequired[str]
    SenderId: str
    MessageDeduplicationId: NotRequired[str]
    ApproximateFirstReceiveTimestamp: str


class SqsEventRecord(TypedDict):
    messageId: str
    receiptHandle: str
    body: str
    attributes: SqsRecordAttributes
    messageAttributes: dict[str, SqsMessageAttribute]
    md5OfMessageAttributes: str | None
    md5OfBody: str
    eventSource: str
    eventSourceARN: str
    awsRegion: str


@dataclass(frozen=True, slots=True)
class SqsMessage:
    """One message as ``ReceiveMessage`` returned it (AttributeNames and MessageAttributeNames ``All``).

    ``message_attributes`` keeps the SQS API shape (``StringValue``, ``BinaryValue`` as bytes, ``DataType``).
    """

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    message_attributes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    md5_of_message_attributes: str | None = None

    @property
    def receive_count(self) -> int:
        return int(self.attributes.get("ApproximateReceiveCount", "1"))

    @property
    def group_id(self) -> str | None:
        return self.attributes.get("MessageGroupId")


def lambda_message_attributes(attributes: Mapping[str, Mapping[str, Any]]) -> dict[str, SqsMessageAttribute]:
    out: dict[str, SqsMessageAttribute] = {}
    for name, value in attributes.items():
        shaped: dict[str, Any] = {}
        if value.get("StringValue") is not None:
            shaped["stringValue"] = str(value["StringValue"])
        if value.get("BinaryValue") is not None:
            shaped["binaryValue"] = _b64(value["BinaryValue"])
        shaped["stringListValues"] = [str(v) for v in value.get("StringListValues") or []]
        shaped["binaryListValues"] = [_b64(v) for v in value.get("BinaryListValues") or []]
        shaped["dataType"] = str(value.get("DataType", "String"))
        out[name] = shaped  # type: ignore[assignment]
    return out


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()


def synthetic_sequence_number(message_id: str, sent_timestamp: str | None) -> str:
    """A 20-digit FIFO sequence number for a message whose queue did not report one (moto assigns one only
    when the sender gives an explicit MessageDeduplicationId). Stable across redeliveries of one message and
    increasing with the send time, as AWS's are."""
    digest = int(hashlib.sha256(message_id.encode()).hexdigest(), 16) % 10**7
    return f"{int(sent_timestamp or 0):013d}{digest:07d}"


def record_attributes(message: SqsMessage) -> SqsRecordAttributes:
    raw = dict(message.attributes)
    if "MessageGroupId" in raw and "SequenceNumber" not in raw:
        raw["SequenceNumber"] = synthetic_sequence_number(message.message_id, raw.get("SentTimestamp"))
    ordered = {key: raw.pop(key) for key in _ATTRIBUTE_ORDER if key in raw}
    for key in ("ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"):
        ordered.setdefault(key, "")
    return ordered  # type: ignore[return-value]


def event_record(message: SqsMessage, *, queue_arn: str, region: str) -> SqsEventRecord:
    return {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": record_attributes(message),
        "messageAttributes": lambda_message_attributes(message.message_attributes),
        "md5OfMessageAttributes": message.md5_of_message_attributes,
        "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def encoded_size(record: SqsEventRecord) -> int:
    """Bytes this record adds to the invocation payload (for the 6 MB synchronous limit)."""
    return len(json.dumps(record).encode())


def as_stream_record(message: SqsMessage) -> StreamRecord:
    """The message in the form ``MappingObserver`` takes: ``sequence_number`` is its message id (FIFO queues
    too: the id is what a redrive to a dead-letter queue keeps), ``data`` the body."""
    return StreamRecord(
        sequence_number=message.message_id,
        partition_key=message.group_id or "",
        data=message.body.encode(),
        arrival=int(message.attributes.get("SentTimestamp") or 0) / 1000.0,
    )


def observed_record(record: SqsEventRecord) -> StreamRecord:
    """A record the function received, in the form ``MappingObserver`` takes (as ``as_stream_record``)."""
    attributes = record["attributes"]
    return StreamRecord(
        sequence_number=record["messageId"],
        partition_key=attributes.get("MessageGroupId") or "",
        data=record["body"].encode(),
        arrival=int(attributes.get("SentTimestamp") or 0) / 1000.0,
    )
