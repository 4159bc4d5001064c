"""The Kinesis store seam (emulator/backends/moto_seams/kinesis_store.py) keeps moto's answers exactly while
making puts O(1), reads O(log n) and concurrent producers safe."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kinesis_seam import race, swap
from moto.core.utils import unix_time
from moto.kinesis.models import Record, Shard, kinesis_backends
from moto.server import ThreadedMotoServer

from emulator.backends.base import DEFAULT_ACCOUNT, DEFAULT_REGION, make_client
from emulator.backends.embedded import free_port
from emulator.backends.moto_seams import kinesis_store
from emulator.esm.streams.kinesis_source import Boto3ShardSource


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def kinesis(endpoint: str) -> Any:
    return make_client("kinesis", endpoint_url=endpoint, region=DEFAULT_REGION)


@pytest.fixture
def seam() -> Iterator[None]:
    yield from swap(True)


@pytest.fixture
def stock() -> Iterator[None]:
    yield from swap(False)


@pytest.fixture
def stream(kinesis: Any) -> Iterator[Callable[[int], str]]:
    made: list[str] = []

    def make(shards: int) -> str:
        name = f"seam-{uuid.uuid4().hex[:10]}"
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        made.append(name)
        return name

    yield make
    for name in made:
        kinesis.delete_stream(StreamName=name)


def _entries(n: int) -> list[dict[str, Any]]:
    return [{"Data": json.dumps({"i": i}).encode(), "PartitionKey": f"user-{i % 13}"} for i in range(n)]


def _read_everything(kinesis: Any, name: str) -> dict[str, Any]:
    """Every answer a consumer can get, minus arrival times (which differ between two runs)."""
    out: dict[str, Any] = {}
    shards = [s["ShardId"] for s in kinesis.list_shards(StreamName=name)["Shards"]]
    for shard in shards:
        def it(kind: str, shard: str = shard, **kw: Any) -> str:
            answer = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=kind, **kw)
            return str(answer["ShardIterator"])

        pages = []
        iterator: str | None = it("TRIM_HORIZON")
        for _ in range(12):  # Limit 7: pages, the empty read at the end, and the iterator strings themselves
            page = kinesis.get_records(ShardIterator=iterator, Limit=7)
            pages.append((page["NextShardIterator"], page["MillisBehindLatest"] >= 0,
                          [(r["SequenceNumber"], r["PartitionKey"], r["Data"]) for r in page["Records"]]))
            iterator = page["NextShardIterator"]
        at = kinesis.get_records(ShardIterator=it("AT_SEQUENCE_NUMBER", StartingSequenceNumber="5"), Limit=3)
        after = kinesis.get_records(ShardIterator=it("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber="5"))
        latest = kinesis.get_records(ShardIterator=it("LATEST"))
        out[shard] = {
            "pages": pages,
            "at": [r["SequenceNumber"] for r in at["Records"]],
            "after": [r["SequenceNumber"] for r in after["Records"]],
            "latest": latest["Records"],
            "range": kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"],
        }
    return out


def _scenario(kinesis: Any, name: str) -> tuple[list[Any], dict[str, Any]]:
    puts = [kinesis.put_records(StreamName=name, Records=_entries(40))["Records"] for _ in range(2)]
    puts.append([kinesis.put_record(StreamName=name, Data=b"one", PartitionKey="solo")])
    answers = [[(r["SequenceNumber"], r["ShardId"]) for r in batch] for batch in puts]
    return answers, _read_everything(kinesis, name)


def test_every_answer_is_moto_s_own(kinesis: Any, stream: Callable[[int], str]) -> None:
    """GIVEN the same puts into a fresh 3-shard stream WHEN read every way THEN seam and stock moto agree."""
    results = []
    for install in (False, True):
        for _ in swap(install):
            results.append(_scenario(kinesis, stream(3)))
    (stock_puts, stock_reads), (seam_puts, seam_reads) = results
    assert seam_puts == stock_puts
    # iterators name the stream, which differs between the two runs
    for shard in stock_reads:
        for a, b in zip(stock_reads[shard]["pages"], seam_reads[shard]["pages"], strict=True):
            assert a[1:] == b[1:]
            assert base64.b64decode(a[0]).split(b":")[1:] == base64.b64decode(b[0]).split(b":")[1:]
        for key in ("at", "after", "latest", "range"):
            assert seam_reads[shard][key] == stock_reads[shard][key], key


def _raw_put_records(endpoint: str, name: str) -> tuple[int, str, bytes]:
    host, port = endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    body = json.dumps({"StreamName": name, "Records": [
        {"Data": base64.b64encode(e["Data"]).decode(), "PartitionKey": e["PartitionKey"]} for e in _entries(30)]})
    connection.request("POST", "/", body, {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Kinesis_20131202.PutRecords",
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, "
                         "SignedHeaders=host, Signature=x",
    })
    response = connection.getresponse()
    return response.status, str(response.getheader("Content-Type")), response.read()


def test_put_records_response_is_byte_for_byte_moto_s(endpoint: str, stream: Callable[[int], str]) -> None:
    answers = []
    for install in (False, True):
        for _ in swap(install):
            answers.append(_raw_put_records(endpoint, stream(2)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200 and answers[0][1] == "application/x-amz-json-1.1"


def test_concurrent_producers_lose_nothing(seam: None, kinesis: Any, stream: Callable[[int], str]) -> None:
    """GIVEN 8 producers on one shard WHEN each puts 30 batches of 20 THEN all 4800 records are there, numbered
    1..4800 without gaps, each producer's records in the order it put them."""
    name = stream(1)
    errors: list[BaseException] = []

    def produce(p: int) -> None:
        try:
            for b in range(30):
                records = [{"Data": f"{p}:{b}:{i}".encode(), "PartitionKey": "k"} for i in range(20)]
                kinesis.put_records(StreamName=name, Records=records)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    race(produce, 8)  # moto's own store loses records to its read-then-write race here
    assert not errors
    arn = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
    source = kinesis_store.InProcessShardSource(arn)
    records, _, _ = source.read(source.open("shardId-000000000000", position="TRIM_HORIZON"), 100_000)
    assert [int(r.sequence_number) for r in records] == list(range(1, 4801))
    by_producer: dict[str, list[tuple[int, int]]] = {}
    for r in records:
        p, b, i = r.data.decode().split(":")
        by_producer.setdefault(p, []).append((int(b), int(i)))
    assert all(v == sorted(v) and len(v) == 600 for v in by_producer.values()) and len(by_producer) == 8


