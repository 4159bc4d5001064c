"""The orders-dynamodb scenario end to end (Kinesis -> Lambda -> DynamoDB table -> its stream -> a tumbling-window
rollup -> a totals table), and the same pipeline failing with exit 1 when the order handler skips its writes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from emulator.replay.generate import generate
from emulator.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "orders-dynamodb.yaml"


def _expected_totals() -> dict[int, tuple[int, Decimal]]:
    spec, _ = load_scenario(SCENARIO)
    out: dict[int, tuple[int, Decimal]] = {}
    for event in generate(spec):
        order = event.fields
        amount = (order["quantity"] * Decimal(repr(order["unit_price"]))).quantize(Decimal("0.01"))
        count, total = out.get(order["customer"], (0, Decimal(0)))
        out[order["customer"]] = (count + 1, total + amount)
    return out


def test_orders_reach_the_table_and_the_rollup_totals_add_up(pipemu: Any) -> None:
    result = pipemu.replay(SCENARIO)
    assert result.passed, result.summary()
    assert result.events.delivered == 120
    items = pipemu.client("dynamodb").scan(TableName="totals")["Items"]
    got: dict[int, tuple[int, Decimal]] = {}
    for item in items:  # one item per customer and window: add the windows up
        customer = int(item["customer"]["N"])
        count, total = got.get(customer, (0, Decimal(0)))
        got[customer] = (count + int(item["orders"]["N"]), total + Decimal(item["amount"]["N"]))
    assert got == _expected_totals()
    assert result.tables["orders"]["items"] == 120
    rollup = next(stats for label, stats in result.mappings.items() if label.startswith("table/orders"))
    assert rollup["windows_closed"] >= 1


def test_the_pipeline_fails_with_exit_1_when_the_order_handler_skips_its_writes(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "fixtures" / "orders-dynamodb", tmp_path / "fixtures" / "orders-dynamodb")
    handler = tmp_path / "fixtures" / "orders-dynamodb" / "handlers" / "store_order.py"
    handler.write_text(handler.read_text().replace("batch.put_item(Item=order)", "pass  # skips the write"))
    (tmp_path / "scenarios").mkdir()
    scenario = tmp_path / "scenarios" / "orders-dynamodb.yaml"
    scenario.write_text(SCENARIO.read_text().replace("count: 120", "count: 20"))
    (tmp_path / "pyproject.toml").write_text("")
    done = subprocess.run(  # a process of its own: this one already holds an embedded backend
        [sys.executable, "-m", "emulator.cli", "replay", str(scenario), "--quiet", "--report-dir",
         str(tmp_path / "out")], capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "expectation failed: delivered" in output and "table orders" in output
