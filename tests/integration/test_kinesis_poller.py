"""The Kinesis poller on the embedded backend: batch size, window, starting positions, per-shard order,
Enabled/update/delete. Every wait is on a condition with a timeout."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from test_embedded_backend import create_function
from waiting import wait_for

RECORDER = (
    "import base64, json, boto3\n"
    "s3 = boto3.client('s3')\n"
    "def handler(event, context):\n"
    "    seqs = [r['kinesis']['sequenceNumber'] for r in event['Records']]\n"
    "    data = [json.loads(base64.b64decode(r['kinesis']['data'])) for r in event['Records']]\n"
    "    shard = event['Records'][0]['eventID'].split(':')[0]\n"
    "    s3.put_object(Bucket='calls', Key=f'{shard}/{seqs[0]}', Body=json.dumps({'seqs': seqs, 'data': data,\n"
    "                  'record': event['Records'][0]}))\n"
)




def calls(pipemu, bucket: str = "calls") -> list[dict[str, Any]]:
    s3 = pipemu.client("s3")
    out = []
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        out.append(json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()))
    return out


def setup(pipemu, shards: int = 1) -> str:
    pipemu.client("s3").create_bucket(Bucket="calls")
    create_function(pipemu, "rec", RECORDER)
    kinesis = pipemu.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=shards)
    return str(kinesis.describe_stream_summary(StreamName="s")["StreamDescriptionSummary"]["StreamARN"])


def put(pipemu, items: list[dict[str, Any]], key: str = "k") -> list[dict[str, Any]]:
    response = pipemu.client("kinesis").put_records(
        StreamName="s", Records=[{"Data": json.dumps(i).encode(), "PartitionKey": key} for i in items]
    )
    return list(response["Records"])


def mapping(pipemu, arn: str, **kwargs: Any) -> str:
    uuid = str(
        pipemu.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="rec", **kwargs)[
            "UUID"
        ]
    )
    pipemu.backend.esm.wait_synced()
    return uuid


def delivered(pipemu, bucket: str = "calls") -> list[int]:
    return sorted(d["i"] for c in calls(pipemu, bucket) for d in c["data"])


def control(pipemu, arn: str) -> None:
    """A second, enabled mapping (LATEST) on the same stream recording into bucket ``control``: once it has a
    record, a mapping that should not deliver it has had the time to do so."""
    pipemu.client("s3").create_bucket(Bucket="control")
    create_function(pipemu, "control", RECORDER.replace("'calls'", "'control'"))
    pipemu.client("lambda").create_event_source_mapping(
        EventSourceArn=arn, FunctionName="control", StartingPosition="LATEST"
    )
    pipemu.backend.esm.wait_synced()


def test_batch_size_splits_one_put_into_batches_in_sequence_order(pipemu) -> None:
    arn = setup(pipemu)
    mapping(pipemu, arn, StartingPosition="TRIM_HORIZON", BatchSize=4)
    put(pipemu, [{"i": i} for i in range(10)])
    got = wait_for("10 records", lambda: calls(pipemu), lambda c: sum(len(x["seqs"]) for x in c) == 10)
    sizes = sorted(len(c["seqs"]) for c in got)
    assert max(sizes) <= 4
    ordered = [d["i"] for c in sorted(got, key=lambda c: int(c["seqs"][0])) for d in c["data"]]
    assert ordered == list(range(10))


def test_delivered_record_has_the_aws_shape(pipemu) -> None:
    arn = setup(pipemu)
    mapping(pipemu, arn, StartingPosition="TRIM_HORIZON")
    put(pipemu, [{"i": 1}], key="test_0")
    [call] = wait_for("1 call", lambda: calls(pipemu), lambda c: len(c) == 1)
    record = call["record"]
    assert set(record) == {
        "kinesis",
        "eventSource",
        "eventVersion",
        "eventID",
        "eventName",
        "invokeIdentityArn",
        "awsRegion",
        "eventSourceARN",
    }
    assert record["eventSource"] == "aws:kinesis" and record["eventName"] == "aws:kinesis:record"
    assert record["eventID"] == f"shardId-000000000000:{record['kinesis']['sequenceNumber']}"
    assert record["eventSourceARN"] == arn
    assert record["kinesis"]["partitionKey"] == "test_0"
    assert json.loads(base64.b64decode(record["kinesis"]["data"])) == {"i": 1}
    assert len(str(int(record["kinesis"]["approximateArrivalTimestamp"]))) == 10


def test_window_gathers_separate_puts_into_one_batch(pipemu) -> None:
    arn = setup(pipemu)
    mapping(pipemu, arn, StartingPosition="TRIM_HORIZON", BatchSize=100, MaximumBatchingWindowInSeconds=2)
    put(pipemu, [{"i": 0}])
    put(pipemu, [{"i": 1}])
    put(pipemu, [{"i": 2}])
    got = wait_for("3 records", lambda: calls(pipemu), lambda c: sum(len(x["seqs"]) for x in c) == 3)
    assert len(got) == 1


def test_latest_skips_records_put_before_the_mapping(pipemu) -> None:
    arn = setup(pipemu)
    put(pipemu, [{"i": 0}, {"i": 1}])
    mapping(pipemu, arn, StartingPosition="LATEST")
    put(pipemu, [{"i": 2}])
    wait_for("record 2", lambda: delivered(pipemu), lambda d: 2 in d)
    assert delivered(pipemu) == [2]


def test_trim_horizon_reads_records_put_before_the_mapping(pipemu) -> None:
    arn = setup(pipemu)
    put(pipemu, [{"i": 0}, {"i": 1}])
    mapping(pipemu, arn, StartingPosition="TRIM_HORIZON")
    put(pipemu, [{"i": 2}])
    assert wait_for("3 records", lambda: delivered(pipemu), lambda d: len(d) == 3) == [0, 1, 2]


def test_at_timestamp_starts_at_the_given_instant(pipemu) -> None:
    arn = setup(pipemu)
    put(pipemu, [{"i": 0}])
    # The API carries StartingPositionTimestamp in whole seconds (as on AWS): cut at the next second.
    instant = float(int(time.time()) + 1)
    wait_for("the clock to pass the cut", time.time, lambda now: now > instant + 0.01, timeout=3)
    put(pipemu, [{"i": 1}])
    mapping(pipemu, arn, StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=instant)
    assert wait_for("record 1", lambda: delivered(pipemu), lambda d: 1 in d) == [1]


def test_order_is_kept_per_shard_across_many_batches(pipemu) -> None:
    arn = setup(pipemu, shards=2)
    mapping(pipemu, arn, StartingPosition="TRIM_HORIZON", BatchSize=7)
    for key in ("a", "b", "c", "d"):
        put(pipemu, [{"i": n, "key": key} for n in range(25)], key=key)
    got = wait_for("100 records", lambda: calls(pipemu), lambda c: sum(len(x["seqs"]) for x in c) == 100)
    per_shard: dict[str, list[int]] = {}
    for call in sorted(got, key=lambda c: int(c["seqs"][0])):
        shard = call["record"]["eventID"].split(":")[0]
        per_shard.setdefault(shard, []).extend(int(s) for s in call["seqs"])
    for seqs in per_shard.values():
        assert seqs == sorted(seqs)
    for key in ("a", "b", "c", "d"):
        in_order = [
            d["i"] for c in sorted(got, key=lambda c: int(c["seqs"][0])) for d in c["data"] if d["key"] == key
        ]
        assert in_order == list(range(25))


def test_disable_stops_delivery_and_enable_resumes_from_the_checkpoint(pipemu) -> None:
    arn = setup(pipemu)
    lam = pipemu.client("lambda")
    uuid = mapping(pipemu, arn, StartingPosition="TRIM_HORIZON")
    put(pipemu, [{"i": 0}])
    wait_for("record 0", lambda: delivered(pipemu), lambda d: d == [0])
    response = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert response["State"] == "Disabling"
    pipemu.backend.esm.wait_synced()
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    control(pipemu, arn)
    put(pipemu, [{"i": 1}])
    # the enabled control mapping on the same stream got record 1: a live mapping had time to deliver it
    wait_for("record 1 at the control mapping", lambda: delivered(pipemu, "control"), lambda d: d == [1])
    assert delivered(pipemu) == [0]
    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    pipemu.backend.esm.wait_synced()
    assert wait_for("record 1 after enabling", lambda: delivered(pipemu), lambda d: d == [0, 1]) == [0, 1]


def test_update_batch_size_takes_effect(pipemu) -> None:
    arn = setup(pipemu)
    lam = pipemu.client("lambda")
    uuid = mapping(pipemu, arn, StartingPosition="TRIM_HORIZON", BatchSize=1)
    response = lam.update_event_source_mapping(UUID=uuid, BatchSize=50)
    assert response["State"] == "Updating"
    pipemu.backend.esm.wait_synced()
    assert lam.get_event_source_mapping(UUID=uuid)["BatchSize"] == 50
    put(pipemu, [{"i": i} for i in range(20)])  # one PutRecords: all 20 are in the shard before the next read
    got = wait_for("20 records", lambda: calls(pipemu), lambda c: sum(len(x["seqs"]) for x in c) == 20)
    assert [len(c["seqs"]) for c in got] == [20]


def test_deleted_mapping_stops_delivering(pipemu) -> None:
    arn = setup(pipemu)
    uuid = mapping(pipemu, arn, StartingPosition="TRIM_HORIZON")
    put(pipemu, [{"i": 0}])
    wait_for("record 0", lambda: delivered(pipemu), lambda d: d == [0])
    pipemu.client("lambda").delete_event_source_mapping(UUID=uuid)
    pipemu.backend.esm.wait_synced()
    assert pipemu.backend.esm.stats()  # the mapping ran
    control(pipemu, arn)
    put(pipemu, [{"i": 1}])
    wait_for("record 1 at the control mapping", lambda: delivered(pipemu, "control"), lambda d: d == [1])
    assert delivered(pipemu) == [0]
