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

PutRecord/PutRecords skip moto's per-record detours: each record's base64 is decoded once (moto decodes it to
measure it, then again to store it), a partition key's shard is looked up once per shard layout instead of
hashed and scanned per record, and each shard's run of a batch is appended under its lock once. The checks, their
order, the errors, the answer, the records stored (and those left stored when a record fails half-way) and the
CloudWatch metrics are moto's; anything unusual (a stream with moto's own Lambda mappings, a record moto's
``get_shard_for_key`` would refuse or cannot place) goes through moto's own per-record code.

``install(listener)`` also calls ``listener(stream_arn, shard_ids)`` after every PutRecord/PutRecords that
stored something, so pollers wake on new records instead of polling on a timer.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import sys
import threading
import time
from base64 import b64decode, b64encode
from binascii import a2b_base64
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from moto import settings
from moto.core.responses import ActionResult
from moto.kinesis.exceptions import RecordSizeExceedsLimit, TooManyRecords, TotalRecordsSizeExceedsLimit
from moto.kinesis.models import KinesisBackend, Record, Shard, kinesis_backends
from moto.kinesis.responses import KinesisResponse
from moto.kinesis.utils import compose_new_shard_iterator, compose_shard_iterator, decompose_shard_iterator

from emulator.esm.kinesis_events import StreamRecord

TOUCHES = (
    "moto.kinesis.models.Shard.{put_record,get_records,get_min_sequence_number,get_max_sequence_number,"
    "get_sequence_number_at}",
    "moto.kinesis.models.Shard.records (mapping int -> Record in sequence order; an empty one becomes a dict)",
    "moto.kinesis.models.Record(partition_key, data, sequence_number, explicit_hash_key)"
    ".{partition_key,data,sequence_number,created_at,created_at_datetime}",
    "moto.kinesis.models.KinesisBackend.{put_record,put_records,describe_stream,_send_stream_metrics}",
    "moto.kinesis.models.Stream.{arn,stream_name,shards,get_shard,get_shard_for_key,put_record,"
    "lambda_event_source_mappings}",
    "moto.kinesis.models.Shard.{shard_id,starting_hash,ending_hash}",
    "moto.kinesis.exceptions.{TooManyRecords,TotalRecordsSizeExceedsLimit,RecordSizeExceedsLimit(position)}",
    "moto.utilities.utils.md5_hash (what get_shard_for_key hashes a partition key with)",
    "moto.kinesis.responses.KinesisResponse.put_records (its result: ActionResult of a plain dict)",
    "moto.core.responses.BaseResponse._get_param (query string, then the JSON body, then uri_match) and "
    "its automated_parameter_parsing, querystring and body attributes",
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
    record ever put until the next reset). PutRecords builds them in ``_append`` from the bytes it already
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
def _put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
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


_MAX_RECORDS = 500  # moto's PutRecords limits, checked in its order
_MAX_BATCH_BYTES = 5242880
_MAX_RECORD_BYTES = 1048576
_HASH_KEYS = 2**128
_MAX_ROUTED_KEYS = 16384  # partition keys remembered per stream; a stream of unique keys starts over


def _decode_or_none(data: str) -> bytes | None:
    """What ``b64decode`` makes of ``data`` (it ends with this call, and it takes ASCII text as is), or None
    where it would raise: the caller then calls it for its own error."""
    try:
        return a2b_base64(data)
    except ValueError:
        return None


