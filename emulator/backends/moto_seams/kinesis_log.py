"""Part of ``kinesis_store``: a shard's records kept in columns instead of one Python object per record.

``ShardLog`` is what the seam puts in ``Shard.records``: a ``MutableMapping[int, record]`` (moto reads, iterates,
reverses and assigns it as it did its ``OrderedDict``) holding a record in about 20 bytes besides its data. While
the sequence numbers are consecutive (every put takes the last one plus 1) a number's position is arithmetic, and
a record is its data in one growing ``bytearray`` (the end offset in an ``array('Q')``), its arrival in
microseconds (``array('q')``) and its partition key's index in the log's table of distinct keys (``array('I')``).
Explicit hash keys are kept by position where there is one; a value that is not a plain ``CompactRecord`` (moto's
``Record`` of data it could not decode) is kept as is. Records are built as ``CompactRecord`` when read: two
reads give two equal objects. Anything else (a key that is not the next one, a deletion) turns the log into a
plain dict of records for good: slower, bigger, as correct. Locking is the caller's (``kinesis_records`` holds
the shard's lock around every put and read); a reader that does not lock (moto's own code) still sees whole
records: the count is raised last, and no buffer is ever exported.
"""

from __future__ import annotations

import sys
import time
from array import array
from base64 import b64decode, b64encode
from bisect import bisect_right
from collections.abc import ItemsView, Iterator, KeysView, Mapping, MutableMapping, ValuesView
from datetime import datetime, timedelta
from itertools import repeat
from typing import Any, cast

_EPOCH = datetime(1970, 1, 1)
_US_PER_DAY = 86_400_000_000
_MISSING: Any = object()


def created_at(us: int) -> float:
    """moto's ``unix_time(created_at_datetime)`` for a record that arrived ``us`` microseconds after the epoch,
    to the last bit."""
    days, rest = divmod(us, _US_PER_DAY)
    seconds, micros = divmod(rest, 1_000_000)
    return (days * 86400) + (seconds + (micros / 1e6))


class CompactRecord:
    """moto's ``kinesis.models.Record`` with the same attributes and ``to_json``, in half the memory and a
    fraction of the time: slots instead of a ``__dict__``, the payload as bytes (``data`` still reads as moto's
    base64 text), one integer timestamp instead of a datetime and a float, partition keys interned, and not
    appended to ``Record.instances_tracked`` (a class-level list moto keeps for its dashboard, which holds every
    record ever put until the next reset). A ``ShardLog`` stores their fields in columns and builds them when
    read."""

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
        return created_at(self._us)

    def _fields(self) -> tuple[Any, ...]:
        return self.sequence_number, self._us, self.partition_key, self.raw, self.explicit_hash_key

    def __eq__(self, other: object) -> bool:  # the same record read twice from a ShardLog: two equal objects
        return self._fields() == other._fields() if type(other) is CompactRecord else NotImplemented

    def __hash__(self) -> int:
        return hash((self.sequence_number, self._us))

    def to_json(self) -> dict[str, Any]:
        return {
            "Data": self.raw,
            "PartitionKey": self.partition_key,
            "SequenceNumber": str(self.sequence_number),
            "ApproximateArrivalTimestamp": self.created_at_datetime,
        }


_new = CompactRecord.__new__


def _columnar(record: Any, sequence_number: int) -> bool:
    """Whether ``record`` is a ``CompactRecord`` the columns give back equal (its key, its own number)."""
    try:
        return (
            type(record) is CompactRecord
            and record.sequence_number == sequence_number
            and type(record.sequence_number) is int
            and type(record.partition_key) is str
            and type(record.raw) is bytes
            and type(record._us) is int
            and -(2**63) <= record._us < 2**63
        )
    except AttributeError:  # built without __init__ and never filled in
        return False


class _Keys(KeysView[int]):  # views of a dict's keys, values and items are reversible too
    def __init__(self, log: ShardLog) -> None:
        super().__init__(log)
        self._log = log

    def __reversed__(self) -> Iterator[int]:
        return reversed(self._log)


class _Values(ValuesView[Any]):
    def __init__(self, log: ShardLog) -> None:
        super().__init__(log)
        self._log = log

    def __reversed__(self) -> Iterator[Any]:
        return map(self._log.__getitem__, reversed(self._log))


class _Items(ItemsView[int, Any]):
    def __init__(self, log: ShardLog) -> None:
        super().__init__(log)
        self._log = log

    def __reversed__(self) -> Iterator[tuple[int, Any]]:
        return ((key, self._log[key]) for key in reversed(self._log))


