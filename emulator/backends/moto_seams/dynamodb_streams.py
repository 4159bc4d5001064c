"""Seam: DynamoDB stream records read in process for pipemu's own pollers, and a listener told when a table's
stream gets a record.

Through the API every GetRecords call is an HTTP round trip, and moto keeps every shard iterator it ever handed
out (472 random bytes each) for the life of the process: a poller asking 50 times a second leaves ~180,000
behind an hour. The embedded backend's pollers read ``Table.stream_shard.items`` directly instead, with the same
answers, and wake when a record is added instead of polling on a timer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.exceptions import ResourceNotFoundException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamShard

from emulator.esm.streams.dynamodb_events import stream_record
from emulator.esm.streams.dynamodb_source import GET_RECORDS_LIMIT
from emulator.esm.streams.kinesis_source import StreamGone
from emulator.esm.streams.records import StreamRecord

TOUCHES = (
    "moto.dynamodb.models.table.StreamShard.{add(old, new), items, id, starting_sequence_number, table}",
    "moto.dynamodb.models.table.StreamRecord.to_json() (the GetRecords record)",
    "moto.dynamodb.models.table.Table.{stream_shard, latest_stream_label, table_arn}",
    "moto.dynamodb.models.DynamoDBBackend.get_table(name) raising ResourceNotFoundException",
)

Listener = Callable[[str], None]
"""Called with the table's ARN after a record was added to its stream."""

_original: Callable[..., Any] | None = None
_listener: Listener | None = None
_lock = threading.Lock()


def _add(self: StreamShard, old: Any, new: Any) -> None:
    assert _original is not None
    _original(self, old, new)
    listener = _listener
    if listener is not None:
        listener(str(self.table.table_arn))


def install(listener: Listener | None = None) -> None:
    global _original, _listener
    with _lock:
        _listener = listener
        if _original is None:
            _original = StreamShard.add
            StreamShard.add = _add  # type: ignore[method-assign]


def uninstall() -> None:
    global _original, _listener
    with _lock:
        _listener = None
        if _original is not None:
            StreamShard.add = _original  # type: ignore[method-assign]
            _original = None


class InProcessDynamoDBStreamSource:
    """``ShardSource`` over moto's store: an iterator is ``<shard id>|<index of the next record>``. A deleted
    table, or a stream turned off or replaced (another label), is ``StreamGone``."""

    def __init__(self, stream_arn: str) -> None:
        parts = stream_arn.split(":", 5)
        self._arn = stream_arn
        self._backend: Any = dynamodb_backends[parts[4]][parts[3]]
        self._table_name, _, self._label = parts[5].removeprefix("table/").partition("/stream/")

    def _shard(self) -> StreamShard:
        try:
            table = self._backend.get_table(self._table_name)
        except ResourceNotFoundException as exc:
            raise StreamGone(self._arn) from exc
        if table.latest_stream_label != self._label or table.stream_shard is None:
            raise StreamGone(self._arn)
        shard: StreamShard = table.stream_shard
        return shard

    def shard_ids(self) -> list[str]:
        return [str(self._shard().id)]

    def open(
        self,
        shard_id: str,
        *,
        position: str,
        timestamp: float | None = None,
        after_sequence: str | None = None,
    ) -> str:
        shard = self._shard()
        if after_sequence is not None:
            index = int(after_sequence) - shard.starting_sequence_number + 1
        elif position == "LATEST":
            index = len(shard.items)
        else:
            index = 0
        return f"{shard.id}|{max(0, index)}"

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        shard_id, _, at = iterator.rpartition("|")
        start = int(at)
        shard = self._shard()
        items = list(shard.items[start : start + min(limit, GET_RECORDS_LIMIT)])
        return [stream_record(item.to_json()) for item in items], f"{shard_id}|{start + len(items)}", 0


__all__ = ["InProcessDynamoDBStreamSource", "Listener", "install", "uninstall"]
