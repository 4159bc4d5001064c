"""The Kinesis store's columnar shard records (emulator/backends/moto_seams/kinesis_log.py): a dict for every use
moto makes of ``Shard.records``, and about 20 bytes a record besides the data."""

from __future__ import annotations

import base64
import gc
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kinesis_seam import swap
from moto.kinesis.models import Record, Shard, kinesis_backends

from emulator.backends.moto_seams import kinesis_records, kinesis_store
from emulator.backends.moto_seams.kinesis_log import _EPOCH, CompactRecord, ShardLog

_ACCOUNTS = iter(range(2 * 10**11, 3 * 10**11))


@pytest.fixture
def seam() -> Iterator[None]:
    yield from swap(True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _backend(shards: int) -> Any:
    """A backend of its own (a fresh account), registered where ``InProcessShardSource`` looks, with stream "s"."""
    backend = kinesis_backends[f"{next(_ACCOUNTS):012d}"]["us-east-1"]
    backend.create_stream("s", shards)
    return backend


def _fields(record: Any) -> tuple[Any, ...]:
    if type(record) is not CompactRecord:
        return ("object", id(record))  # kept as it was given
    return (record.sequence_number, record.partition_key, record.raw, record.explicit_hash_key, record._us)


def _compact(seq: int, key: str = "k", raw: bytes = b"d", hash_key: Any = None, us: int = 10**15) -> CompactRecord:
    record = CompactRecord(key, _b64(raw), seq, hash_key)
    record._us = us
    return record


def _same(log: ShardLog, model: dict[Any, Any]) -> None:
    """``log`` answers every mapping question as the dict ``model`` does."""
    assert len(log) == len(model) and bool(log) == bool(model)
    assert list(log) == list(model) and list(log.keys()) == list(model.keys())
    assert [_fields(v) for v in log.values()] == [_fields(v) for v in model.values()]
    assert [(k, _fields(v)) for k, v in log.items()] == [(k, _fields(v)) for k, v in model.items()]
    assert list(reversed(log)) == list(reversed(model))
    assert list(reversed(log.keys())) == list(reversed(model.keys()))
    assert [_fields(v) for v in reversed(log.values())] == [_fields(v) for v in reversed(model.values())]
    assert [k for k, _ in reversed(log.items())] == list(reversed(model))
    for key in [*model, 0, -1, max(model, default=0) + 1, "x", None]:
        assert (key in log) == (key in model)
        assert _fields(log.get(key)) == _fields(model.get(key)) if key in model else log.get(key) is None
    if model:
        assert next(reversed(log)) == next(reversed(model)) and list(log.keys())[-1] == list(model.keys())[-1]


def test_a_log_is_a_dict_for_moto_s_uses(seam: None) -> None:
    """GIVEN a shard with puts through the seam WHEN its records are read every way moto reads them THEN they
    are what a dict of the same records answers."""
    shard = Shard(0, 0, 2**128 - 1)
    for i in range(5):
        shard.put_record(f"k{i % 2}", _b64(f"r{i}".encode()), "7" if i == 3 else None)
    kinesis_records.append_run(shard, [("k9", b"x" * i, None) for i in range(4)])
    log = shard.records
    assert type(log) is ShardLog
    model = {key: log[key] for key in log}
    assert list(model) == list(range(1, 10))
    _same(log, model)
    assert log[4].explicit_hash_key == "7" and log[5].explicit_hash_key is None and log[9].raw == b"xxx"
    assert log[1] == log[1] and hash(log[1]) == hash(log[1]) and log[1] != log[2]  # two reads: equal objects
    with pytest.raises(KeyError):
        log[10]
    assert log == model and dict(log) == model


def test_moto_s_own_shard_code_works_on_a_log(seam: None) -> None:
    """moto's Shard methods (what runs after the seam is uninstalled) read and append to a log as to its dict."""
    shard = Shard(0, 0, 2**128 - 1)
    kinesis_records.append_run(shard, [(f"k{i}", f"r{i}".encode(), None) for i in range(6)])
    moto = {key: kinesis_store._originals[f"shard.{key}"] for key in (
        "get_records", "put_record", "get_min_sequence_number", "get_max_sequence_number", "get_sequence_number_at")}
    for last, limit in [("0", None), ("2", 2), ("6", None)]:
        assert moto["get_records"](shard, last, limit) == shard.get_records(last, limit)
    assert moto["get_min_sequence_number"](shard) == 1 and moto["get_max_sequence_number"](shard) == 6
    stamp = shard.records[3].created_at
    assert moto["get_sequence_number_at"](shard, stamp + 1) == shard.get_sequence_number_at(stamp + 1) == 6
    assert moto["put_record"](shard, "m", _b64(b"moto"), None) == "7"  # a moto Record, kept as it is
    assert type(shard.records[7]) is Record and shard.get_records("6", None)[0] == [shard.records[7]]
    assert shard.put_record("n", _b64(b"seam"), None) == "8" and shard.records[8].raw == b"seam"


def test_a_key_out_of_sequence_turns_the_log_into_a_dict(seam: None) -> None:
    """GIVEN a log WHEN a record is replaced, one is put at a gap, and one deleted THEN it keeps answering as a
    dict given the same assignments, and the seam's puts and reads go on (numbers after the largest)."""
    shard = Shard(0, 0, 2**128 - 1)
    kinesis_records.append_run(shard, [("k", b"a", None), ("k", b"b", None), ("k", b"c", None)])
    log: ShardLog = shard.records
    model = dict(log.items())
    replacement = _compact(2, raw=b"B")
    log[2] = model[2] = replacement  # replaced in place: still columns, the value as given
    _same(log, model)
    log[10] = model[10] = _compact(10, raw=b"gap")
    log[6] = model[6] = _compact(6, raw=b"six")  # before the largest: insertion order, as a dict keeps it
    _same(log, model)
    del log[1]
    del model[1]
    _same(log, model)
    assert shard.put_record("k", _b64(b"next"), None) == "11"
    assert [r.sequence_number for r in shard.get_records("0", None)[0]] == [2, 3, 6, 10, 11]  # sorted, as before
    assert shard.get_min_sequence_number() == 2 and shard.get_max_sequence_number() == 11
    assert kinesis_records.append_run(shard, [("k", b"z", None)]) == 12 and len(log) == 6
    log.clear()
    assert len(log) == 0 and kinesis_records.append_run(shard, [("k", b"z", None)]) == 1


def test_any_mapping_moto_assigns_becomes_a_log_with_its_records(seam: None) -> None:
    """moto's split_shard swaps the parent's records for a new OrderedDict and re-puts them (moto routes them by
    range over every shard, the closed parent first): the new dict is replaced by a log, the records kept."""
    backend = _backend(1)
    backend.put_records(None, "s", [{"Data": _b64(f"{i}".encode()), "PartitionKey": f"k{i}"} for i in range(40)])
    parent = backend.streams["s"].shards["shardId-000000000000"]
    old = parent.records
    backend.split_shard(None, "s", parent.shard_id, str(2**127))
    assert parent.records is not old and type(parent.records) is ShardLog
    assert list(parent.records) == list(range(1, 41)) and [int(r.raw) for r in old.values()] == list(range(40))
    assert sorted(int(r.raw) for s in backend.streams["s"].shards.values() for r in s.records.values()) == list(
        range(40))
    shard = Shard(5, 0, 1)
    moto_record = Record("m", _b64(b"m"), 2, None)
    shard.records = OrderedDict([(1, _compact(1)), (2, moto_record)])
    assert shard.get_max_sequence_number() == 2 and shard.records[2] is moto_record
    assert _fields(shard.records[1]) == _fields(_compact(1))


_values = st.one_of(
    st.tuples(st.just("compact"), st.sampled_from(["a", "é"]), st.binary(max_size=6), st.sampled_from([None, "", "9"])),
    st.tuples(st.just("object")),
    st.tuples(st.just("misnumbered")),
)
_ops = st.lists(st.one_of(
    st.tuples(st.just("next"), _values),
    st.tuples(st.just("set"), st.integers(-2, 30), _values),
    st.tuples(st.just("del"), st.integers(-2, 30)),
    st.tuples(st.just("run"), st.integers(0, 4)),
), max_size=25)


@settings(max_examples=200, deadline=None)
@given(ops=_ops)
def test_a_log_answers_as_a_dict_after_any_assignments(ops: list[tuple[Any, ...]]) -> None:
    log, model = ShardLog(), {}

    def value(spec: tuple[Any, ...], key: int) -> Any:
        if spec[0] == "compact":
            return _compact(key, spec[1], spec[2], spec[3], us=10**15 + key)
        return _compact(key + 1) if spec[0] == "misnumbered" else Record("k", "", key, None)

    for op in ops:
        if op[0] == "next":
            key = max(model, default=0) + 1
            log[key] = model[key] = value(op[1], key)
        elif op[0] == "set":
            log[op[1]] = model[op[1]] = value(op[2], op[1])
        elif op[0] == "del":
            if op[1] in model:
                del log[op[1]], model[op[1]]
            else:
                with pytest.raises(KeyError):
                    del log[op[1]]
        else:
            first = log.extend([("r", b"x" * i, None) for i in range(op[1])], 10**15)
            assert first == max(model, default=0) + 1
            model.update((first + i, log[first + i]) for i in range(op[1]))
        _same(log, model)


def test_in_process_reads_build_no_record_and_equal_get_records(seam: None) -> None:
    backend = _backend(1)
    shard = backend.streams["s"].shards["shardId-000000000000"]
    kinesis_records.append_run(shard, [(f"k{i}", f"r{i}".encode(), None) for i in range(5)])
    shard.records[6] = Record("odd", _b64(b"moto"), 6, None)  # moto's own record among the columns
    kinesis_records.append_run(shard, [("k", b"last", None)])
    rows = kinesis_records.get_rows(shard, "0", None)
    assert [type(r) for r in rows[0]] == [tuple] * 5 + [Record, tuple]
    source = kinesis_store.InProcessShardSource(backend.streams["s"].arn)
    for general in (False, True):  # then with a gap in the numbers: the log is a dict, read as before
        if general:
            shard.records[20] = _compact(20, raw=b"after a gap", us=shard.records[7]._us + 5000)
        for last, limit in [("0", 100), ("3", 2), ("5", 1), ("6", 5), ("7", 5), ("8", 1)]:
            records, last_seq, behind = shard.get_records(last, limit)
            got, iterator, got_behind = source.read(kinesis_store.compose_shard_iterator("s", shard, last), limit)
            assert (got_behind, iterator) == (behind, kinesis_store.compose_shard_iterator("s", shard, last_seq))
            assert [r.sequence_number for r in got] == [str(r.sequence_number) for r in records]
            assert [(r.partition_key, r.data, r.arrival) for r in got] == [
                (r.partition_key, base64.b64decode(r.data), kinesis_store._wire_timestamp(r.created_at_datetime))
                for r in records]
    moto_s = kinesis_store._originals["shard.get_records"](shard, "6", 1)
    assert moto_s == shard.get_records("6", 1) and moto_s[2] in (4, 5)  # MillisBehindLatest: 5 ms, as a float


@given(us=st.integers(0, 253_402_300_799_999_999))  # to datetime.max
def test_arrival_from_microseconds_is_the_datetime_s(us: int) -> None:
    created = _EPOCH + timedelta(microseconds=us)
    assert kinesis_store._wire_timestamp_us(us) == kinesis_store._wire_timestamp(created)


def test_a_put_keeps_no_object_per_record(seam: None) -> None:
    """GIVEN 20,000 records of 150 bytes put in 500-record batches WHEN the shard is measured THEN its columns
    hold the data once and 20 bytes a record (plus the buffers' growth room: 1/8 for the data, 1/16 for the
    rest), and the puts left no Python object per record behind."""
    backend = _backend(1)
    batches = [[{"Data": _b64(bytes([b % 256]) * 150), "PartitionKey": f"user-{i % 20}"} for i in range(500)]
               for b in range(40)]
    backend.put_records(None, "s", batches[0])  # the shard's log and key table, before counting
    gc.collect()
    blocks = sys.getallocatedblocks()
    for batch in batches[1:]:
        backend.put_records(None, "s", batch)
    gc.collect()
    grown = sys.getallocatedblocks() - blocks
    log = backend.streams["s"].shards["shardId-000000000000"].records
    assert type(log) is ShardLog and len(log) == 20_000
    assert log.column_bytes() / len(log) < 150 * 1.125 + 20 * 1.0625 + 1
    assert grown < 19_500 / 5, grown  # an object per record would be 19,500 blocks at least


def test_a_reader_without_the_lock_sees_whole_records(seam: None) -> None:
    """moto's code reads ``records`` without the seam's lock: while batches land it sees whole records."""
    shard = Shard(0, 0, 2**128 - 1)
    done = threading.Event()
    bad: list[Any] = []

    def read() -> None:
        while not done.is_set():
            for seq, record in list(shard.records.items())[-50:]:
                if record.sequence_number != seq or record.raw != str(seq).encode():
                    bad.append((seq, record.raw))

    reader = threading.Thread(target=read)
    reader.start()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for b in range(200):
            kinesis_records.append_run(shard, [("k", str(b * 20 + i + 1).encode(), None) for i in range(20)])
    finally:
        done.set()
        reader.join()
        sys.setswitchinterval(interval)
    assert not bad and len(shard.records) == 4000
