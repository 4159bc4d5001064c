"""A new ordered-stream source plugs in from outside ``emulator/``: registered here with its own reader and hooks,
its mappings run the one ordered-stream algorithm (retry, bisect, on-failure destination) through the manager."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from waiting import wait_for

from emulator.clock import ScaledClock
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.manager import EsmManager
from emulator.esm.core.sources import SOURCE_KINDS, ordered_stream, register_source
from emulator.esm.core.stats import NullObserver
from emulator.esm.streams.records import StreamRecord

TOY_ARN = "arn:aws:toy:us-east-1:123456789012:stream/t"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:dlq"


class ToyHooks:
    """How the toy source shows its records to the function and to the on-failure destination."""

    def shape(self, record: StreamRecord, *, shard_id: str, stream_arn: str, region: str, role_arn: str) -> Any:
        return {"toy": {"seq": record.sequence_number, "value": record.data.decode()}, "eventSource": "toy:stream"}

    def failure_record(self, records: list[StreamRecord], **context: Any) -> Any:
        return {
            "condition": context["condition"],
            "invokeCount": context["invoke_count"],
            "seqs": [r.sequence_number for r in records],
        }

    def keeps(self, patterns: Any, shaped: Any) -> bool:
        return True


class ToyShard:
    """One in-memory shard; iterators are positions in its record list."""

    def __init__(self, values: list[str]) -> None:
        self.records = [StreamRecord(str(i), f"pk-{i}", v.encode(), 1_700_000_000.0) for i, v in enumerate(values, 1)]

    def shard_ids(self) -> list[str]:
        return ["toy-shard-0"]

    def open(self, shard_id: str, *, position: str, timestamp: float | None = None,
             after_sequence: str | None = None) -> str:
        if position == "AFTER_SEQUENCE_NUMBER" and after_sequence is not None:
            return after_sequence
        return str(len(self.records)) if position == "LATEST" else "0"

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        start = int(iterator)
        batch = self.records[start : start + limit]
        return batch, str(start + len(batch)), 0


@dataclass
class PoisonFails:
    """The function fails every batch holding the value ``poison``."""

    calls: list[list[str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome:
        records = json.loads(payload)["Records"]
        with self.lock:
            self.calls.append([r["toy"]["seq"] for r in records])
        if any(r["toy"]["value"] == "poison" for r in records):
            error = {"errorMessage": "poison", "errorType": "ValueError"}
            return InvokeOutcome(payload=json.dumps(error).encode(), function_error="Unhandled", status_code=200)
        return InvokeOutcome(payload=b"null", function_error=None, status_code=200)

    def role_arn(self, function_arn: str) -> str:
        return "arn:aws:iam::123456789012:role/r"


@dataclass
class Destinations:
    sent: list[tuple[str, Any, list[Any]]] = field(default_factory=list)

    def send(self, destination_arn: str, record: Any, *, mapping_uuid: str, delivered: Any) -> None:
        self.sent.append((destination_arn, record, list(delivered)))


class OneMapping:
    """A Lambda client that lists one toy mapping."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def get_paginator(self, name: str) -> OneMapping:
        assert name == "list_event_source_mappings"
        return self

    def paginate(self) -> Iterator[dict[str, Any]]:
        yield {"EventSourceMappings": [self.config]}


@pytest.fixture
def toy_kind() -> Iterator[None]:
    register_source(ordered_stream("toy", ToyHooks()))
    yield
    SOURCE_KINDS.pop("toy", None)


def test_a_toy_ordered_stream_fails_retries_bisects_and_reaches_its_on_failure_destination(toy_kind: None) -> None:
    # GIVEN a toy stream whose third record poisons every batch that holds it, mapped with bisect, one retry
    # and an on-failure destination
    shard = ToyShard(["a", "b", "poison", "d"])
    function, destinations = PoisonFails(), Destinations()
    mapping = {
        "UUID": "toy-1", "FunctionArn": FUNCTION_ARN, "EventSourceArn": TOY_ARN, "State": "Enabled",
        "BatchSize": 4, "StartingPosition": "TRIM_HORIZON", "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 1, "DestinationConfig": {"OnFailure": {"Destination": DLQ_ARN}},
    }
    manager = EsmManager(
        lambda_client=OneMapping(mapping), readers={"toy": lambda arn: shard}, invoker=function,
        sink=destinations, clock=ScaledClock(1000.0), region="us-east-1", observer=NullObserver(),
    )
    # WHEN the manager polls it
    manager.start()
    try:
        manager.notify("toy-1", "create", mapping)
        assert manager.wait_synced()
        wait_for("the toy batches to settle", lambda: list(function.calls), lambda c: ["4"] in c)
    finally:
        manager.stop()
    # THEN the batch failed, was bisected down to the poison record, retried once, and sent to the destination
    assert function.calls == [["1", "2", "3", "4"], ["1", "2"], ["3", "4"], ["3"], ["3"], ["4"]]
    assert destinations.sent == [
        (DLQ_ARN, {"condition": "RetryAttemptsExhausted", "invokeCount": 2, "seqs": ["3"]},
         [{"toy": {"seq": "3", "value": "poison"}, "eventSource": "toy:stream"}]),
    ]
    assert manager.stats()["toy-1"].as_dict()["bisects"] == 2
    assert manager.poller_errors() == []
