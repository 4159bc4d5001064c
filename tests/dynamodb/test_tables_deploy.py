"""DynamoDB tables deployed from pipeline.yaml on the embedded backend: keys, stream, TTL, a handler writing to
a table named in its environment, the report's item counts, and reset."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from emulator.observe.tables import TableSampler
from emulator.spec import load_pipeline

HANDLER = """\
import os, boto3
table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])

def handler(event, context):
    table.put_item(Item={"order_id": event["id"], "amount": event["amount"]})
    return {"written": event["id"]}
"""

PIPELINE = """\
pipeline: tables-deploy
tables:
  orders: {key: {order_id: S}, stream: NEW_AND_OLD_IMAGES, ttl: expires_at}
  totals: {key: {customer: S, day: N}}
functions:
  store:
    code: handlers
    handler: app.handler
    environment: {ORDERS_TABLE: orders}
"""


def _pipeline(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "app.py").write_text(HANDLER)
    path = tmp_path / "pipeline.yaml"
    path.write_text(textwrap.dedent(PIPELINE))
    return path


def test_tables_deploy_with_keys_stream_and_ttl(pipemu, tmp_path: Path) -> None:
    deployment = pipemu.deploy(_pipeline(tmp_path))
    ddb = pipemu.client("dynamodb")
    orders = ddb.describe_table(TableName=deployment.tables["orders"])["Table"]
    assert orders["KeySchema"] == [{"AttributeName": "order_id", "KeyType": "HASH"}]
    assert orders["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert deployment.table_streams["orders"] == orders["LatestStreamArn"]
    assert deployment.arn_of("table/orders") == orders["LatestStreamArn"]
    ttl = ddb.describe_time_to_live(TableName=deployment.tables["orders"])["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at" and ttl["TimeToLiveStatus"] == "ENABLED"
    totals = ddb.describe_table(TableName=deployment.tables["totals"])["Table"]
    assert [k["KeyType"] for k in totals["KeySchema"]] == ["HASH", "RANGE"]
    assert "totals" not in deployment.table_streams


def test_a_handler_writes_the_table_its_environment_names(pipemu, tmp_path: Path) -> None:
    deployment = pipemu.deploy(_pipeline(tmp_path))
    sampler = TableSampler(pipemu.client("dynamodb"), deployment.tables, every_s=60)
    sampler.start()
    lam = pipemu.client("lambda")
    for index in range(3):
        response = lam.invoke(FunctionName=deployment.functions["store"],
                              Payload=json.dumps({"id": f"o-{index}", "amount": index}))
        assert "FunctionError" not in response, response["Payload"].read()
    item = pipemu.client("dynamodb").get_item(TableName="orders", Key={"order_id": {"S": "o-2"}})["Item"]
    assert item == {"order_id": {"S": "o-2"}, "amount": {"N": "2"}}
    sampler.stop()
    figures = sampler.figures()
    assert figures["orders"]["items"] == 3 and figures["totals"]["items"] == 0
    assert [n for _, n in figures["orders"]["over_time"]] == [0, 3]


def test_reset_deletes_tables(pipemu, tmp_path: Path) -> None:
    pipemu.deploy(_pipeline(tmp_path))
    pipemu.backend.reset()
    assert pipemu.client("dynamodb").list_tables()["TableNames"] == []


def test_state_machine_references_resolve_tables(tmp_path: Path) -> None:
    from emulator.stepfunctions.definition import References
    path = _pipeline(tmp_path)
    refs = References.declared_in(load_pipeline(path))
    assert refs.section("table") == {"orders": "orders", "totals": "totals"}