def test_in_process_reads_equal_get_records(seam: None, kinesis: Any, stream: Callable[[int], str]) -> None:
    name = stream(2)
    kinesis.put_records(StreamName=name, Records=_entries(60))
    arn = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
    local, http_ = kinesis_store.InProcessShardSource(arn), Boto3ShardSource(kinesis, arn)
    assert local.shard_ids() == http_.shard_ids()
    for shard in http_.shard_ids():
        for kwargs in ({"position": "TRIM_HORIZON"}, {"position": "LATEST"},
                       {"position": "TRIM_HORIZON", "after_sequence": "3"},
                       {"position": "AT_TIMESTAMP", "timestamp": 1.0}):
            a = local.read(local.open(shard, **kwargs), 25)
            b = http_.read(http_.open(shard, **kwargs), 25)
            assert a == b, kwargs


def test_split_and_merge_keep_working(seam: None, kinesis: Any, stream: Callable[[int], str]) -> None:
    """moto re-puts a split shard's records and swaps its dict: the index follows."""
    name = stream(1)
    kinesis.put_records(StreamName=name, Records=_entries(50))
    kinesis.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    kinesis.put_records(StreamName=name, Records=_entries(10))
    total = 0
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        seqs = [int(r["SequenceNumber"]) for r in kinesis.get_records(ShardIterator=iterator)["Records"]]
        assert seqs == list(range(1, len(seqs) + 1))
        total += len(seqs)
    assert total == 60  # moto moves a split shard's records into its children


