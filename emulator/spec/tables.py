"""DynamoDB tables in ``pipeline.yaml``: ``tables: {NAME: {key: {pk: S, sk: N}, stream: NEW_AND_OLD_IMAGES,
ttl: FIELD}}``.

``key`` lists the partition key and then, optionally, the sort key, each with its attribute type (AWS allows
S, N and B for key attributes: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeDefinition.html).
``stream`` turns DynamoDB Streams on with that view type
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_StreamSpecification.html); ``ttl`` names
the attribute that holds each item's expiry time.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from emulator.spec.validation import Strict, rule_error

KeyType = Literal["S", "N", "B"]
StreamView = Literal["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"]
_ATTRIBUTE_NAME = 255  # AWS's limit for a key attribute's name


class TableSpec(Strict):
    key: dict[str, KeyType] = Field(min_length=1, max_length=2)
    stream: StreamView | None = None
    ttl: str | None = Field(None, min_length=1, max_length=_ATTRIBUTE_NAME)

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


__all__ = ["KeyType", "StreamView", "TableSpec"]
