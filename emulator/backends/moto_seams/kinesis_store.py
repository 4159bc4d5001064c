"""Seam: moto's Kinesis store made O(1) to put, O(log n) to read, safe for concurrent producers, and able to
tell pipemu the moment records arrive; plus in-process reads for pipemu's own pollers.

The replacements live in two modules: ``kinesis_records`` (the shard store: sequence numbers, records, reads)
and ``kinesis_puts`` (PutRecord/PutRecords and the put listener). This module installs and removes them as one
seam.

Records are not trimmed when every consumer has passed them: on AWS they stay readable for the retention
period (24 h at least), and a TRIM_HORIZON or AT_TIMESTAMP iterator opened later (a new mapping, a user's
``get_records``, a mapping re-created from scratch) must still see them.

``install(listener)`` also calls ``listener(stream_arn, shard_ids)`` after every PutRecord/PutRecords that
stored something, so pollers wake on new records instead of polling on a timer.
"""

from __future__ import annotations

import calendar
import threading
from base64 import b64decode
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from moto.kinesis.exceptions import ResourceNotFoundError
from moto.kinesis.models import KinesisBackend, Shard, kinesis_backends
from moto.kinesis.responses import KinesisResponse
from moto.kinesis.utils import compose_new_shard_iterator, compose_shard_iterator, decompose_shard_iterator

from emulator.backends.moto_seams import kinesis_puts, kinesis_records
from emulator.backends.moto_seams.kinesis_puts import (
    Listener,
    put_record_backend,
    put_records_backend,
    put_records_response,
)
from emulator.backends.moto_seams.kinesis_records import (
    CompactRecord,
    get_max_sequence_number,
    get_min_sequence_number,
    get_records,
    get_rows,
    get_sequence_number_at,
    put_record,
)
from emulator.esm.streams.kinesis_events import StreamRecord
from emulator.esm.streams.kinesis_source import StreamGone

TOUCHES = (
    *kinesis_records.TOUCHES,
    *kinesis_puts.TOUCHES,
    "moto.kinesis.utils.{compose_new_shard_iterator,compose_shard_iterator,decompose_shard_iterator}",
    "moto.kinesis.exceptions.ResourceNotFoundError (base of StreamNotFoundError and ShardNotFoundError)",
)

__all__ = ["CompactRecord", "InProcessShardSource", "Listener", "install", "installed", "listener", "uninstall"]

_OWNERS: dict[str, type] = {"shard": Shard, "backend": KinesisBackend, "response": KinesisResponse}
_originals = kinesis_puts._originals  # one dict: the put path falls back to moto's functions through it
_install_lock = threading.Lock()


_REPLACEMENTS: dict[str, Callable[..., Any]] = {
    "shard.put_record": put_record,
    "shard.get_records": get_records,
    "shard.get_min_sequence_number": get_min_sequence_number,
    "shard.get_max_sequence_number": get_max_sequence_number,
    "shard.get_sequence_number_at": get_sequence_number_at,
    "backend.put_record": put_record_backend,
    "backend.put_records": put_records_backend,
    "response.put_records": put_records_response,
}


def install(listener: Listener | None = None) -> None:
    with _install_lock:
        kinesis_puts._listener = listener
        if _originals:
            return
        for key, replacement in _REPLACEMENTS.items():
            owner, name = key.split(".", 1)
            _originals[key] = getattr(_OWNERS[owner], name)
            setattr(_OWNERS[owner], name, replacement)


def uninstall() -> None:
    with _install_lock:
        kinesis_puts._listener = None
        for key, original in _originals.items():
            owner, name = key.split(".", 1)
            setattr(_OWNERS[owner], name, original)
        _originals.clear()


def installed() -> bool:
    return bool(_originals)


def listener() -> Listener | None:  # tests put it back after swapping the seam out
    return kinesis_puts._listener


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

    @contextmanager
    def _gone(self) -> Iterator[None]:
        try:
            yield
        except ResourceNotFoundError as exc:  # the stream or shard was deleted (or moto reset) under the mapping
            raise StreamGone(self._arn) from exc

    def shard_ids(self) -> list[str]:  # ListShards' first page (10,000 shards), in its order
        with self._gone():
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
        with self._gone():
            shard = self._stream().get_shard(shard_id)
        # typed int/datetime in moto, but GetShardIterator hands it the request's string and epoch number
        compose: Any = compose_new_shard_iterator
        return str(compose(self._name, shard, position, after_sequence or "", timestamp or 0.0))

    def read(self, iterator: str, limit: int) -> tuple[list[StreamRecord], str | None, int]:
        stream_name, shard_id, last_sequence_id = decompose_shard_iterator(iterator)
        with self._gone():
            shard = self._stream(stream_name).get_shard(shard_id)
        if type(shard).get_records is get_records:  # the seam's store: records in columns, read without objects
            records, last, behind_ms = get_rows(shard, last_sequence_id, limit)
        else:
            records, last, behind_ms = shard.get_records(last_sequence_id, limit)
        out = [
            StreamRecord(str(r[0]), r[1], r[2], _wire_timestamp_us(r[3]))
            if type(r) is tuple
            else StreamRecord(
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


def _wire_timestamp_us(us: int) -> float:
    """``_wire_timestamp`` of the datetime ``us`` microseconds after the epoch (what ``CompactRecord`` makes)."""
    seconds, micros = divmod(us, 1_000_000)
    return seconds + (micros // 1000) / 1000.0

