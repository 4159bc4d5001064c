"""A DynamoDB table as a scenario's source: each event is written as an item (PutItem, UpdateItem or DeleteItem,
chosen by the scenario's ``operations`` ratios with its seed), so the table's stream, and the pipeline it
triggers, replay the same way every time.

The ledger knows each event by a key the stream record carries: an INSERT or MODIFY record's new image holds the
event's own fields (so the correlate field, as for every other source); a REMOVE record holds only the deleted
item's keys, so a delete event is known as ``removed:<keys>`` (``removed_key``). One request per event keeps the
stream in the events' order.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.types import TypeSerializer

from emulator.esm.streams.dynamodb_events import image_identity, json_default
from emulator.observe.ledger import Ledger
from emulator.replay.generate import GeneratedEvent
from emulator.spec.tables import TableSpec, TableWritesSpec

Operation = Literal["put", "update", "delete"]
_SERIALIZER = TypeSerializer()


def removed_key(keys: dict[str, Any]) -> str:
    """The ledger key of a delete event: the deleted item's keys in DynamoDB JSON, as its REMOVE record names
    them (``esm.streams.dynamodb_events.stream_record`` writes the same text)."""
    return "removed:" + json.dumps(keys, sort_keys=True, default=json_default)


def to_attribute(value: Any) -> dict[str, Any]:
    """A generated field's value in DynamoDB JSON (floats become numbers, as DynamoDB has no float type)."""
    return dict(_SERIALIZER.serialize(_numbers(value)))


def _numbers(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers(v) for v in value]
    return value


def key_attribute(value: Any, kind: str) -> dict[str, Any]:
    """A key field as the table declares it: S, N or B whatever type the generator gave it."""
    if kind == "S":
        return {"S": str(value)}
    if kind == "N":
        return {"N": str(value)}
    return {"B": value if isinstance(value, bytes) else str(value).encode()}


@dataclass(frozen=True)
class TableWrite:
    operation: Operation
    keys: dict[str, Any]  # DynamoDB JSON
    attributes: dict[str, Any]  # DynamoDB JSON, key attributes left out
    image: dict[str, Any] | None = None  # the item after the write (None after a delete)


class TableWritePlanner:
    """Chooses each event's operation in event order (seeded), keeping the items written so far: an update or a
    delete picks one of them; with none yet it is a put."""

    def __init__(self, table: TableSpec, operations: TableWritesSpec | None, seed: int) -> None:
        self._table = table
        ops = operations or TableWritesSpec(put=1.0, update=0.0, delete=0.0)
        self._choices: list[Operation] = ["put", "update", "delete"]
        self._weights = [ops.put, ops.update, ops.delete]
        self._rng = random.Random(f"{seed}:table-writes")
        self._live: list[dict[str, Any]] = []
        self._images: dict[str, dict[str, Any]] = {}  # keys (as text) -> the item as the planned writes left it

    def plan(self, event: GeneratedEvent) -> TableWrite:
        operation = self._rng.choices(self._choices, self._weights)[0]
        attributes = {k: to_attribute(v) for k, v in event.fields.items() if k not in self._table.key}
        if operation != "put" and self._live:
            at = self._rng.randrange(len(self._live))
            keys = self._live[at]
            text = json.dumps(keys, sort_keys=True, default=json_default)
            if operation == "delete":
                self._live.pop(at)
                self._images.pop(text, None)
                return TableWrite(operation, keys, attributes)
            image = self._images[text] = {**self._images[text], **attributes}
            return TableWrite(operation, keys, attributes, dict(image))
        keys = {name: key_attribute(event.fields.get(name, ""), kind) for name, kind in self._table.key.items()}
        text = json.dumps(keys, sort_keys=True, default=json_default)
        if text not in self._images:
            self._live.append(keys)
        image = self._images[text] = {**keys, **attributes}
        return TableWrite("put", keys, attributes, dict(image))


class TableProducer:
    """Writes each event to the table as its plan says, one request per event (the stream keeps their order)."""

    max_batch = 25
    max_bytes = 400 * 1024 * 25  # an item is at most 400 KB

    def __init__(self, dynamodb_client: Any, table_name: str, planner: TableWritePlanner) -> None:
        self._client = dynamodb_client
        self._table = table_name
        self._planner = planner
        self._plans: dict[int, TableWrite] = {}
        self.written: dict[str, int] = {"put": 0, "update": 0, "delete": 0}

    def ledger_key(self, event: GeneratedEvent, default: str) -> str:
        """Plan ``event`` (called in event order, before it is sent) and name it as its stream record will."""
        write = self._planner.plan(event)
        self._plans[event.index] = write
        return removed_key(write.keys) if write.operation == "delete" else default

    def send(self, batch: list[tuple[int, GeneratedEvent]], ledger: Ledger) -> int:
        for index, event in batch:
            write = self._plans.pop(event.index, None) or self._planner.plan(event)
            started = time.time()
            self._write(write)
            self.written[write.operation] += 1
            ledger.mark_sent(index, started)
            if write.image is not None:  # what its stream record's new image will be: the event's identity
                ledger.identify(index, image_identity(write.image))
        return 0

    def _write(self, write: TableWrite) -> None:
        if write.operation == "put":
            self._client.put_item(TableName=self._table, Item={**write.keys, **write.attributes})
        elif write.operation == "delete":
            self._client.delete_item(TableName=self._table, Key=write.keys)
        elif not write.attributes:  # nothing to set: the item is left as it is (no stream record either)
            return
        else:
            names = {f"#a{i}": name for i, name in enumerate(write.attributes)}
            values = {f":v{i}": value for i, value in enumerate(write.attributes.values())}
            self._client.update_item(
                TableName=self._table, Key=write.keys,
                UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(names))),
                ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            )


__all__ = ["TableProducer", "TableWrite", "TableWritePlanner", "key_attribute", "removed_key", "to_attribute"]
