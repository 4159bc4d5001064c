"""``expect.cost``: checked against the run's bill, exit 1 when over budget, file/line errors when malformed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.cost.bill import Bill, CostLine
from emulator.cost.hooks import check_cost
from emulator.errors import ConfigError
from emulator.spec.expectations import CostSpec
from emulator.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "scenarios" / "clickstream-smoke.yaml"


def scenario_with(tmp_path: Path, expect_line: str) -> Path:
    text = SMOKE.read_text().replace("../fixtures/", f"{ROOT}/fixtures/")
    path = tmp_path / "scenario.yaml"
    path.write_text(text + expect_line)
    return path


def bill(per_event_usd: float, events: int = 1000) -> Bill:
    line = CostLine("lambda", "f", "requests_million", 0.0, "", per_event_usd * events, False, "src", "checked")
    return Bill("us-east-1", "v", events, 100.0, (line,))


def test_budget_met_and_missed() -> None:
    spec = CostSpec(per_million_usd_max=2.0)

    ok, over = check_cost(spec, bill(1e-6)), check_cost(spec, bill(3e-6))

    assert [r.passed for r in ok] == [True] and ok[0].actual == pytest.approx(1.0)
    assert [r.passed for r in over] == [False] and over[0].name == "cost.per_million_usd"
    assert "+1 against the budget" in over[0].detail and over[0].expected == "<= $2"
    assert check_cost(spec, None)[0].passed is False  # no bill: a budget cannot be shown to hold
    assert check_cost(None, bill(1.0)) == []


def test_malformed_cost_expectation_names_file_line_and_key(tmp_path: Path) -> None:
    for line, key, message in (
        ("  cost: {per_million_usd_max: 0}\n", "expect.cost.per_million_usd_max", "greater than 0"),
        ("  cost: {}\n", "expect.cost", "give per_million_usd_max"),
        ("  cost: {per_million: 3}\n", "expect.cost.per_million", ""),
    ):
        path = scenario_with(tmp_path, line)
        with pytest.raises(ConfigError) as info:
            load_scenario(path)
        assert info.value.file == str(path.resolve()) or info.value.file == str(path)
        assert info.value.line == 19 and info.value.key == key, (info.value.line, info.value.key)
        assert message in str(info.value)


def pipemu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "NO_COLOR": "1", "COLUMNS": "200",
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "emulator.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=240, env=env, check=False)


def test_a_run_over_its_cost_budget_exits_1_and_one_within_passes(tmp_path: Path) -> None:
    tight = scenario_with(tmp_path, "  cost: {per_million_usd_max: 0.001}\n")

    done = pipemu("replay", str(tight), "--count", "50", "--rate", "2000", "--report-dir", "out", cwd=tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "cost.per_million_usd: expected <= $0.001" in done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["cost"]["per_million_usd"] > 0.001
    assert {line["service"] for line in report["cost"]["lines"]} >= {"kinesis", "lambda", "s3"}
    assert "per million events" in done.stdout
    generous = scenario_with(tmp_path, "  cost: {per_million_usd_max: 100}\n")
    done = pipemu("replay", str(generous), "--count", "50", "--rate", "2000", "--report-dir", "out2", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