def _shard_with(n: int) -> Any:
    shard = Shard(0, 0, 2**128 - 1)
    for i in range(n):
        shard.put_record(f"k{i % 3}", base64.b64encode(f"r{i}".encode()).decode(), "")
    return shard


@pytest.mark.parametrize(("last", "limit"), [("0", None), ("0", 1), ("0", 5), ("4", 3), ("9", 100), ("12", 2)])
def test_get_records_agrees_with_moto_s_scan(seam: None, last: str, limit: int | None) -> None:
    shard = _shard_with(10)
    original = kinesis_store._originals["shard.get_records"]
    expected = original(shard, last, limit)
    assert shard.get_records(last, limit) == expected
    assert shard.get_min_sequence_number() == kinesis_store._originals["shard.get_min_sequence_number"](shard)
    assert shard.get_max_sequence_number() == kinesis_store._originals["shard.get_max_sequence_number"](shard)


def test_sequence_number_at_timestamp_agrees(seam: None) -> None:
    shard = _shard_with(6)
    original = kinesis_store._originals["shard.get_sequence_number_at"]
    stamps = [r.created_at for r in shard.records.values()]
    for t in [0.0, stamps[0], stamps[2], stamps[2] + 1e-7, stamps[-1] + 1, *stamps]:
        assert shard.get_sequence_number_at(t) == original(shard, t)
    assert Shard(1, 0, 1).get_sequence_number_at(5.0) == 0


def test_compact_record_matches_moto_s_record(seam: None) -> None:
    compact = kinesis_store.CompactRecord("pk", base64.b64encode(b"hello").decode(), 7, "")
    moto = Record("pk", base64.b64encode(b"hello").decode(), 7, "")
    moto.created_at_datetime = compact.created_at_datetime
    moto.created_at = unix_time(moto.created_at_datetime)
    assert compact.to_json() == moto.to_json()
    assert compact.data == moto.data and compact.raw == b"hello"
    assert compact.created_at == moto.created_at
    assert isinstance(compact.created_at_datetime, datetime) and compact.created_at_datetime.tzinfo is None


def test_listener_hears_each_put_and_cannot_break_it(kinesis: Any, stream: Callable[[int], str]) -> None:
    heard: list[tuple[str, frozenset[str]]] = []

    def listener(arn: str, shards: frozenset[str]) -> None:
        heard.append((arn, shards))
        raise RuntimeError("a buggy listener")

    for _ in swap(True):
        kinesis_store.install(listener)
        name = stream(2)
        arn = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
        kinesis.put_records(StreamName=name, Records=_entries(20))
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="solo")
    assert heard[0] == (arn, frozenset({"shardId-000000000000", "shardId-000000000001"}))
    assert heard[1][0] == arn and len(heard[1][1]) == 1 and len(heard) == 2


def test_uninstall_restores_moto(stock: None) -> None:
    kinesis_store.install(None)
    kinesis_store.uninstall()
    assert not kinesis_store.installed()
    backend = kinesis_backends[DEFAULT_ACCOUNT][DEFAULT_REGION]
    assert type(backend).put_records.__module__ == "moto.kinesis.models"
    assert Shard.get_records.__module__ == "moto.kinesis.models"


# -- PutRecords / PutRecord: the seam's own path against moto's, in process ------------------------------------
_ACCOUNTS = iter(range(10**11, 10**12))  # a fresh account per run: its own backends and CloudWatch metrics
_B64 = base64.b64encode


def _backend(shards: int, account: str = "") -> Any:
    """A backend of its own (not the shared one the HTTP tests use), with a stream "s"."""
    from moto.kinesis.models import KinesisBackend

    backend = KinesisBackend(DEFAULT_REGION, account or f"{next(_ACCOUNTS):012d}")
    backend.create_stream("s", shards)
    return backend


def _b64(data: bytes) -> str:
    return _B64(data).decode()


