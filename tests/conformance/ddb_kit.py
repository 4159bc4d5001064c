"""Setting up and observing the AWS-recorded DynamoDB Streams ESM cases on the embedded backend (the Kinesis
kit's resources, plus tables with streams)."""

from __future__ import annotations

from typing import Any

from esm_kit import SKIP as KINESIS_SKIP
from esm_kit import Kit, short_uid
from normalize import Normalizer, assert_matches
from snapshots import recorded

DYNAMODB = "test_lambda_integration_dynamodbstreams"

# Not compared, with the reason:
SKIP = [
    *KINESIS_SKIP,
    # CreateTable/UpdateTable are moto's DynamoDB answers, not the mapping's behaviour (status, throughput, ids).
    "$..TableDescription",
    # AWS says "No records processed" until the first batch; the upstream suite leaves it unverified for this
    # file because the value depends on when the list is read (a deleted table's mapping shows a problem later).
    "$..LastProcessingResult",
]


def ddb_normalizer() -> Normalizer:
    """The recording's own transformers: eventID, shardId, SequenceNumber as numbered tokens, the creation
    time as present only."""
    return Normalizer(
        keyed={"eventID": "event-i-d", "shardId": "shard-id"},
        present_only={"ApproximateCreationDateTime": "<approximate-creation-datetime>"},
    )


def check_ddb(name: str, observed: dict[str, Any], *, skip: tuple[str, ...] = ()) -> None:
    expected = recorded(name, file=DYNAMODB)
    assert sorted(observed) == sorted(expected), f"observation names differ from the snapshot's: {sorted(expected)}"
    assert_matches(expected, ddb_normalizer()(observed), skip=[*SKIP, *skip], what=name)


class DdbKit(Kit):
    def __init__(self, pipemu: Any) -> None:
        super().__init__(pipemu)
        self.ddb = pipemu.client("dynamodb")

    def table(self, partition_key: str, *, view: str | None = None) -> tuple[str, dict[str, Any]]:
        """A PAY_PER_REQUEST table (with a stream of ``view`` when given); returns its name and CreateTable's
        answer."""
        name = f"test-table-{short_uid()}"
        kwargs: dict[str, Any] = {}
        if view is not None:
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        created = self.ddb.create_table(
            TableName=name, KeySchema=[{"AttributeName": partition_key, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": partition_key, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST", **kwargs,
        )
        return name, dict(created)

    def enable_stream(self, table: str, view: str) -> dict[str, Any]:
        """UpdateTable turning the stream on, as the recorded tests do; its answer holds LatestStreamArn."""
        return dict(self.ddb.update_table(
            TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": view}))
