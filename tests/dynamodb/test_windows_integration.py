"""Tumbling windows end to end on the embedded backend, time-scaled: a Kinesis and a DynamoDB Streams mapping
sum their records in state and print the total in the final invocation of each window."""

from __future__ import annotations

import json

from lambda_functions import create_function
from test_stream_mapping import _table
from waiting import wait_for

ROLLUP = """\
import base64, json

def value(record):
    if "kinesis" in record:
        return json.loads(base64.b64decode(record["kinesis"]["data"]))["n"]
    return int(record["dynamodb"]["NewImage"]["n"]["N"])

def handler(event, context):
    total = event["state"].get("total", 0) + sum(value(r) for r in event["Records"])
    if event["isFinalInvokeForWindow"]:
        print(json.dumps({"final": total, "window": event["window"], "shard": event["shardId"]}))
    return {"state": {"total": total}}
"""


def _finals(pipemu, function: str) -> list[dict]:
    return [json.loads(line) for i in list(pipemu.backend.invocations) if i.function == function
            for line in i.logs.splitlines() if line.startswith('{"final"')]


def test_kinesis_and_dynamodb_windows_hand_their_totals_to_the_final_invocation(pipemu) -> None:
    clock = pipemu.backend.clock
    before = clock.scale
    clock.set_scale(60)  # a 60 s window closes about a second after its last record
    try:
        create_function(pipemu, "rollup-k", ROLLUP)
        create_function(pipemu, "rollup-d", ROLLUP)
        kinesis, lam = pipemu.client("kinesis"), pipemu.client("lambda")
        kinesis.create_stream(StreamName="w", ShardCount=1)
        stream_arn = kinesis.describe_stream_summary(StreamName="w")["StreamDescriptionSummary"]["StreamARN"]
        table_arn = _table(pipemu, "w-items")
        for function, arn in (("rollup-k", stream_arn), ("rollup-d", table_arn)):
            lam.create_event_source_mapping(FunctionName=function, EventSourceArn=arn, StartingPosition="TRIM_HORIZON",
                                            BatchSize=2, TumblingWindowInSeconds=60)
        kinesis.put_records(StreamName="w", Records=[{"Data": json.dumps({"n": n}), "PartitionKey": "k"}
                                                     for n in range(1, 6)])
        for n in range(1, 6):
            pipemu.client("dynamodb").put_item(TableName="w-items", Item={"pk": {"S": f"i{n}"}, "n": {"N": str(n)}})
        for function in ("rollup-k", "rollup-d"):
            finals = wait_for(f"{function}'s final invocations", lambda f=function: _finals(pipemu, f),
                              lambda found: sum(x["final"] for x in found) >= 15, 60)
            assert sum(x["final"] for x in finals) == 15, finals
            assert all(x["window"]["end"] > x["window"]["start"] for x in finals)
        mapping = lam.list_event_source_mappings(FunctionName="rollup-d")["EventSourceMappings"][0]
        assert mapping["TumblingWindowInSeconds"] == 60
    finally:
        clock.set_scale(before)