def _stored(record: Any) -> tuple[Any, ...]:
    """What a consumer gets from a stored record, minus its arrival time (which differs between two runs)."""
    try:
        data: Any = record.raw if type(record) is kinesis_store.CompactRecord else base64.b64decode(record.data)
    except (TypeError, ValueError):  # moto stored data it cannot decode: compare what it stored
        data = ("undecodable", record.data)
    return record.sequence_number, record.partition_key, data, record.explicit_hash_key


def _outcome(call: Callable[..., Any], *args: Any) -> Any:
    try:
        return ("ok", call(*args))
    except Exception as exc:  # the same type and text (JSON error type and message) on both sides
        return ("error", type(exc), str(exc))


Op = tuple[Any, ...]


def _run(install: bool, shards: int, ops: list[Op], listener: Any = None, account: str = "") -> dict[str, Any]:
    """Apply ``ops`` to a fresh stream with the seam in (or out); every answer, the records left in every shard,
    the shards' ranges and the CloudWatch metrics moto sent."""
    from moto.cloudwatch.models import cloudwatch_backends
    answers: list[Any] = []
    for _ in swap(install):
        if install:
            kinesis_store.install(listener)
        account = account or f"{next(_ACCOUNTS):012d}"
        sent = cloudwatch_backends[account][DEFAULT_REGION].metric_data
        already = len(sent)
        backend = _backend(shards, account)
        stream = backend.streams["s"]
        for op in ops:
            if op[0] == "records":
                answers.append(_outcome(backend.put_records, None, op[1], op[2]))
            elif op[0] == "record":
                answers.append(_outcome(backend.put_record, None, "s", *op[1:]))
            elif op[0] == "split":
                open_shards = [s for s in stream.shards.values() if s.is_open]
                shard = open_shards[op[1] % len(open_shards)]
                at = shard.starting_hash + 1 + max(shard.ending_hash - shard.starting_hash - 2, 0) * op[2] // 2**20
                answers.append(_outcome(backend.split_shard, None, "s", shard.shard_id, str(at)))
            elif op[0] == "scale":
                answers.append(_outcome(backend.update_shard_count, None, "s", op[1]))
            elif op[0] == "range":  # moto never does this: a shard's range changed in place
                shard = list(stream.shards.values())[op[1]]
                shard.starting_hash, shard.ending_hash = op[2], op[3]
        metrics = [
            (m.name, m.value, [(d.name, d.value) for d in m.dimensions])
            for m in cast(list[Any], sent[already:])
            if m.namespace == "AWS/Kinesis"
        ]
        records = {sid: [_stored(r) for r in s.records.values()] for sid, s in stream.shards.items()}
        ranges = [(sid, s.starting_hash, s.ending_hash, s.is_open) for sid, s in stream.shards.items()]
    return {"answers": answers, "records": records, "ranges": ranges, "metrics": metrics}


def _same_as_moto(shards: int, ops: list[Op]) -> dict[str, Any]:
    account = f"{next(_ACCOUNTS):012d}"  # errors name it
    stock, seam = _run(False, shards, ops, account=account), _run(True, shards, ops, account=account)
    assert seam["answers"] == stock["answers"]
    assert seam["records"] == stock["records"]
    assert seam["ranges"] == stock["ranges"]
    assert seam["metrics"] == stock["metrics"]
    return stock


_STEP7 = 2**128 // 7
_EDGE_HASH_KEYS = [  # shards' first and last keys: moto's scan never places a shard's ending_hash
    str(k) for k in (0, 1, _STEP7 - 1, _STEP7, 2 * _STEP7 - 1, 2**127 - 1, 2**127, 2**128 - 2, 2**128 - 1)
]
_WEIRD_HASH_KEYS = [str(2**128), "-1", "abc", " 42 ", "1_000", ""]
_WEIRD_KEYS = ["", "k" * 256, "k" * 257, "é\u2603", "\ud800"]
_WEIRD_DATA = ["", "aGVsbG8", "aGVs\nbG8=", "é", "!!!!", "aGVsbG8=="]

