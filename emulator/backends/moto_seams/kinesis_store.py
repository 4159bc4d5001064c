"""Seam: moto's Kinesis shard store made O(1) to put, O(log n) to read, safe for concurrent producers, and
able to tell pipemu the moment records arrive.

moto 5.2.5 keeps a shard's records in an ``OrderedDict`` keyed by integer sequence number. Its
``Shard.put_record`` finds the next number with ``list(self.records.keys())[-1]``, so every put copies every key
(a 1M-record replay is quadratic), and it reads-then-writes without a lock, so two producers on one shard can
draw the same number and one record silently replaces the other. ``Shard.get_records`` scans the shard from
its first record on every call. Here each shard gets an index beside its ``records``: the sorted list of its
sequence numbers (they only grow, so appending keeps it sorted) and a lock. Puts append under the lock; reads
bisect. Sequence numbers, record contents, iterators and MillisBehindLatest are exactly moto's. The index is
checked against ``shard.records`` (same object, same length) on every use and rebuilt when moto replaced or
refilled it behind our back (``split_shard`` assigns a new ``OrderedDict``).

Records are not trimmed when every consumer has passed them: on AWS they stay readable for the retention
period (24 h at least), and a TRIM_HORIZON or AT_TIMESTAMP iterator opened later (a new mapping, a user's
``get_records``, a mapping re-created from scratch) must still see them.

``install(listener)`` also calls ``listener(stream_arn, shard_ids)`` after every PutRecord/PutRecords that
stored something, so pollers wake on new records instead of polling on a timer.
"""

from __future__ import annotations

import calendar
import json
import logging
import sys
import threading
import time
from base64 import b64decode, b64encode
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from moto import settings
from moto.core.responses import ActionResult
from moto.kinesis.models import KinesisBackend, Shard, kinesis_backends
from moto.kinesis.responses import KinesisResponse
from moto.kinesis.utils import compose_new_shard_iterator, compose_shard_iterator, decompose_shard_iterator

from emulator.esm.kinesis_events import StreamRecord

TOUCHES = (
    "moto.kinesis.models.Shard.{put_record,get_records,get_min_sequence_number,get_max_sequence_number,"
    "get_sequence_number_at}",
    "moto.kinesis.models.Shard.records (mapping int -> Record in sequence order; an empty one becomes a dict)",
    "moto.kinesis.models.Record(partition_key, data, sequence_number, explicit_hash_key)"
    ".{partition_key,data,sequence_number,created_at,created_at_datetime}",
    "moto.kinesis.models.KinesisBackend.{put_record,put_records,describe_stream}, Stream.{arn,shards,get_shard}",
    "moto.kinesis.responses.KinesisResponse.put_records (its result: ActionResult of a plain dict)",
    "moto.core.responses.ActionResult.execute_result(context) -> (status, headers, body)",
    "moto.kinesis.utils.{compose_new_shard_iterator,compose_shard_iterator,decompose_shard_iterator}",
)

Listener = Callable[[str, frozenset[str]], None]
"""Called with (stream ARN, IDs of the shards that got records) after a put, outside any shard lock."""

log = logging.getLogger(__name__)

