"""Fakes for unit-testing ESM logic without a server: a scripted invoker, a recording sink."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.streams.kinesis_events import KinesisEventRecord, OnFailureRecord, StreamRecord


def records(
    n: int, *, start: int = 1, arrival: float = 1_700_000_000.0, data: Callable[[int], Any] | None = None
) -> list[StreamRecord]:
    make = data or (lambda i: {"i": i})
    return [
        StreamRecord(
            sequence_number=str(i),
            partition_key=f"pk-{i}",
            data=json.dumps(make(i)).encode(),
            arrival=arrival,
        )
        for i in range(start, start + n)
    ]


@dataclass
class ScriptedInvoker:
    """Answers each invocation with ``respond(batch_of_decoded_records)`` and records every call."""

    respond: Callable[[list[dict[str, Any]]], InvokeOutcome]
    calls: list[list[str]] = field(default_factory=list)

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        event = json.loads(payload)
        self.calls.append([r["kinesis"]["sequenceNumber"] for r in event["Records"]])
        import base64

        decoded = [
            json.loads(base64.b64decode(r["kinesis"]["data"])) | {"_seq": r["kinesis"]["sequenceNumber"]}
            for r in event["Records"]
        ]
        return self.respond(decoded)

    def role_arn(self, function_arn: str) -> str:
        return "arn:aws:iam::123456789012:role/test"


def ok(_: Sequence[dict[str, Any]] = ()) -> InvokeOutcome:
    return InvokeOutcome(payload=b"null", function_error=None, status_code=200)


def unhandled(_: Sequence[dict[str, Any]] = ()) -> InvokeOutcome:
    body = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
    return InvokeOutcome(payload=json.dumps(body).encode(), function_error="Unhandled", status_code=200)


def returns(value: Any) -> Callable[[Sequence[dict[str, Any]]], InvokeOutcome]:
    def respond(_: Sequence[dict[str, Any]]) -> InvokeOutcome:
        return InvokeOutcome(payload=json.dumps(value).encode(), function_error=None, status_code=200)

    return respond


@dataclass
class RecordingSink:
    sent: list[tuple[str, OnFailureRecord, list[KinesisEventRecord]]] = field(default_factory=list)
    mapping_uuids: list[str] = field(default_factory=list)

    def send(
        self,
        destination_arn: str,
        record: OnFailureRecord,
        *,
        mapping_uuid: str,
        delivered: Sequence[KinesisEventRecord],
    ) -> None:
        self.sent.append((destination_arn, record, list(delivered)))
        self.mapping_uuids.append(mapping_uuid)


@dataclass
class RecordingObserver:
    filtered: list[StreamRecord] = field(default_factory=list)
    gave_up: list[tuple[list[StreamRecord], str, str | None]] = field(default_factory=list)
    mapping_uuids: list[str] = field(default_factory=list)

    processed: list[StreamRecord] = field(default_factory=list)
    shards: list[str] = field(default_factory=list)

    def on_filtered(self, mapping_uuid: str, records: list[StreamRecord], *, shard_id: str = "") -> None:
        self.filtered.extend(records)
        self.mapping_uuids.append(mapping_uuid)
        self.shards.append(shard_id)

    def on_gave_up(
        self, mapping_uuid: str, records: list[StreamRecord], condition: str, destination: str | None,
        *, shard_id: str = "",
    ) -> None:
        self.gave_up.append((records, condition, destination))
        self.mapping_uuids.append(mapping_uuid)
        self.shards.append(shard_id)

    def on_processed(self, mapping_uuid: str, records: list[StreamRecord], *, shard_id: str = "") -> None:
        self.processed.extend(records)
        self.shards.append(shard_id)