keys = st.one_of(st.sampled_from([f"user-{i}" for i in range(12)]), st.text(max_size=12))
hash_keys = st.one_of(st.integers(0, 2**128 - 1).map(str), st.sampled_from(_EDGE_HASH_KEYS))
clean_record = st.fixed_dictionaries(
    {"Data": st.binary(max_size=40).map(_b64), "PartitionKey": keys}, optional={"ExplicitHashKey": hash_keys}
)
weird_record = st.fixed_dictionaries(
    {},
    optional={
        "Data": st.one_of(st.binary(max_size=8).map(_b64), st.sampled_from(_WEIRD_DATA), st.none(), st.integers()),
        "PartitionKey": st.one_of(keys, st.sampled_from(_WEIRD_KEYS), st.none(), st.integers()),
        "ExplicitHashKey": st.one_of(hash_keys, st.sampled_from(_WEIRD_HASH_KEYS), st.none(), st.integers()),
    },
)
batches = st.lists(st.one_of(clean_record, clean_record, clean_record, weird_record), max_size=40)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("records"), st.just("s"), batches),
        st.tuples(st.just("records"), st.just("s"), st.lists(clean_record, max_size=60)),
        st.tuples(st.just("record"), keys, st.one_of(st.none(), hash_keys), st.binary(max_size=20).map(_b64)),
        st.tuples(
            st.just("record"),
            st.one_of(keys, st.sampled_from(_WEIRD_KEYS)),
            st.one_of(st.none(), hash_keys, st.sampled_from(_WEIRD_HASH_KEYS)),
            st.one_of(st.binary(max_size=8).map(_b64), st.sampled_from(_WEIRD_DATA)),
        ),
        st.tuples(st.just("split"), st.integers(0, 20), st.integers(0, 2**20)),
        st.tuples(st.just("scale"), st.integers(1, 9)),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shards=st.integers(1, 7), ops=ops)
def test_puts_answer_and_store_what_moto_does(shards: int, ops: list[Op]) -> None:
    """GIVEN any puts (odd keys, hash keys on shard edges, bad base64, missing fields), splits and rescales
    WHEN run by moto and by the seam THEN the answers, errors, records left in each shard and metrics agree."""
    _same_as_moto(shards, ops)


def _put(*records: dict[str, Any]) -> Op:
    return ("records", "s", list(records))


def _rec(key: Any = "k", data: bytes = b"d", **extra: Any) -> dict[str, Any]:
    return {"Data": _b64(data), "PartitionKey": key, **extra}


def _first_error(outcome: dict[str, Any]) -> Any:
    return next(a for a in outcome["answers"] if a[0] == "error")


def test_a_full_batch_on_seven_shards_after_a_split() -> None:
    batch = _put(*(_rec(f"user-{i % 57}", f"{i}".encode() * 20) for i in range(500)))
    outcome = _same_as_moto(7, [batch, ("split", 3, 2**18), batch, ("scale", 5), batch])
    assert [a[0] for a in outcome["answers"]] == ["ok"] * 5
    assert len(outcome["ranges"]) > 7  # the later batches were routed over a changed layout


