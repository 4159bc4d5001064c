"""Kinesis mapping behaviour that no AWS snapshot records (upstream never sets BisectBatchOnFunctionError or
ParallelizationFactor), checked against the AWS documentation on the embedded backend.

https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#services-kinesis-errors (bisect, on-failure)
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#kinesis-polling-and-batching (parallelization)
"""

from __future__ import annotations

import json
from itertools import pairwise

from esm_kit import Kit, wait_for

from emulator.esm.streams.lanes import lane_of


def test_one_poison_record_in_a_batch_of_100_with_bisect_and_two_retries(kit: Kit, time_scale) -> None:
    # GIVEN 100 records, record 38 poison, put before a TRIM_HORIZON mapping so they form one batch of 100
    time_scale(10)
    url, queue_arn = kit.queue()
    function = kit.function("recorder")
    stream, arn = kit.stream()
    kit.put(stream, [(json.dumps({"i": i, "poison": i == 37}), f"key-{i % 7}") for i in range(100)])
    poison_seq = kit.kinesis.get_records(
        ShardIterator=kit.kinesis.get_shard_iterator(
            StreamName=stream, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    )["Records"][37]["SequenceNumber"]
    # WHEN a mapping with BisectBatchOnFunctionError and MaximumRetryAttempts 2 processes them
    kit.mapping(
        FunctionName=function,
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=100,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
    )
    payload = kit.receive(url, timeout=30)
    kit.settle()
    # THEN exactly one on-failure message, for the poison record alone
    [message] = payload["Messages"]
    assert kit.queue_depth(url) == 1
    body = json.loads(message["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3  # the lone record: 1 + MaximumRetryAttempts
    assert body["responseContext"]["functionError"] == "Unhandled"
    info = body["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison_seq
    # and every other record was delivered in exactly one successful invocation
    calls = kit.logged(function)
    assert len(calls[0]["seqs"]) == 100  # the first invocation had the whole batch
    succeeded = [seq for call in calls if not call["failed"] for seq in call["seqs"]]
    assert len(succeeded) == 99 and len(set(succeeded)) == 99
    assert poison_seq not in succeeded
    assert sum(call["seqs"] == [poison_seq] for call in calls) == 3


def test_parallelization_factor_runs_batches_of_one_shard_concurrently_per_key_in_order(kit: Kit) -> None:
    # GIVEN 8 partition keys spread over the lanes of ParallelizationFactor 4, 5 records each, one shard
    keys = [f"key-{i}" for i in range(8)]
    assert len({lane_of(k, 4) for k in keys}) >= 2
    function = kit.function("recorder", env={"SLEEP_S": "0.3"})
    stream, arn = kit.stream()
    kit.put(stream, [(json.dumps({"n": n}), key) for n in range(5) for key in keys])
    # WHEN a mapping with ParallelizationFactor 4 and BatchSize 3 reads them
    kit.mapping(
        FunctionName=function,
        EventSourceArn=arn,
        StartingPosition="TRIM_HORIZON",
        BatchSize=3,
        ParallelizationFactor=4,
    )
    wait_for("40 records", lambda: kit.logged(function), lambda c: sum(len(x["seqs"]) for x in c) >= 40, 30)
    kit.settle()
    calls = sorted(kit.logged(function), key=lambda c: c["start"])
    # THEN every record once,
    delivered = [s for c in calls for s in c["seqs"]]
    assert len(delivered) == len(set(delivered)) == 40
    # batches overlapped in time, but never two holding the same key,
    overlapping = [(x, y) for i, x in enumerate(calls) for y in calls[i + 1 :] if y["start"] < x["end"]]
    assert overlapping, "no two batches of the shard were ever in flight together"
    for x, y in overlapping:
        assert not set(x["keys"]) & set(y["keys"])
    # and each key's records arrived in sequence order
    for key in keys:
        seqs = [int(s) for c in calls for k, s in zip(c["keys"], c["seqs"], strict=True) if k == key]
        assert len(seqs) == 5
        assert all(a < b for a, b in pairwise(seqs))