class ShardLog(MutableMapping[int, Any]):
    """A shard's records by sequence number, in order, in columns while the numbers are consecutive."""

    __slots__ = (
        "_blob", "_ends", "_first", "_general", "_hash_keys", "_ids", "_n", "_name_ids", "_names", "_odd",
        "_sorted", "_us",
    )

    def __init__(self, records: Mapping[Any, Any] | None = None) -> None:
        self.clear()
        self.update(records or {})

    def clear(self) -> None:
        self._blob = bytearray()  # every record's data, one after the other
        self._ends = array("Q", [0])  # where record i's data ends (and i + 1's starts): n + 1 entries
        self._us = array("q")  # arrival, microseconds since the epoch
        self._ids = array("I")  # partition key, as its index in _names
        self._names: list[str] = []
        self._name_ids: dict[str, int] = {}
        self._hash_keys: dict[int, Any] = {}  # position -> explicit hash key, where it is not None
        self._odd: dict[int, Any] = {}  # position -> the value itself, where it is not columnar
        self._first = 1  # the sequence number at position 0
        self._n = 0  # raised last: a reader not holding the lock never sees half a record
        self._general: dict[Any, Any] | None = None  # every record, once the numbers stopped being consecutive
        self._sorted: list[Any] | None = None  # the general dict's keys, sorted, while known

    # -- the mapping ------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        general = self._general
        return self._n if general is None else len(general)

    def __iter__(self) -> Iterator[int]:
        general = self._general
        return iter(range(self._first, self._first + self._n)) if general is None else iter(general)

    def __reversed__(self) -> Iterator[int]:
        general = self._general
        return reversed(range(self._first, self._first + self._n)) if general is None else reversed(general)

    def __contains__(self, key: object) -> bool:
        general = self._general
        if general is not None:
            return key in general
        return isinstance(key, int) and 0 <= key - self._first < self._n

    def __getitem__(self, key: int) -> Any:
        general = self._general
        if general is not None:
            return general[key]
        if isinstance(key, int):
            pos = key - self._first
            if 0 <= pos < self._n:
                ends = self._ends
                return self._record(pos, bytes(self._blob[ends[pos] : ends[pos + 1]]))
        raise KeyError(key)

    def __setitem__(self, key: int, value: Any) -> None:
        general = self._general
        if general is None:
            n = self._n
            if type(key) is int:
                pos = key - self._first if n else 0
                if pos == n:  # the next number: appended
                    if not n:
                        self._first = key
                    if _columnar(value, key):
                        self._append(value.partition_key, value.raw, value.explicit_hash_key, value._us)
                    else:
                        self._append_odd(value)
                    return
                if 0 <= pos < n:  # replaced, keeping its place (as a dict does)
                    self._odd[pos] = value
                    return
            general = self._to_general()
        known = self._sorted
        if known is not None and key not in general:  # still sorted with a new largest key, else sorted again
            if type(key) is int and (not known or (type(known[-1]) is int and key > known[-1])):
                known.append(key)
            else:
                self._sorted = None
        general[key] = value

    def __delitem__(self, key: int) -> None:
        if key not in self:
            raise KeyError(key)
        general = self._general if self._general is not None else self._to_general()
        del general[key]
        self._sorted = None

    def keys(self) -> KeysView[int]:
        return _Keys(self)

    def values(self) -> ValuesView[Any]:
        return _Values(self)

    def items(self) -> ItemsView[int, Any]:
        return _Items(self)

    def __repr__(self) -> str:
        return f"<ShardLog of {len(self)} records{' (general)' if self._general is not None else ''}>"

    # -- what the shard store asks, under the shard's lock ------------------------------------------------------
    def bounds(self) -> tuple[int, int]:
        """The smallest and largest sequence numbers, (0, 0) when empty."""
        if self._general is None:
            return (self._first, self._first + self._n - 1) if self._n else (0, 0)
        keys = self._keys()
        return (keys[0], keys[-1]) if keys else (0, 0)

    def extend(self, run: list[tuple[Any, bytes, Any]], us: int) -> int:
        """Append ``run`` (partition key, data, explicit hash key), all arrived at ``us``, at the next sequence
        numbers (the largest one plus 1, from 1); returns the first."""
        first = self.bounds()[1] + 1
        if self._general is not None or not all(type(key) is str and type(raw) is bytes for key, raw, _ in run):
            for seq, (partition_key, raw, explicit_hash_key) in enumerate(run, first):
                self[seq] = self._build(partition_key, raw, seq, explicit_hash_key, us)
            return first
        n = self._n
        if not n:
            self._first = first
        self._us.extend(repeat(us, len(run)))
        ids, blob, ends, hash_keys = self._ids, self._blob, self._ends, self._hash_keys
        name_ids, end = self._name_ids, ends[-1]
        for pos, (partition_key, raw, explicit_hash_key) in enumerate(run, n):
            name = name_ids.get(partition_key)
            ids.append(self._name(partition_key) if name is None else name)
            blob += raw
            end += len(raw)
            ends.append(end)
            if explicit_hash_key is not None:
                hash_keys[pos] = explicit_hash_key
        self._n = n + len(run)
        return first

    def read(self, last: int, limit: int | None) -> tuple[list[Any], float | None]:
        """The records after sequence number ``last`` (at most ``limit``, all when it is 0 or None), and the
        newest record's ``created_at`` (None when empty)."""
        if self._general is not None:
            keys, general = self._keys(), self._general
            start, end = self._span(bisect_right(keys, last), len(keys), limit)
            newest = general[keys[-1]].created_at if keys else None
            return [general[key] for key in keys[start:end]], newest
        start, end = self._span(last + 1 - self._first, self._n, limit)
        chunk, base, ends, record = self._chunk(start, end), self._ends[start], self._ends, self._record
        records = [record(pos, chunk[ends[pos] - base : ends[pos + 1] - base]) for pos in range(start, end)]
        return records, self._newest()

    def rows(self, last: int, limit: int | None) -> tuple[list[Any], float | None]:
        """``read``, with each columnar record as a tuple (sequence number, partition key, data, arrival in
        microseconds) instead of a ``CompactRecord``; other records as they are."""
        if self._general is not None:
            return self.read(last, limit)
        start, end = self._span(last + 1 - self._first, self._n, limit)
        chunk, base, ends = self._chunk(start, end), self._ends[start], self._ends
        names = self._names
        rows: list[Any] = list(zip(
            range(self._first + start, self._first + end),
            [names[i] for i in self._ids[start:end]],
            [chunk[ends[pos] - base : ends[pos + 1] - base] for pos in range(start, end)],
            self._us[start:end],
            strict=True,
        ))
        for pos, value in self._odd.items():
            if start <= pos < end:
                rows[pos - start] = value
        return rows, self._newest()

    def sequence_number_at(self, at_timestamp: float) -> int:
        """moto's ``get_sequence_number_at``: the number of the newest record created before ``at_timestamp``
        (scanning from the end: arrival times follow the wall clock, which may step back), 0 if the first
        record is not older."""
        if self._general is not None:
            keys, general = self._keys(), self._general
            if not keys or at_timestamp <= general[keys[0]].created_at:
                return 0
            return next((key for key in reversed(keys) if general[key].created_at < at_timestamp), 0)
        if not self._n or at_timestamp <= self._created_at(0):
            return 0
        us, odd, seen = self._us, self._odd, None
        for pos in range(self._n - 1, -1, -1):
            if odd and pos in odd:
                seen = None
                if odd[pos].created_at < at_timestamp:
                    return self._first + pos
            elif us[pos] != seen:  # a run arrives at one time: its other records give the same answer
                seen = us[pos]
                if created_at(seen) < at_timestamp:
                    return self._first + pos
        return 0  # pragma: no cover - unreachable: the first record is older than at_timestamp

    def column_bytes(self) -> int:
        """Bytes allocated for the columns (data included, the distinct partition keys not)."""
        return sum(sys.getsizeof(c) for c in (self._blob, self._ends, self._us, self._ids))

    # -- inside ---------------------------------------------------------------------------------------------
    @staticmethod
    def _span(start: int, n: int, limit: int | None) -> tuple[int, int]:
        start = min(max(start, 0), n)
        return start, n if not limit else min(n, start + limit)

    def _chunk(self, start: int, end: int) -> bytes:
        ends = self._ends
        return bytes(self._blob[ends[start] : ends[end]]) if start < end else b""

    def _record(self, pos: int, raw: bytes) -> Any:
        if self._odd:
            value = self._odd.get(pos, _MISSING)
            if value is not _MISSING:
                return value
        record: Any = _new(CompactRecord)
        record.partition_key = self._names[self._ids[pos]]
        record.raw = raw
        record.sequence_number = self._first + pos
        record.explicit_hash_key = self._hash_keys.get(pos) if self._hash_keys else None
        record._us = self._us[pos]
        return record

    def _created_at(self, pos: int) -> float:
        value = self._odd.get(pos, _MISSING) if self._odd else _MISSING
        return created_at(self._us[pos]) if value is _MISSING else cast(float, value.created_at)

    def _newest(self) -> float | None:
        return self._created_at(self._n - 1) if self._n else None

    def _name(self, partition_key: str) -> int:
        name = sys.intern(partition_key)  # the table and the dict hold the one string records had held
        index = self._name_ids[name] = len(self._names)
        self._names.append(name)
        return index

    def _append(self, partition_key: str, raw: bytes, explicit_hash_key: Any, us: int) -> None:
        pos = self._n
        self._us.append(us)  # first: the one append that can refuse (a number out of range) changes nothing
        name = self._name_ids.get(partition_key)
        self._ids.append(self._name(partition_key) if name is None else name)
        self._blob += raw
        self._ends.append(len(self._blob))
        if explicit_hash_key is not None:
            self._hash_keys[pos] = explicit_hash_key
        self._n = pos + 1

    def _append_odd(self, value: Any) -> None:
        pos = self._n
        self._us.append(0)
        self._ids.append(0)
        self._ends.append(self._ends[-1])
        self._odd[pos] = value
        self._n = pos + 1

    @staticmethod
    def _build(partition_key: Any, raw: bytes, seq: int, explicit_hash_key: Any, us: int) -> CompactRecord:
        record = _new(CompactRecord)
        record.partition_key = sys.intern(partition_key) if type(partition_key) is str else partition_key
        record.raw, record.sequence_number, record.explicit_hash_key, record._us = raw, seq, explicit_hash_key, us
        return record

    def _keys(self) -> list[Any]:
        if self._sorted is None:
            self._sorted = sorted(cast(dict[Any, Any], self._general))
        return self._sorted

    def _to_general(self) -> dict[Any, Any]:
        general = dict(self.items())
        self.clear()
        self._general = general
        return general
