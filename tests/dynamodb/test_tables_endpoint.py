"""Tables through --endpoint-url (a moto server subprocess): deployed through boto3, torn down by reset, swept
by prefix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_tables_deploy import _pipeline

from emulator.backends.endpoint import EndpointBackend
from emulator.backends.moto_server import MotoServerProcess
from emulator.backends.teardown import CreatedResources, sweep
from emulator.runner import deploy_pipeline
from emulator.spec import load_pipeline


@pytest.fixture(scope="module")
def moto_server() -> Iterator[MotoServerProcess]:
    with MotoServerProcess() as server:
        yield server


def test_tables_deploy_are_written_by_handlers_and_torn_down(moto_server: MotoServerProcess, tmp_path: Path) -> None:
    with EndpointBackend(moto_server.url) as backend:
        deployment = deploy_pipeline(backend, load_pipeline(_pipeline(tmp_path)))
        response = backend.client("lambda").invoke(FunctionName=deployment.functions["store"],
                                                   Payload=json.dumps({"id": "o-1", "amount": 5}))
        assert "FunctionError" not in response, response["Payload"].read()
        ddb = backend.client("dynamodb")
        assert ddb.get_item(TableName="orders", Key={"order_id": {"S": "o-1"}})["Item"]["amount"] == {"N": "5"}
        assert backend.created.tables == ["orders", "totals"]
        backend.reset()
        assert ddb.list_tables()["TableNames"] == []


def test_sweep_finds_tables_by_prefix(moto_server: MotoServerProcess) -> None:
    with EndpointBackend(moto_server.url) as backend:
        ddb = backend.client("dynamodb")
        for name in ("pmx-run1-orders", "other-orders"):
            ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                             BillingMode="PAY_PER_REQUEST")
        found = CreatedResources()
        sweep(backend.client, "pmx-run1-", found)
        assert found.tables == ["pmx-run1-orders"]
        backend.reset()
        assert ddb.list_tables()["TableNames"] == []


ECHO = "import json\ndef handler(event, context):\n    print(json.dumps(event))\n    return None\n"


def test_a_stream_mapping_is_polled_client_side(moto_server: MotoServerProcess) -> None:
    from lambda_functions import zipped
    from waiting import wait_for
    with EndpointBackend(moto_server.url) as backend:
        role = backend.client("iam").create_role(RoleName="r-ddb", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        backend.client("lambda").create_function(FunctionName="echo-ddb", Runtime="python3.12", Role=role,
                                                 Handler="app.handler", Code={"ZipFile": zipped(ECHO)})
        ddb = backend.client("dynamodb")
        arn = ddb.create_table(
            TableName="ep-items", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]["LatestStreamArn"]
        lam = backend.client("lambda")
        created = lam.create_event_source_mapping(FunctionName="echo-ddb", EventSourceArn=arn,
                                                  StartingPosition="TRIM_HORIZON", BatchSize=10)
        assert created["LastProcessingResult"] == "No records processed"
        for key in ("a", "b"):
            ddb.put_item(TableName="ep-items", Item={"pk": {"S": key}})

        def records() -> list[dict]:
            return [r for i in list(backend.invocations) if i.function == "echo-ddb"
                    for line in i.logs.splitlines() if line.startswith("{") for r in json.loads(line)["Records"]]

        got = wait_for("2 records", records, lambda r: len(r) >= 2, 30)
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in got] == ["a", "b"]
        assert {r["eventSourceARN"] for r in got} == {arn} and got[0]["eventName"] == "INSERT"
        backend.reset()


def test_a_table_source_scenario_passes_through_the_endpoint(moto_server: MotoServerProcess, tmp_path: Path) -> None:
    from test_table_source import _project

    from emulator.runner import run_scenario
    with EndpointBackend(moto_server.url) as backend:
        result = run_scenario(_project(tmp_path), backend=backend)
        assert result.passed, result.summary()
        assert result.events.filtered > 0 and result.events.delivered + result.events.filtered == 60
        backend.reset()


def test_the_bundled_orders_dynamodb_scenario_passes_through_the_endpoint(moto_server: MotoServerProcess) -> None:
    from emulator.runner import run_scenario
    from emulator.spec.scenario import load_scenario
    root = Path(__file__).resolve().parents[2]
    spec, _ = load_scenario(root / "scenarios" / "orders-dynamodb.yaml")
    with EndpointBackend(moto_server.url, time_scale=spec.time_scale or 1.0) as backend:
        result = run_scenario(spec, backend=backend)
        assert result.passed, result.summary()
        assert result.events.delivered == 120
        totals = backend.client("dynamodb").scan(TableName="totals")["Items"]
        assert sum(int(item["orders"]["N"]) for item in totals) == 120
        backend.reset()
