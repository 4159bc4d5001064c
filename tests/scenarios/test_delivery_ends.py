"""Every kind of delivery end, end to end on the embedded backend: a handler that forwards each order to a queue,
a stream, a topic and a table (observed through boto3), with mode all and any, and a table-keyed expectation that
fails (exit 1) when the handler skips writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from emulator.cli import app

HANDLER = '''\
import json, os
import boto3

sqs, kinesis, sns, dynamodb = (boto3.client(s) for s in ("sqs", "kinesis", "sns", "dynamodb"))
SKIP = int(os.environ.get("SKIP_TABLE_EVERY", "0"))
QUEUE = sqs.get_queue_url(QueueName=os.environ["OUT_QUEUE"])["QueueUrl"]
TOPIC = sns.create_topic(Name=os.environ["OUT_TOPIC"])["TopicArn"]  # the existing topic's ARN


def handler(event, context):
    for record in event["Records"]:
        body = record["body"]
        order = json.loads(body)
        sqs.send_message(QueueUrl=QUEUE, MessageBody=body)
        kinesis.put_record(StreamName=os.environ["OUT_STREAM"], Data=body.encode(), PartitionKey="k")
        sns.publish(TopicArn=TOPIC, Message=body)
        if not SKIP or order["n"] % SKIP:
            dynamodb.put_item(TableName=os.environ["OUT_TABLE"],
                              Item={"order_id": {"S": order["order_id"]}, "n": {"N": str(order["n"])}})
'''

PIPELINE = '''\
pipeline: fanout
streams:
  out-stream: {shards: 1}
queues:
  orders: {}
  out-queue: {}
topics:
  out-topic: {}
tables:
  out-table: {key: {order_id: S}}
functions:
  fanout:
    code: handlers/
    handler: fanout.handler
    timeout: 10
    environment:
      OUT_QUEUE: out-queue
      OUT_STREAM: out-stream
      OUT_TOPIC: out-topic
      OUT_TABLE: out-table
      SKIP_TABLE_EVERY: "@SKIP@"
mappings:
  - {source: queue/orders, function: fanout, batch_size: 10}
'''

SCENARIO = '''\
scenario: fanout
pipeline: pipeline.yaml
source: queue/orders
events:
  count: 30
  fields:
    order_id: uuid4
    n: {faker: pyint, min_value: 1, max_value: 1000000}
rate: {per_second: 200}
timeout_s: 60
expect:
  delivered:
DELIVERED
'''

ALL_ENDS = '''\
    - {queue: out-queue, correlate: order_id}
    - {stream: out-stream, correlate: order_id}
    - {topic: out-topic, correlate: order_id}
    - {table: out-table, key: order_id}
    - {processed_by: fanout}
'''


def project(tmp_path: Path, delivered: str, skip: int = 0) -> Path:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "fanout.py").write_text(HANDLER)
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "pipeline.yaml").write_text(PIPELINE.replace("@SKIP@", str(skip)))
    (tmp_path / "scenario.yaml").write_text(SCENARIO.replace("DELIVERED\n", delivered))
    return tmp_path / "scenario.yaml"


def test_every_end_kind_is_reached(pipemu, tmp_path: Path) -> None:
    result = pipemu.replay(project(tmp_path, ALL_ENDS))
    assert result.passed, result.summary()
    assert result.ledger.reached_counts() == {
        "queue/out-queue": 30, "stream/out-stream": 30, "topic/out-topic": 30, "table/out-table": 30,
        "processed_by/fanout": 30,
    }
    assert result.to_json()["delivered_ends"]["mode"] == "all"


def test_mode_any_passes_with_one_end_short_and_mode_all_fails(pipemu, tmp_path: Path) -> None:
    ends = "    ends:\n      - {table: out-table, key: order_id}\n      - {queue: out-queue, correlate: order_id}\n"
    result = pipemu.replay(project(tmp_path, ends + "    mode: any\n", skip=3))
    assert result.passed, result.summary()
    reached = result.ledger.reached_counts()
    assert reached["queue/out-queue"] == 30 and reached["table/out-table"] < 30
    all_mode = tmp_path / "all.yaml"
    all_mode.write_text((tmp_path / "scenario.yaml").read_text().replace("    mode: any\n", ""))
    pipemu.backend.reset()  # the same pipeline deployed again
    failed = pipemu.replay(all_mode)
    assert not failed.passed
    [delivered] = [e for e in failed.expectations if e.name == "delivered"]
    in_table = failed.ledger.reached_counts()["table/out-table"]
    assert 0 < in_table < 30 and failed.events.delivered == in_table
    assert delivered.detail.startswith(f"{30 - in_table} missing; reached: table/out-table {in_table}, ")


def test_table_keyed_expectation_fails_with_exit_1_when_the_handler_skips_writes(tmp_path: Path) -> None:
    scenario = project(tmp_path, "    - {table: out-table, key: order_id}\n", skip=2)
    done = subprocess.run(  # a process of its own: this one already holds an embedded backend
        [sys.executable, "-m", "emulator.cli", "replay", str(scenario), "--quiet", "--report-dir",
         str(tmp_path / "out")], capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "expectation failed: delivered" in output and "table out-table" in output


@pytest.mark.parametrize("end", ["{queue: nope, correlate: order_id}", "{table: nope, key: order_id}"])
def test_validate_refuses_an_end_naming_a_missing_resource(tmp_path: Path, end: str) -> None:
    scenario = project(tmp_path, f"    - {end}\n")
    done = CliRunner().invoke(app, ["validate", str(scenario)])
    assert done.exit_code == 2, done.output
    assert "unknown" in done.output and "'nope'" in done.output and "scenario.yaml:13" in done.output


def test_validate_refuses_a_scenario_without_delivered_naming_the_function(tmp_path: Path) -> None:
    scenario = project(tmp_path, "")
    scenario.write_text(scenario.read_text().replace("  delivered:\n", "  lost: {count: 0}\n"))
    done = CliRunner().invoke(app, ["validate", str(scenario)])
    assert done.exit_code == 2, done.output
    assert "no way to judge delivery" in done.output and "processed_by: fanout" in done.output