@pytest.mark.parametrize(
    ("batch", "error"),
    [
        (_put(*(_rec() for _ in range(501))), "TooManyRecords"),
        (_put(_rec(), _rec(data=b"x" * 1_048_576)), "RecordSizeExceedsLimit"),  # 1 MiB + the key's byte
        (_put(_rec(key="k" * 300), _rec(data=b"x" * 1_048_577)), "RecordSizeExceedsLimit"),  # before the key's
        (_put(_rec(), _rec(data=b"x" * 1_048_577), _rec(), _rec(data=b"x" * 1_048_577)), "RecordSizeExceedsLimit"),
        (_put(*(_rec(data=b"x" * 1_000_000) for _ in range(6))), "TotalRecordsSizeExceedsLimit"),
        (_put(*(_rec(data=b"x" * 1_048_577) for _ in range(6))), "TotalRecordsSizeExceedsLimit"),  # first
        (("records", "missing", [_rec()]), "StreamNotFoundError"),
        (("records", "missing", [_rec() for _ in range(501)]), "StreamNotFoundError"),  # the stream first
        (_put(_rec(), _rec(ExplicitHashKey="abc"), _rec()), "ValueError"),
        (_put(_rec(), _rec(), _rec(ExplicitHashKey=str(2**128))), "InvalidArgumentError"),
        (_put(_rec(), _rec(ExplicitHashKey=7)), "InvalidArgumentError"),
        (_put(_rec(), _rec(ExplicitHashKey=str(2**128 - 1))), "AttributeError"),  # the last key: no shard
        (_put(_rec(), _rec(ExplicitHashKey="-1")), "AttributeError"),
        (_put(_rec(), _rec(key="k" * 257)), "InvalidArgumentError"),
        (_put(_rec(), {"Data": _b64(b"d")}), "InvalidArgumentError"),  # no partition key
        (_put(_rec(), _rec(key=None), {"Data": "a"}), "TypeError"),  # sizes first: len(None)
        (_put(_rec(key="k" * 257), _rec(data=b"x" * 1_048_577)), "RecordSizeExceedsLimit"),  # sizes before keys
        (_put(_rec(), _rec(key=["a"]), _rec(data=b"x" * 1_048_577)), "RecordSizeExceedsLimit"),
        (_put(_rec(), _rec(key=["a"]), _rec()), "InvalidArgumentError"),
        (_put(_rec(), {"Data": "aGVsbG8", "PartitionKey": "k"}), "Error"),  # bad padding: binascii.Error
        (_put(_rec(), {"Data": "é", "PartitionKey": "k"}), "ValueError"),
        (_put(_rec(), {"Data": None, "PartitionKey": "k"}), "TypeError"),
    ],
)
def test_each_error_is_moto_s(batch: Op, error: str) -> None:
    """GIVEN a batch moto refuses WHEN put THEN the same error, and the records before a refused one stored."""
    outcome = _same_as_moto(2, [_put(_rec("before")), batch])
    assert _first_error(outcome)[1].__name__ == error


def test_records_without_data_are_stored_as_moto_stores_them() -> None:
    """moto stores a record without Data as None (reading it fails later): so does the seam."""
    outcome = _same_as_moto(1, [_put(_rec(), {"PartitionKey": "k"}, _rec())])
    assert [r[2] for r in outcome["records"]["shardId-000000000000"]] == [b"d", ("undecodable", None), b"d"]


def test_put_record_errors_and_bad_base64_are_moto_s() -> None:
    """moto's PutRecord stores bad base64 before its metrics fail on it: so does the seam."""
    outcome = _same_as_moto(2, [
        ("record", "k", None, _b64(b"fine")),
        ("record", "k", None, "aGVsbG8"),
        ("record", "k" * 257, None, _b64(b"x")),
        ("record", "k", str(2**128 - 1), _b64(b"x")),
        ("record", "k", "12", b"aGk="),  # bytes in process: moto's code
    ])
    assert [a[0] for a in outcome["answers"]] == ["ok", "error", "error", "error", "ok"]
    stored = sorted(repr(r[2]) for shard in outcome["records"].values() for r in shard)
    assert stored == ["('undecodable', 'aGVsbG8')", "b'fine'", "b'hi'"]


def test_listener_hears_the_records_stored_before_a_refused_one() -> None:
    heard: list[tuple[str, frozenset[str]]] = []
    _run(True, 2, [_put(_rec("a"), _rec("b", ExplicitHashKey=str(2**128)))], lambda a, s: heard.append((a, s)))
    assert len(heard) == 1 and len(heard[0][1]) == 1


