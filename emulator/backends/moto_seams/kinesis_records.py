"""Seam, part of ``kinesis_store``: moto's Kinesis shard store made O(1) to put, O(log n) to read, safe for
concurrent producers and about 20 bytes a record besides the data.

moto 5.2.5 keeps a shard's records in an ``OrderedDict`` keyed by integer sequence number. Its
``Shard.put_record`` finds the next number with ``list(self.records.keys())[-1]``, so every put copies every key
(a 1M-record replay is quadratic), and it reads-then-writes without a lock, so two producers on one shard can
draw the same number and one record silently replaces the other. ``Shard.get_records`` scans the shard from
its first record on every call, and every record is a Python object with a ``__dict__``, a datetime and a float.
Here each shard's ``records`` is a ``ShardLog`` (``kinesis_log``: the records in columns, a sequence number's
place found by arithmetic) and the shard gets a lock: puts append under it, reads hold it too. Sequence numbers,
record contents, iterators and MillisBehindLatest are exactly moto's. ``shard.records`` is checked on every use:
a mapping moto put there behind our back (``split_shard`` assigns a new ``OrderedDict``) is replaced by a
``ShardLog`` holding the same records.
"""

from __future__ import annotations

import threading
import time
from base64 import b64decode
from typing import Any

from moto.kinesis.models import Record

from emulator.backends.moto_seams.kinesis_log import CompactRecord, ShardLog, created_at

__all__ = [
    "CompactRecord",
    "ShardLog",
    "append_run",
    "get_max_sequence_number",
    "get_min_sequence_number",
    "get_records",
    "get_rows",
    "get_sequence_number_at",
    "put_record",
]

TOUCHES = (
    "moto.kinesis.models.Shard.{put_record,get_records,get_min_sequence_number,get_max_sequence_number,"
    "get_sequence_number_at}",
    "moto.kinesis.models.Shard.records (mapping int -> Record in sequence order: moto iterates, reverses, reads "
    "and assigns it, and replaces it in split_shard; any mapping but a ShardLog is replaced by one)",
    "moto.kinesis.models.Record(partition_key, data, sequence_number, explicit_hash_key)"
    ".{partition_key,data,sequence_number,created_at,created_at_datetime}",
)

_index_lock = threading.Lock()  # only to attach an index to a shard the first time it is used


class _ShardIndex:
    """The shard's lock (it outlives the shard's ``records``, which moto may replace)."""

    __slots__ = ("lock",)

    def __init__(self) -> None:
        self.lock = threading.Lock()

    @staticmethod
    def log(shard: Any) -> ShardLog:
        """The shard's records as a ``ShardLog``; call with ``lock`` held."""
        records = shard.records
        if type(records) is not ShardLog:
            records = shard.records = ShardLog(records)
        return records


def _index(shard: Any) -> _ShardIndex:
    index: _ShardIndex | None = shard.__dict__.get("_pipemu_index")
    if index is None:
        with _index_lock:
            return shard.__dict__.setdefault("_pipemu_index", _ShardIndex())  # type: ignore[no-any-return]
    return index


# -- Shard, moto's semantics at a lower cost ---------------------------------------------------------------
def put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
    index = _index(self)
    with index.lock:
        log = index.log(self)
        sequence_number = log.bounds()[1] + 1
        try:
            raw = b64decode(data)
        except (TypeError, ValueError):
            # moto stores data it cannot decode as given (a missing Data, bad base64): the put succeeds, and
            # reading it fails later, or PutRecord's metrics fail right after storing it
            log[sequence_number] = Record(partition_key, data, sequence_number, explicit_hash_key)
        else:
            log.extend([(partition_key, raw, explicit_hash_key)], time.time_ns() // 1000)
    return str(sequence_number)


def append_run(shard: Any, run: list[tuple[str, bytes, Any]]) -> int:
    """Store ``run`` (partition key, data, explicit hash key) at the end of ``shard`` as moto's
    ``Shard.put_record`` would one by one, under one hold of the lock; returns the first sequence number."""
    index = _index(shard)
    with index.lock:
        return index.log(shard).extend(run, time.time_ns() // 1000)


def get_records(self: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
    last, results, newest = _read(self, last_sequence_id, limit, rows=False)
    if not results or newest is None:
        return [], last, 0
    behind_s = newest - results[-1].created_at
    return results, results[-1].sequence_number, int(behind_s * 1000)


def get_rows(shard: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
    """``get_records`` without building a record object where the shard keeps the record in columns: such a
    record is a tuple (sequence number, partition key, data, arrival in microseconds since the epoch)."""
    last, rows, newest = _read(shard, last_sequence_id, limit, rows=True)
    if not rows or newest is None:
        return [], last, 0
    tail = rows[-1]
    if type(tail) is tuple:
        return rows, tail[0], int((newest - created_at(tail[3])) * 1000)
    return rows, tail.sequence_number, int((newest - tail.created_at) * 1000)


def _read(shard: Any, last_sequence_id: str, limit: int | None, *, rows: bool) -> tuple[int, list[Any], Any]:
    """(last sequence number asked after, what the shard's log holds after it, the newest record's arrival)."""
    last = int(last_sequence_id)
    index = _index(shard)
    with index.lock:
        log = index.log(shard)
        found, newest = log.rows(last, limit) if rows else log.read(last, limit)
    return last, found, newest


def get_min_sequence_number(self: Any) -> int:
    index = _index(self)
    with index.lock:
        return index.log(self).bounds()[0]


def get_max_sequence_number(self: Any) -> int:
    index = _index(self)
    with index.lock:
        return index.log(self).bounds()[1]


def get_sequence_number_at(self: Any, at_timestamp: float) -> int:
    # moto's answer exactly (the newest record created before the timestamp, scanning from the end), without
    # copying the shard into a list first
    index = _index(self)
    with index.lock:
        return index.log(self).sequence_number_at(at_timestamp)
