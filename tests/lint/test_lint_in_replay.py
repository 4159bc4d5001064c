"""`pipemu replay` shows the pipeline's lint findings (report.json, report.html, summary) and still passes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_replay_reports_lint_findings_without_failing(pipemu: Any, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "fixtures" / "clickstream", project / "clickstream")
    (project / "pyproject.toml").write_text("")
    pipeline = yaml.safe_load((project / "clickstream" / "pipeline.yaml").read_text())
    del pipeline["mappings"][0]["on_failure"]  # PM001: record age unbounded and nowhere to send failures
    pipeline["mappings"][0]["maximum_retry_attempts"] = -1
    pipeline["queues"]["clicks-dlq"]["lint"] = {"ignore": ["PM003"]}  # silencing an unrelated rule is harmless
    (project / "clickstream" / "pipeline.yaml").write_text(yaml.safe_dump(pipeline))
    scenario = yaml.safe_load((ROOT / "scenarios" / "clickstream-smoke.yaml").read_text())
    scenario["pipeline"] = "clickstream/pipeline.yaml"
    del scenario["expect"]["dead_letters"]
    (project / "scenario.yaml").write_text(yaml.safe_dump(scenario))

    result = pipemu.replay(str(project / "scenario.yaml"), count=20)

    assert result.passed, result.summary()
    rules = [f["rule"] for f in result.to_json()["lint"]]
    assert rules == ["PM001"]
    assert "lint PM001 error" in result.summary()
    result.write(tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text()
    assert '<table id="lint">' in html and "PM001" in html and "kinesis-on-failure-destination" in html