def test_routes_follow_a_replaced_shard_range() -> None:
    """A partition key's shard is remembered per layout: a shard whose range changes starts over."""
    for _ in swap(True):
        backend = _backend(2)
        first, second = backend.streams["s"].shards.values()
        keys = [f"k{i}" for i in range(40)]
        before = backend.put_records(None, "s", [_rec(k) for k in keys])["Records"]
        first.ending_hash, second.starting_hash = 0, 0  # everything to the second shard now
        after = backend.put_records(None, "s", [_rec(k) for k in keys])["Records"]
    assert {r["ShardId"] for r in before} == {first.shard_id, second.shard_id}
    assert {r["ShardId"] for r in after} == {second.shard_id}


def test_routes_are_moto_s_over_any_ranges() -> None:
    """Shard ranges moto itself never makes (past 2**128, overlapping, changed in place) still route as moto
    routes, or fail as it fails."""
    keys = [_rec(f"k{i}") for i in range(30)]
    _same_as_moto(2, [
        _put(*keys),
        ("range", 1, 2**127, 2**130),
        _put(*keys, _rec(ExplicitHashKey=str(2**128 - 1)), _rec(ExplicitHashKey=str(2**128))),
        ("range", 0, 0, 2**130),
        _put(*keys, _rec(ExplicitHashKey=str(2**129))),
        ("record", "k", str(2**128), _b64(b"x")),
    ])


def test_moto_s_own_lambda_mappings_get_moto_s_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream moto still delivers to itself (mappings not taken over by pipemu) goes record by record."""
    import moto.awslambda.utils

    sent: list[list[tuple[str, str]]] = []

    class Lambda:
        def send_kinesis_message(self, **kw: Any) -> None:
            sent[-1].append((kw["kinesis_sequence_number"], kw["kinesis_shard_id"]))

    class Mapping:
        function_arn = "arn:aws:lambda:us-east-1:123456789012:function:f"

    monkeypatch.setattr(moto.awslambda.utils, "get_backend", lambda *_: Lambda())
    answers = []
    for install in (False, True):
        for _ in swap(install):
            sent.append([])
            backend = _backend(2)
            backend.streams["s"].lambda_event_source_mappings["arn:aws:lambda:us-east-1:1:m"] = Mapping()
            answers.append((backend.put_records(None, "s", [_rec(f"k{i}") for i in range(20)]),
                            backend.put_record(None, "s", "solo", None, _b64(b"x"))))
    assert answers[0] == answers[1] and sent[0] == sent[1] and len(sent[0]) == 21


def test_concurrent_batches_on_many_shards_lose_nothing(seam: None) -> None:
    """GIVEN 6 threads putting batches across 3 shards in process WHEN done THEN every shard is numbered 1..n
    without gaps and each thread's records for a shard are in the order it put them."""
    backend = _backend(3)

    def produce(p: int) -> None:
        for b in range(40):
            backend.put_records(None, "s", [_rec(f"key-{i % 9}", f"{p}:{b}:{i}".encode()) for i in range(50)])

    race(produce, 6)
    total = 0
    for shard in backend.streams["s"].shards.values():
        seqs = list(shard.records)
        assert seqs == list(range(1, len(seqs) + 1))
        by_producer: dict[str, list[tuple[int, int]]] = {}
        for r in shard.records.values():
            p, b, i = r.raw.decode().split(":")
            by_producer.setdefault(p, []).append((int(b), int(i)))
        assert all(v == sorted(v) for v in by_producer.values())
        total += len(seqs)
    assert total == 6 * 40 * 50


def test_compact_records_from_a_batch_match_moto_s_records(seam: None) -> None:
    backend = _backend(1)
    backend.put_records(None, "s", [_rec("pk", b"hello", ExplicitHashKey="5")])
    stored = backend.streams["s"].shards["shardId-000000000000"].records[1]
    moto = Record("pk", _b64(b"hello"), 1, "5")
    moto.created_at_datetime = stored.created_at_datetime
    moto.created_at = unix_time(moto.created_at_datetime)
    assert type(stored) is kinesis_store.CompactRecord
    assert stored.to_json() == moto.to_json() and stored.data == moto.data and stored.created_at == moto.created_at
    assert stored.explicit_hash_key == "5" and stored.partition_key is sys.intern("pk")