class _Routes:
    """Where moto's ``Stream.get_shard_for_key`` puts a record, for one layout of the stream's shards: their
    identities and hash ranges in ``stream.shards`` order, which with the key is all the answer depends on.
    ``_routes`` compares the layout on every put, so a split, merge or replaced shard starts a new table."""

    __slots__ = ("by_key", "layout", "ranges")

    def __init__(self, layout: tuple[tuple[int, int, int], ...], shards: list[Any]) -> None:
        self.layout = layout  # (id(shard), start, end): ``ranges`` keeps the shards alive, so no id is reused
        self.ranges = [(start, end, shard) for (_, start, end), shard in zip(layout, shards, strict=True)]
        self.by_key: dict[str, Any] = {}

    def find(self, hash_key: int) -> Any:
        """moto's scan: the first shard, in order, with ``starting_hash <= key < ending_hash``, else None."""
        for start, end, shard in self.ranges:
            if start <= hash_key < end:
                return shard
        return None

    def shard_for(self, partition_key: Any, explicit_hash_key: Any) -> Any:
        """The shard moto would put the record in, or None where moto would raise (or we are not sure it
        would not): the caller then runs moto's own code, which raises its own error."""
        if type(partition_key) is not str or len(partition_key) > 256:
            return None
        if explicit_hash_key:
            if type(explicit_hash_key) is not str:
                return None
            try:
                hash_key = int(explicit_hash_key)
            except ValueError:
                return None
            return self.find(hash_key) if hash_key < _HASH_KEYS else None
        shard = self.by_key.get(partition_key)
        if shard is None:
            try:
                digest = hashlib.md5(partition_key.encode("utf-8"), usedforsecurity=False).digest()
            except UnicodeEncodeError:
                return None
            shard = self.find(int.from_bytes(digest, "big"))  # moto: int(md5_hash(...).hexdigest(), 16)
            if shard is not None:
                if len(self.by_key) >= _MAX_ROUTED_KEYS:
                    self.by_key.clear()
                self.by_key[partition_key] = shard
        return shard


def _routes(stream: Any) -> _Routes:
    shards = list(stream.shards.values())
    layout = tuple((id(s), s.starting_hash, s.ending_hash) for s in shards)
    routes: _Routes | None = stream.__dict__.get("_pipemu_routes")
    if routes is None or routes.layout != layout:
        routes = stream.__dict__["_pipemu_routes"] = _Routes(layout, shards)
    return routes


def _append(shard: Any, run: list[tuple[str, bytes, Any]]) -> int:
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


def _put_record_backend(
    self: Any, stream_arn: str, stream_name: str, partition_key: str, explicit_hash_key: str, data: str
) -> tuple[str, str]:
    """moto's ``put_record`` decoding the data once: route, store, then send the metrics (which in moto is
    where bad base64 fails, after the record is stored)."""
    stream = self.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
    if stream.lambda_event_source_mappings:  # moto delivers to its own mappings record by record: its code
        sequence_number, shard_id = _originals["backend.put_record"](
            self, stream_arn, stream_name, partition_key, explicit_hash_key, data
        )
        _notify(stream.arn, (shard_id,))
        return sequence_number, shard_id
    shard = _routes(stream).shard_for(partition_key, explicit_hash_key) if type(data) is str else None
    raw = _decode_or_none(data) if shard is not None else None
    if shard is None or raw is None:  # moto's code: its errors, and bad base64 stored before it fails
        sequence_number, shard_id = stream.put_record(partition_key, explicit_hash_key, data)
    else:
        sequence_number, shard_id = str(_append(shard, [(partition_key, raw, explicit_hash_key)])), shard.shard_id
    try:
        raw = b64decode(data) if raw is None else raw
        self._send_stream_metrics(stream.stream_name, incoming_bytes=len(raw) + len(partition_key), incoming_records=1)
    finally:
        _notify(stream.arn, (shard_id,))
    return sequence_number, shard_id


