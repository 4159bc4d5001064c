"""`pipemu init && pipemu replay scenario.yaml` works in an empty directory; `pipemu doctor` reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def pipemu(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "NO_COLOR": "1", "COLUMNS": "200"}
    if "PYTHONPATH" in os.environ:  # the emulator package under test, not whichever one is installed
        base["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run([sys.executable, "-m", "emulator.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=180, env={**base, **(env or {})})


def test_init_then_replay_is_green_in_an_empty_directory(tmp_path: Path) -> None:
    assert pipemu("init", cwd=tmp_path).returncode == 0
    done = pipemu("replay", "scenario.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "pipemu-report" / "report.html").is_file()


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "pipeline.yaml").write_text("mine")
    done = pipemu("init", cwd=tmp_path)
    assert done.returncode == 2 and "already exist" in done.stderr
    assert (tmp_path / "pipeline.yaml").read_text() == "mine"


def test_settings_from_pyproject_and_environment_are_used(tmp_path: Path) -> None:
    assert pipemu("init", cwd=tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text('[tool.pipemu]\nreport_dir = "reports"\n')
    done = pipemu("replay", "scenario.yaml", "--quiet", cwd=tmp_path, env={"PIPEMU_SEED": "5"})
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "reports" / "report.json").read_text()
    assert '"seed": 5' in report


def test_doctor_reports_each_backend_need(tmp_path: Path) -> None:
    done = pipemu("doctor", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for check in ("Python", "runtime python3.12", "runtime nodejs20.x", "moto", "Docker", "LOCALSTACK_AUTH_TOKEN",
                  "embedded backend: ready"):
        assert check in done.stdout
