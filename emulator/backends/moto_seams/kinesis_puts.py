"""Seam, part of ``kinesis_store``: PutRecord/PutRecords without moto's per-record detours, and a listener told
the moment records arrive.

Each record's base64 is decoded once (moto decodes it to measure it, then again to store it), a partition key's
shard is looked up once per shard layout instead of hashed and scanned per record, and each shard's run of a
batch is appended under its lock once. The checks, their order, the errors, the answer, the records stored (and
those left stored when a record fails half-way) and the CloudWatch metrics are moto's; anything unusual (a stream
with moto's own Lambda mappings, a record moto's ``get_shard_for_key`` would refuse or cannot place) goes through
moto's own per-record code. The answer is serialized without moto's generic serializer, and the request body is
parsed once.

``_listener(stream_arn, shard_ids)`` is called after every PutRecord/PutRecords that stored something, so
pollers wake on new records instead of polling on a timer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from base64 import b64decode
from binascii import a2b_base64
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

from moto import settings
from moto.core.responses import ActionResult
from moto.kinesis.exceptions import RecordSizeExceedsLimit, TooManyRecords, TotalRecordsSizeExceedsLimit

from emulator.backends.moto_seams.kinesis_records import append_run

TOUCHES = (
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
)

Listener = Callable[[str, frozenset[str]], None]
"""Called with (stream ARN, IDs of the shards that got records) after a put, outside any shard lock."""

log = logging.getLogger(__name__)

_originals: dict[str, Any] = {}  # moto's own functions while the seam is installed (kinesis_store fills it)
_listener: Listener | None = None


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


def put_record_backend(
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
        sequence_number, shard_id = str(append_run(shard, [(partition_key, raw, explicit_hash_key)])), shard.shard_id
    try:
        raw = b64decode(data) if raw is None else raw
        self._send_stream_metrics(stream.stream_name, incoming_bytes=len(raw) + len(partition_key), incoming_records=1)
    finally:
        _notify(stream.arn, (shard_id,))
    return sequence_number, shard_id


def put_records_backend(self: Any, stream_arn: str, stream_name: str, records: list[dict[str, Any]]) -> Any:
    """moto's ``put_records``: the same checks and errors in the same order, the same answer and records.

    One function on purpose: it is the per-record hot path of every PutRecords (see bench/), written as one
    pass with its lookups in locals; split into helpers it costs a call per record."""
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
        first, shard_id = append_run(shard, run), shard.shard_id
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


def put_records_response(self: Any) -> ActionResult:
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