def _put_records_backend(self: Any, stream_arn: str, stream_name: str, records: list[dict[str, Any]]) -> Any:
    """moto's ``put_records``: the same checks and errors in the same order, the same answer and records."""
    stream = self.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
    if stream.lambda_event_source_mappings:  # moto delivers to its own mappings record by record: its code
        answer = _originals["backend.put_records"](self, stream_arn, stream_name, records)
        _notify(stream.arn, {r["ShardId"] for r in answer["Records"]})
        return answer

    if len(records) > _MAX_RECORDS:
        raise TooManyRecords
    # One pass does moto's two: its data_sizes (decoding each record once, and keeping the bytes) and its
    # routing, which it does record by record as it stores them. Routing has no effect until the size checks
    # pass, and it stops at the first record moto's get_shard_for_key would refuse or could not place (or one
    # without Data, which moto stores as None): moto stores the records before it, then fails on it, in its own
    # code below.
    routes = _routes(stream)
    by_key, shard_for = routes.by_key, routes.shard_for
    runs: dict[Any, tuple[list[int], list[tuple[str, bytes, Any]]]] = {}
    routed = len(records)
    total = 0
    oversized: int | None = None
    for idx, r in enumerate(records):
        data = r.get("Data", "")
        try:  # as in _decode_or_none, inline: this runs for every record
            raw = a2b_base64(data) if type(data) is str else b64decode(data)
        except ValueError:
            raw = None
        if raw is None:
            raw = b64decode(data)  # raises b64decode's own error, with its own message (and no context)
        size = len(raw) + len(r.get("PartitionKey", ""))
        total += size
        if size > _MAX_RECORD_BYTES and oversized is None:
            oversized = idx
        if routed > idx:
            partition_key: Any = r.get("PartitionKey")
            explicit_hash_key = r.get("ExplicitHashKey")
            shard = by_key.get(partition_key) if not explicit_hash_key and type(partition_key) is str else None
            if shard is None:
                shard = shard_for(partition_key, explicit_hash_key)
            if shard is None or "Data" not in r:
                routed = idx
                continue
            group = runs.get(shard)
            if group is None:
                group = runs[shard] = ([], [])
            group[0].append(idx)
            group[1].append((partition_key, raw, explicit_hash_key))
    if total > _MAX_BATCH_BYTES:
        raise TotalRecordsSizeExceedsLimit
    if oversized is not None:
        raise RecordSizeExceedsLimit(position=oversized + 1)

    entries: list[Any] = [None] * routed
    for shard, (positions, run) in runs.items():
        first, shard_id = _append(shard, run), shard.shard_id
        for seq, idx in enumerate(positions, first):
            entries[idx] = {"SequenceNumber": str(seq), "ShardId": shard_id}
    response: dict[str, Any] = {"FailedRecordCount": 0, "Records": entries}
    shard_ids = {shard.shard_id for shard in runs}
    try:
        for r in islice(records, routed, None):
            sequence_number, shard_id = stream.put_record(
                r.get("PartitionKey"), r.get("ExplicitHashKey"), r.get("Data")
            )
            entries.append({"SequenceNumber": sequence_number, "ShardId": shard_id})
            shard_ids.add(shard_id)
        self._send_stream_metrics(stream.stream_name, incoming_bytes=total, incoming_records=len(records))
    finally:
        if shard_ids:  # also when a record failed half-way: the ones before it are stored, as in moto
            _notify(stream.arn, shard_ids)
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
    response = self.kinesis_backend.put_records(*_json_params(self, "StreamARN", "StreamName", "Records"))
    return _PutRecordsResult(response)


def _json_params(response: Any, *names: str) -> list[Any]:
    """``[response._get_param(name) for name in names]`` parsing a JSON body once instead of once per name (a
    500-record body is ~150 KB of JSON). Where moto would find a name elsewhere first (its automated parsing,
    the query string), or the body is not a JSON object, it is moto's ``_get_param`` itself."""
    if response.automated_parameter_parsing or any(response.querystring.get(n) is not None for n in names):
        return [response._get_param(name) for name in names]
    try:
        body = json.loads(response.body)
    except (ValueError, TypeError):
        body = None
    if not isinstance(body, dict):
        return [response._get_param(name) for name in names]
    uri_match = response.uri_match or {}  # moto's next place to look for a name the body lacks, then None
    return [body[name] if name in body else uri_match.get(name) for name in names]


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
