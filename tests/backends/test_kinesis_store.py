"""The Kinesis store seam (emulator/backends/moto_seams/kinesis_store.py) keeps moto's answers exactly while
making puts O(1), reads O(log n) and concurrent producers safe."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from moto.core.utils import unix_time
from moto.kinesis.models import Record, Shard, kinesis_backends
from moto.server import ThreadedMotoServer

from emulator.backends.base import DEFAULT_ACCOUNT, DEFAULT_REGION, make_client
from emulator.backends.embedded import free_port
from emulator.backends.moto_seams import kinesis_store
from emulator.esm.kinesis_source import Boto3ShardSource


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


def _swap(install: bool) -> Iterator[None]:
    """Seam in (or out) for one test; whatever was installed before (a running backend's) comes back after."""
    was, previous = kinesis_store.installed(), kinesis_store.listener()
    kinesis_store.uninstall()
    if install:
        kinesis_store.install(None)
    try:
        yield
    finally:
        kinesis_store.uninstall()
        if was:
            kinesis_store.install(previous)


@pytest.fixture
def seam() -> Iterator[None]:
    yield from _swap(True)


@pytest.fixture
def stock() -> Iterator[None]:
    yield from _swap(False)


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
        for _ in _swap(install):
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
        for _ in _swap(install):
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

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: moto's read-then-write race shows
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
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

    for _ in _swap(True):
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
