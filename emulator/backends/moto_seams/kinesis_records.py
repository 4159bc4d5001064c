"""Seam, part of ``kinesis_store``: moto's Kinesis shard store made O(1) to put, O(log n) to read and safe for
concurrent producers.

moto 5.2.5 keeps a shard's records in an ``OrderedDict`` keyed by integer sequence number. Its
``Shard.put_record`` finds the next number with ``list(self.records.keys())[-1]``, so every put copies every key
(a 1M-record replay is quadratic), and it reads-then-writes without a lock, so two producers on one shard can
draw the same number and one record silently replaces the other. ``Shard.get_records`` scans the shard from
its first record on every call. Here each shard gets an index beside its ``records``: the sorted list of its
sequence numbers (they only grow, so appending keeps it sorted) and a lock. Puts append under the lock; reads
bisect. Sequence numbers, record contents, iterators and MillisBehindLatest are exactly moto's. The index is
checked against ``shard.records`` (same object, same length) on every use and rebuilt when moto replaced or
refilled it behind our back (``split_shard`` assigns a new ``OrderedDict``).
"""

from __future__ import annotations

import sys
import threading
import time
from base64 import b64decode, b64encode
from bisect import bisect_right
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from moto.kinesis.models import Record

TOUCHES = (
    "moto.kinesis.models.Shard.{put_record,get_records,get_min_sequence_number,get_max_sequence_number,"
    "get_sequence_number_at}",
    "moto.kinesis.models.Shard.records (mapping int -> Record in sequence order; an empty one becomes a dict)",
    "moto.kinesis.models.Record(partition_key, data, sequence_number, explicit_hash_key)"
    ".{partition_key,data,sequence_number,created_at,created_at_datetime}",
)

_index_lock = threading.Lock()  # only to attach an index to a shard the first time it is used


class _ShardIndex:
    """The shard's sequence numbers in order, valid while ``records`` is the shard's dict and only we add."""

    __slots__ = ("lock", "records", "seqs")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: Any = None
        self.seqs: list[int] = []

    def synced(self, shard: Any) -> list[int]:
        """The sorted sequence numbers; call with ``lock`` held."""
        records = shard.records
        if records is not self.records or len(records) != len(self.seqs):
            if type(records) is OrderedDict and not records:
                # a plain dict keeps insertion order too, in less memory per record; moto only needs a mapping
                records = shard.records = {}
            self.records = records
            self.seqs = sorted(records)
        return self.seqs


def _index(shard: Any) -> _ShardIndex:
    index: _ShardIndex | None = shard.__dict__.get("_pipemu_index")
    if index is None:
        with _index_lock:
            return shard.__dict__.setdefault("_pipemu_index", _ShardIndex())  # type: ignore[no-any-return]
    return index


_EPOCH = datetime(1970, 1, 1)
_US_PER_DAY = 86_400_000_000


class CompactRecord:
    """moto's ``kinesis.models.Record`` with the same attributes and ``to_json``, in half the memory and a
    fraction of the time: slots instead of a ``__dict__``, the payload as bytes (``data`` still reads as moto's
    base64 text), one integer timestamp instead of a datetime and a float, partition keys interned, and not
    appended to ``Record.instances_tracked`` (a class-level list moto keeps for its dashboard, which holds every
    record ever put until the next reset). PutRecords builds them in ``append_run`` from the bytes it already
    decoded, with one arrival time per shard's run."""

    __slots__ = ("_us", "explicit_hash_key", "partition_key", "raw", "sequence_number")

    def __init__(self, partition_key: str, data: str, sequence_number: int, explicit_hash_key: str) -> None:
        self.partition_key = sys.intern(partition_key) if type(partition_key) is str else partition_key
        self.raw = b64decode(data)
        self.sequence_number = sequence_number
        self.explicit_hash_key = explicit_hash_key
        self._us = time.time_ns() // 1000

    @property
    def data(self) -> str:
        return b64encode(self.raw).decode()

    @property
    def created_at_datetime(self) -> datetime:
        return _EPOCH + timedelta(microseconds=self._us)

    @property
    def created_at(self) -> float:
        # moto's unix_time(created_at_datetime), to the last bit
        days, rest = divmod(self._us, _US_PER_DAY)
        seconds, micros = divmod(rest, 1_000_000)
        return (days * 86400) + (seconds + (micros / 1e6))

    def to_json(self) -> dict[str, Any]:
        return {
            "Data": self.raw,
            "PartitionKey": self.partition_key,
            "SequenceNumber": str(self.sequence_number),
            "ApproximateArrivalTimestamp": self.created_at_datetime,
        }


# -- Shard, moto's semantics at a lower cost ---------------------------------------------------------------
def put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
    index = _index(self)
    with index.lock:
        seqs = index.synced(self)
        sequence_number = (seqs[-1] if seqs else 0) + 1
        try:
            record: Any = CompactRecord(partition_key, data, sequence_number, explicit_hash_key)
        except (TypeError, ValueError):
            # moto stores data it cannot decode as given (a missing Data, bad base64): the put succeeds, and
            # reading it fails later, or PutRecord's metrics fail right after storing it
            record = Record(partition_key, data, sequence_number, explicit_hash_key)
        self.records[sequence_number] = record
        seqs.append(sequence_number)
    return str(sequence_number)


def get_records(self: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
    last = int(last_sequence_id)
    index = _index(self)
    with index.lock:
        seqs = index.synced(self)
        start = bisect_right(seqs, last)
        end = len(seqs) if not limit else min(len(seqs), start + limit)
        records = self.records
        results = [records[s] for s in seqs[start:end]]
        newest = records[seqs[-1]] if seqs else None
    if not results or newest is None:
        return [], last, 0
    behind_s = newest.created_at - results[-1].created_at
    return results, results[-1].sequence_number, int(behind_s * 1000)


def get_min_sequence_number(self: Any) -> int:
    index = _index(self)
    with index.lock:
        return (index.synced(self) or [0])[0]


def get_max_sequence_number(self: Any) -> int:
    index = _index(self)
    with index.lock:
        return (index.synced(self) or [0])[-1]


def get_sequence_number_at(self: Any, at_timestamp: float) -> int:
    # moto's answer exactly (the newest record created before the timestamp, scanning from the end), without
    # copying the shard into a list first. No bisection: arrival times follow the wall clock, which may step.
    index = _index(self)
    with index.lock:
        seqs = index.synced(self)
        records = self.records
        if not seqs or at_timestamp <= records[seqs[0]].created_at:
            return 0
        for s in reversed(seqs):
            if records[s].created_at < at_timestamp:
                return s
    return 0  # pragma: no cover - unreachable: the first record is older than at_timestamp



def append_run(shard: Any, run: list[tuple[str, bytes, Any]]) -> int:
    """Store ``run`` (partition key, data, explicit hash key) at the end of ``shard`` as moto's
    ``Shard.put_record`` would one by one, under one hold of the lock; returns the first sequence number."""
    index = _index(shard)
    new, intern = CompactRecord.__new__, sys.intern
    with index.lock:
        seqs = index.synced(shard)
        records = shard.records
        first = seq = (seqs[-1] if seqs else 0) + 1
        us = time.time_ns() // 1000
        for partition_key, raw, explicit_hash_key in run:  # CompactRecord.__init__ without decoding again
            record = records[seq] = new(CompactRecord)
            record.partition_key = intern(partition_key)
            record.raw = raw
            record.sequence_number = seq
            record.explicit_hash_key = explicit_hash_key
            record._us = us
            seq += 1
        seqs.extend(range(first, seq))
    return first


