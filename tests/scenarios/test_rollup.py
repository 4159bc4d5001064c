"""The orders-rollup scenario end to end (Kinesis -> Lambda -> S3 -> S3 notification -> Lambda -> state machine with
a retried task and a Catch), and a scenario whose source starts the state machine directly against a mock test
case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from verdicts import held

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
FIXTURE = ROOT / "fixtures" / "orders-rollup"


def test_orders_rollup_retries_every_order_and_catches_the_unpriceable(pipemu: Any) -> None:
    result = pipemu.replay(SCENARIOS / "orders-rollup.yaml")
    assert held(result), result.summary()
    checked = {e.name: e.actual for e in result.expectations}
    assert checked["executions.retried[PriceOrder]"] == 20
    assert checked["executions.caught[PriceOrder]"] == 4
    # the state machine's task wrote one rollup per priced order, to the bucket its definition names
    s3 = pipemu.client("s3")
    rollups = s3.list_objects_v2(Bucket="rollups", Prefix="rollups/").get("Contents", [])
    assert len(rollups) == 16


def test_a_failing_expectation_shows_the_near_misses(pipemu: Any, tmp_path: Path) -> None:
    text = (SCENARIOS / "orders-rollup.yaml").read_text()
    text = text.replace("../fixtures/", f"{ROOT}/fixtures/")
    text = text.replace("count: 20\n", "count: 8\n")  # the 7th order has no quantity
    text = text.replace("count: {total: 20, succeeded: 20, failed: 0}", "count: {failed: 1}")
    text = text.replace("error: InvalidOrder, executions: 4", "error: States.Timeout")
    scenario = tmp_path / "wrong.yaml"
    scenario.write_text(text)
    result = pipemu.replay(scenario)
    failed = {e.name: e for e in result.failures}
    assert set(failed) >= {"executions.count.failed", "executions.caught[PriceOrder]"}
    assert "statuses seen: {'SUCCEEDED': 8}" in failed["executions.count.failed"].detail
    assert failed["executions.caught[PriceOrder]"].detail == "errors caught there: {'InvalidOrder': 1}"


MOCKS = {
    "StateMachines": {"rollup": {"TestCases": {"BusyOnce": {"PriceOrder": "BusyThenPriced"}}}},
    "MockedResponses": {
        "BusyThenPriced": {
            "0": {"Throw": {"Error": "WarehouseBusy", "Cause": "busy"}},
            "1": {"Return": {"StatusCode": 200, "Payload": {"order_id": "mocked", "total": 9.5}}},
        }
    },
}


def test_a_state_machine_source_runs_one_execution_per_event_against_a_test_case(pipemu: Any, tmp_path: Path
                                                                                 ) -> None:
    (tmp_path / "mocks.json").write_text(json.dumps(MOCKS))
    scenario = tmp_path / "direct.yaml"
    scenario.write_text(f"""
scenario: rollup-direct
pipeline: {FIXTURE / 'pipeline.yaml'}
seed: 3
source: state_machine/rollup
mocks: {{config: mocks.json, test_case: BusyOnce}}
events:
  count: 6
  fields:
    bucket: {{choice: [orders-out]}}
    key: {{choice: [orders/a.json, orders/b.json]}}
time_scale: 200
expect:
  executions:
    count: {{total: 6, succeeded: 6}}
    output: {{path: $.total, equals: 9.5}}
    retried: {{state: PriceOrder, times: 1, executions: 6}}
""")
    result = pipemu.replay(scenario)
    assert result.passed, result.summary()
    assert result.events.sent == 6 and result.events.delivered == 6 and result.events.lost == 0
    # the mock answered: price-order never ran
    assert not [i for i in pipemu.backend.invocations if i.function == "price-order"]