_OWNERS: dict[str, type] = {"shard": Shard, "backend": KinesisBackend, "response": KinesisResponse}
_originals: dict[str, Any] = {}
_listener: Listener | None = None
_install_lock = threading.Lock()
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
    record ever put until the next reset)."""

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
def _put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
    index = _index(self)
    with index.lock:
        seqs = index.synced(self)
        sequence_number = (seqs[-1] if seqs else 0) + 1
        self.records[sequence_number] = CompactRecord(partition_key, data, sequence_number, explicit_hash_key)
        seqs.append(sequence_number)
    return str(sequence_number)


def _get_records(self: Any, last_sequence_id: str, limit: int | None) -> tuple[list[Any], int, int]:
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


def _get_min_sequence_number(self: Any) -> int:
    index = _index(self)
    with index.lock:
        return (index.synced(self) or [0])[0]


def _get_max_sequence_number(self: Any) -> int:
    index = _index(self)
    with index.lock:
        return (index.synced(self) or [0])[-1]


def _get_sequence_number_at(self: Any, at_timestamp: float) -> int:
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


# -- KinesisBackend, to tell pollers ------------------------------------------------------------------------
def _notify(stream_arn: str, shard_ids: Iterable[str]) -> None:
    listener = _listener
    if listener is None:
        return
    try:
        listener(stream_arn, frozenset(shard_ids))
    except Exception:  # a listener bug must not fail the producer's put, which already succeeded
        log.exception("kinesis put listener failed")


def _put_record_backend(
    self: Any, stream_arn: str, stream_name: str, partition_key: str, explicit_hash_key: str, data: str
) -> tuple[str, str]:
    sequence_number, shard_id = _originals["backend.put_record"](
        self, stream_arn, stream_name, partition_key, explicit_hash_key, data
    )
    _notify(self.describe_stream(stream_arn=stream_arn, stream_name=stream_name).arn, (shard_id,))
    return sequence_number, shard_id


def _put_records_backend(self: Any, stream_arn: str, stream_name: str, records: list[dict[str, Any]]) -> Any:
    response = _originals["backend.put_records"](self, stream_arn, stream_name, records)
    shards = {r["ShardId"] for r in response["Records"] if "ShardId" in r}
    if shards:
        _notify(self.describe_stream(stream_arn=stream_arn, stream_name=stream_name).arn, shards)
    return response


# -- KinesisResponse.put_records: the same JSON without the generic serializer --------------------------------
class _PutRecordsResult(ActionResult):
    """moto's generic serializer walks the output shape for each of the (up to 500) result entries, which cost
    more than storing them. Entries that are exactly ``{SequenceNumber, ShardId}`` strings serialize to what
    ``json.dumps`` writes; the status and headers come from the serializer run on an empty result. Anything
    else goes through the serializer as before."""

    _ENTRY_KEYS = ("SequenceNumber", "ShardId")

    def _plain(self) -> bool:
        result = self.result
        if not isinstance(result, dict) or list(result) != ["FailedRecordCount", "Records"]:
            return False
        if type(result["FailedRecordCount"]) is not int:
            return False
        keys = self._ENTRY_KEYS
        return all(
            type(e) is dict and tuple(e) == keys and type(e[keys[0]]) is str and type(e[keys[1]]) is str
            for e in result["Records"]
        )

    def execute_result(self, context: Any) -> Any:
        if not self._plain():
            return super().execute_result(context)
        status, headers, _ = ActionResult({"FailedRecordCount": 0, "Records": []}).execute_result(context)
        return status, headers, json.dumps(self.result, indent=4 if settings.PRETTIFY_RESPONSES else None)


def _put_records_response(self: Any) -> ActionResult:
    response = self.kinesis_backend.put_records(
        self._get_param("StreamARN"), self._get_param("StreamName"), self._get_param("Records")
    )
    return _PutRecordsResult(response)


_REPLACEMENTS: dict[str, Callable[..., Any]] = {
    "shard.put_record": _put_record,
    "shard.get_records": _get_records,
    "shard.get_min_sequence_number": _get_min_sequence_number,
    "shard.get_max_sequence_number": _get_max_sequence_number,
    "shard.get_sequence_number_at": _get_sequence_number_at,
    "backend.put_record": _put_record_backend,
    "backend.put_records": _put_records_backend,
    "response.put_records": _put_records_response,
}


def install(listener: Listener | None = None) -> None:
    global _listener
    with _install_lock:
        _listener = listener
        if _originals:
            return
        for key, replacement in _REPLACEMENTS.items():
            owner, name = key.split(".", 1)
            _originals[key] = getattr(_OWNERS[owner], name)
            setattr(_OWNERS[owner], name, replacement)


def uninstall() -> None:
    global _listener
    with _install_lock:
        _listener = None
        for key, original in _originals.items():
            owner, name = key.split(".", 1)
            setattr(_OWNERS[owner], name, original)
        _originals.clear()


def installed() -> bool:
    return bool(_originals)


def listener() -> Listener | None:  # tests put it back after swapping the seam out
    return _listener


# -- in-process reads for pipemu's own pollers ---------------------------------------------------------------
class InProcessShardSource:
    """``ShardSource`` reading moto's store directly: what GetShardIterator/GetRecords would return, without
    the HTTP round trip and the JSON/base64/timestamp encoding of every record. For the embedded backend's
    pollers only (they run in the same process as moto); errors are moto's exceptions, as the API would map
    them."""

    def __init__(self, stream_arn: str) -> None:
        parts = stream_arn.split(":")
        self._backend: Any = kinesis_backends[parts[4]][parts[3]]
        self._arn = stream_arn
        self._name = stream_arn.split("/", 1)[1]

    def _stream(self, name: str | None = None) -> Any:
        return self._backend.describe_stream(stream_arn=None, stream_name=name or self._name)

    def shard_ids(self) -> list[str]:  # ListShards' first page (10,000 shards), in its order
        return sorted(str(s.shard_id) for s in self._stream().shards.values())

    def open(
        self,
        shard_id: str,
        *,
        position: str,
        timestamp: float | None = None,
        after_sequence: str | None = None,
    ) -> str:
        if after_sequence is not None:
            position = "AFTER_SEQUENCE_NUMBER"
        shard = self._stream().get_shard(shard_id)
        # typed int/datetime in moto, but GetShardIterator hands it the request's string and epoch number
        compose: Any = compose_new_shard_iterator
        return str(compose(self._name, shard, position, after_sequence or "", timestamp or 0.0))

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        stream_name, shard_id, last_sequence_id = decompose_shard_iterator(iterator)
        shard = self._stream(stream_name).get_shard(shard_id)
        records, last, behind_ms = shard.get_records(last_sequence_id, limit)
        out = [
            StreamRecord(
                sequence_number=str(r.sequence_number),
                partition_key=str(r.partition_key),
                data=r.raw if type(r) is CompactRecord else b64decode(r.data),
                arrival=_wire_timestamp(r.created_at_datetime),
            )
            for r in records
        ]
        return out, compose_shard_iterator(stream_name, shard, last), int(behind_ms)


def _wire_timestamp(created: datetime) -> float:  # as boto3 sees it: moto truncates to the millisecond
    return calendar.timegm(created.timetuple()) + (created.microsecond // 1000) / 1000.0
