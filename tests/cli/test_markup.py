"""Names, keys, paths and messages from the user's files are printed as they are by every command: rich reads
``[/]`` as a closing tag (an error), ``[bold]`` as a style and ``:x:`` as an emoji when they reach its markup.
(`pipemu replay` with such a scenario name: ``tests/reliability/test_clean_exits.py``.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from emulator import cli_tools
from emulator.cli import app
from emulator.cli_output import figures
from emulator.tune import grid, sweep

ROOT = Path(__file__).resolve().parents[2]
NAME = "[/] [bold]x :x:"
EMOJI = "\u274c"


def marked_scenario(tmp_path: Path, **changes: Any) -> Path:
    """clickstream-smoke named NAME (and with ``changes``), in a directory whose name is markup too."""
    folder = tmp_path / "[bold]dir"
    folder.mkdir()
    data = yaml.safe_load((ROOT / "scenarios" / "clickstream-smoke.yaml").read_text())
    data.update(scenario=NAME, pipeline=str(ROOT / "fixtures" / "clickstream" / "pipeline.yaml"), **changes)
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_tune_prints_a_marked_up_scenario_name_and_report_dir_as_text(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = marked_scenario(tmp_path, events={**yaml.safe_load(
        (ROOT / "scenarios" / "clickstream-smoke.yaml").read_text())["events"], "count": 5})

    def fake_sweep(spec: Any, combos: list[grid.Combination], **kwargs: Any) -> list[sweep.Trial]:
        trials = [sweep.Trial(combo, {"p50": 10.0, "p95": 20.0, "p99": 30.0}, {"p99": 30.0}, 100.0, 5, 0, 0.1, 1.0,
                              (), 0.5) for combo in combos]
        for trial in trials:
            kwargs["on_trial"](trial)
        return trials

    monkeypatch.setattr(sweep, "run_sweep", fake_sweep)
    report_dir = tmp_path / "[red]out"
    done = CliRunner().invoke(app, ["tune", str(scenario), "--vary", "batch_size=10,100", "--p99-ms", "1000",
                                    "--report-dir", str(report_dir)], env={"COLUMNS": "400"})
    assert done.exit_code == 0, done.output + repr(done.exception)
    assert f"tune {NAME}: 2 combinations" in done.output
    assert f"{NAME}: 2 settings" in done.output, done.output
    assert f"written: {report_dir / 'tune.html'}" in done.output and EMOJI not in done.output


def test_doctor_prints_details_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_tools, "doctor_rows", lambda: [("Python", True, "3.11 [/] :x:"), ("moto", True, "x"),
                                                           ("boto3", True, "[bold]y"), ("faker", True, "z")])
    done = CliRunner().invoke(app, ["doctor"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output + repr(done.exception)
    assert "3.11 [/] :x:" in done.output and "[bold]y" in done.output and EMOJI not in done.output


def test_an_input_error_quoting_a_marked_up_key_prints_it_as_text(tmp_path: Path) -> None:
    scenario = marked_scenario(tmp_path)
    scenario.write_text(scenario.read_text() + "'[/]:x:': 1\n")
    done = CliRunner().invoke(app, ["validate", str(scenario)], env={"COLUMNS": "300"})
    assert done.exit_code == 2, done.output + repr(done.exception)
    assert "[/]:x:" in done.output and EMOJI not in done.output


def test_the_summary_figures_escape_every_user_string() -> None:
    """The figures block is printed as markup (its own styles): the cost line, runtime notes, lint and IAM lines
    carry names from the user's files."""
    from rich.console import Console

    class Result:
        events = type("E", (), dict(sent=1, delivered=1, dead_lettered=0, filtered=0, lost=0, duplicates=0))()
        latency_ms: dict[str, float] = {}
        throughput_eps = duration_s = time_scale = 1.0
        replay = type("R", (), dict(asked="max", achieved_rate=1.0))()
        cost = type("C", (), dict(summary=lambda self: f"cost in {NAME}"))()
        lint = [{"rule": "PM001", "severity": "error", "message": f"queue {NAME}", "doc": "d", "silenced": False}]

        def to_json(self) -> dict[str, Any]:
            return {"delivered_ends": {"reached": {}}}

        def runtime_notes(self) -> list[str]:
            return [f"note {NAME}"]

        def iam_notes(self) -> list[str]:
            return [f"iam {NAME}"]

    console = Console(record=True, width=300, emoji=False)
    console.print(figures(Result()))
    text = console.export_text()
    for line in (f"cost in {NAME}", f"note: note {NAME}", f"queue {NAME}", f"iam {NAME}"):
        assert line in text
