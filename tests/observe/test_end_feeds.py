"""The boto3 feeds of non-bucket ends with fake clients: what each arrival carries, SNS envelopes unwrapped, each
output seen once, a table scanned at its own pace unless asked to catch up."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from emulator.observe import ends
from emulator.observe.collector import Collector
from emulator.observe.ledger import Ledger


class Client:
    def __init__(self) -> None:
        self.meta = SimpleNamespace(events=SimpleNamespace(register=lambda *a, **k: None))
        self.calls: list[str] = []


class Queue(Client):
    def __init__(self, *batches: list[dict[str, str]]) -> None:
        super().__init__()
        self.batches = list(batches)

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs["QueueUrl"])
        return {"Messages": self.batches.pop(0)} if self.batches else {}


def test_queue_feed_unwraps_sns_envelopes_and_sees_each_message_once() -> None:
    envelope = json.dumps({"Type": "Notification", "Message": '{"id": "b"}'})
    repeat = {"MessageId": "1", "Body": '{"id": "a"}'}
    queue = Queue([repeat, {"MessageId": "2", "Body": envelope}], [repeat], [{"MessageId": "3", "Body": "plain"}])
    feed = ends.QueueFeed(queue, "url")
    got = feed.drain()
    assert [(a.bucket, a.key, a.body) for a in got] == [("url", "1", b'{"id": "a"}'), ("url", "2", b'{"id": "b"}')]
    assert queue.calls == ["url", "url"]  # a receive of nothing new ends the drain
    assert [a.body for a in feed.drain()] == [b"plain"]


def test_unwrap_leaves_other_bodies_alone() -> None:
    assert ends._unwrap('{"Type": "Notification", "Message": 3}') == '{"Type": "Notification", "Message": 3}'
    assert ends._unwrap('{"Type": "Other", "Message": "x"}') == '{"Type": "Other", "Message": "x"}'
    assert ends._unwrap("not json") == "not json"


class Stream(Client):
    def __init__(self, records: dict[str, list[list[bytes]]]) -> None:
        super().__init__()
        self.records = records

    def list_shards(self, StreamName: str) -> dict[str, Any]:
        return {"Shards": [{"ShardId": s} for s in self.records]}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, str]:
        assert kwargs["ShardIteratorType"] == "TRIM_HORIZON"
        self.calls.append(f"iterator {kwargs['ShardId']}")
        return {"ShardIterator": f"{kwargs['ShardId']}:0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard, at = ShardIterator.split(":")
        pages = self.records[shard]
        page = pages[int(at)] if int(at) < len(pages) else []
        records = [{"SequenceNumber": f"{at}{i}", "Data": d} for i, d in enumerate(page)]
        return {"Records": records, "NextShardIterator": f"{shard}:{int(at) + (1 if page else 0)}"}


def test_stream_feed_reads_every_shard_from_its_start_and_continues_where_it_stopped() -> None:
    stream = Stream({"s0": [[b"a", b"b"], [b"c"]], "s1": [[b"d"]]})
    feed = ends.StreamFeed(stream, "name")
    assert sorted(a.body for a in feed.drain()) == [b"a", b"b", b"c", b"d"]
    stream.records["s0"].append([b"e"])
    assert [(a.key, a.body) for a in feed.drain()] == [("s0/20", b"e")]
    assert stream.calls == ["iterator s0", "iterator s1"]  # one iterator per shard, kept between drains


class Table(Client):
    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        super().__init__()
        self.pages = pages
        self.scans = 0

    def get_paginator(self, name: str) -> Any:
        assert name == "scan"
        table = self

        class Paginator:
            def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                assert kwargs["ExpressionAttributeNames"] == {"#k": "pk"}
                table.scans += 1
                return [{"Items": page} for page in table.pages]

        return Paginator()


def test_table_feed_names_each_key_once_as_the_event_field_and_scans_at_its_pace() -> None:
    table = Table([[{"pk": {"S": "a"}}, {"other": {"S": "x"}}], [{"pk": {"N": "5"}}, {"pk": {"N": "1.5"}}]])
    feed = ends.TableFeed(table, "t", "pk", "order_id", every_s=3600)
    got = feed.drain()
    assert [json.loads(a.body) for a in got] == [{"order_id": "a"}, {"order_id": 5}, {"order_id": 1.5}]
    assert feed.drain() == [] and table.scans == 1  # too soon for another Scan
    feed.catch_up()
    table.pages.append([{"pk": {"S": "a"}}, {"pk": {"S": "b"}}])
    assert [json.loads(a.body) for a in feed.drain()] == [{"order_id": "b"}] and table.scans == 2


def test_collector_catch_up_asks_table_feeds_to_scan_again() -> None:
    ledger = Ledger(ends=("table/t",))
    ledger.add("a")
    ledger.add("b")
    table = Table([[{"pk": {"S": "a"}}]])
    feed = ends.TableFeed(table, "t", "pk", "id", every_s=3600)
    collector = Collector(ledger, correlate="id", feeds=[(0, feed)], dead_letter_queues=[])
    collector.poll()
    table.pages.append([{"pk": {"S": "b"}}])
    collector.poll()
    assert ledger.fate(1) == "lost"
    collector.poll(catch_up=True)
    assert ledger.fate(1) == "delivered" and table.scans == 2


def test_plain_numbers_and_queue_names() -> None:
    assert ends._plain(Decimal("3")) == 3 and isinstance(ends._plain(Decimal("3")), int)
    assert ends._plain(Decimal("2.5")) == 2.5 and ends._plain("x") == "x"
    name = ends.topic_queue_name("pmu-1-", "t" * 100)
    assert name.startswith("pmu-1-pipemu-end-t") and len(name) == 79
    assert name != ends.topic_queue_name("pmu-1-", "t" * 100)
