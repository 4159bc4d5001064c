"""DynamoDB tables in ``pipeline.yaml``: ``tables: {NAME: {key: {pk: S, sk: N}, stream: NEW_AND_OLD_IMAGES,
ttl: FIELD}}``.

``key`` lists the partition key and then, optionally, the sort key, each with its attribute type (AWS allows
S, N and B for key attributes: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeDefinition.html).
``stream`` turns DynamoDB Streams on with that view type
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_StreamSpecification.html); ``ttl`` names
the attribute that holds each item's expiry time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from emulator.spec.security import Encryption, LintSpec, check_encryption
from emulator.spec.validation import Strict, rule_error
from emulator.spec.yamlsrc import YamlDoc

if TYPE_CHECKING:
    from emulator.spec.scenario import ScenarioSpec

KeyType = Literal["S", "N", "B"]
StreamView = Literal["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"]
_ATTRIBUTE_NAME = 255  # AWS's limit for a key attribute's name


class TableSpec(Strict):
    key: dict[str, KeyType] = Field(min_length=1, max_length=2)
    stream: StreamView | None = None
    ttl: str | None = Field(None, min_length=1, max_length=_ATTRIBUTE_NAME)
    # security and lint keys (emulator.spec.security): KMS (AWS managed key) or {kms: alias/NAME}
    encryption: Encryption | None = None
    lint: LintSpec | None = None

    @field_validator("encryption")
    @classmethod
    def _table_sse(cls, value: Encryption | None) -> Encryption | None:
        return check_encryption(value, ("KMS",), "a DynamoDB table")

    @field_validator("key", mode="before")
    @classmethod
    def _key_shape(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            raise rule_error("key should map the partition key (then the sort key) to its type",
                             hint="e.g. key: {order_id: S} or key: {customer: S, placed_at: N}")
        if len(value) > 2:
            raise rule_error(f"a key has a partition key and at most one sort key, got {len(value)} attributes",
                             hint="list the partition key first, then the sort key")
        for name, kind in value.items():
            if not isinstance(name, str) or not 1 <= len(name) <= _ATTRIBUTE_NAME:
                raise rule_error(f"key attribute name {name!r} should be 1-255 characters", path=(str(name),))
            if kind not in ("S", "N", "B"):
                raise rule_error(f"key attribute type {kind!r} is not S, N or B", path=(name,),
                                 hint="DynamoDB key attributes are strings (S), numbers (N) or binary (B)")
        return value

    @property
    def partition_key(self) -> str:
        return next(iter(self.key))

    @property
    def sort_key(self) -> str | None:
        names = list(self.key)
        return names[1] if len(names) > 1 else None

    def create_table_kwargs(self, table_name: str) -> dict[str, Any]:
        """Keyword arguments for boto3 ``dynamodb.create_table`` (on-demand capacity: nothing to size)."""
        roles = ("HASH", "RANGE")
        kwargs: dict[str, Any] = {
            "TableName": table_name,
            "KeySchema": [{"AttributeName": n, "KeyType": r} for n, r in zip(self.key, roles, strict=False)],
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": t} for n, t in self.key.items()],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.stream is not None:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": self.stream}
        return kwargs


class TableWritesSpec(Strict):
    """How a ``table/NAME`` scenario source writes its events, as ratios: ``put`` writes the event as an item
    (its key fields are the item's key), ``update`` sets the event's other fields on an item written earlier,
    ``delete`` deletes an item written earlier (an update or delete with nothing written yet is a put)."""

    put: float = Field(1.0, ge=0)
    update: float = Field(0.0, ge=0)
    delete: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _some_writes(self) -> TableWritesSpec:
        if self.put + self.update + self.delete <= 0:
            raise rule_error("at least one of put, update, delete needs a ratio above 0",
                             hint="e.g. operations: {put: 0.8, update: 0.15, delete: 0.05}")
        return self


def check_table_source(spec: ScenarioSpec, table: TableSpec, doc: YamlDoc) -> None:
    """A table source's events carry the table's key attributes; an update keeps the item's key, so the
    correlate field of ``expect.delivered`` cannot be one of them when updates are written."""
    missing = [name for name in table.key if name not in spec.events.fields]
    if missing:
        raise doc.error(f"the events have no field for the table's key attribute {', '.join(missing)}",
                        ("events", "fields"),
                        hint=f"add {missing[0]} to events.fields: each event is written as an item")
    correlate = getattr(spec.expect.delivered, "correlate", None)
    updates = spec.operations is not None and spec.operations.update > 0
    if updates and correlate in table.key:
        raise doc.error(f"correlate field '{correlate}' is a key attribute of the table, and an update keeps the "
                        "key of the item it changes", ("expect", "delivered", "correlate"),
                        hint="correlate on a field that is not part of the key (e.g. event_id: uuid4)")


__all__ = ["KeyType", "StreamView", "TableSpec", "TableWritesSpec", "check_table_source"]
