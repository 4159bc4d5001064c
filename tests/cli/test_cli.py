"""`pipemu` as a user runs it: a real subprocess, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "scenarios" / "clickstream-smoke.yaml"


def pipemu(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "200"},
    )


def scenario_copy(tmp_path: Path, replace: tuple[str, str] | None = None) -> Path:
    text = SMOKE.read_text().replace("../fixtures/", f"{ROOT}/fixtures/")
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_replay_passes_writes_the_report_and_exits_0(tmp_path: Path) -> None:
    done = pipemu(
        "replay", str(SMOKE), "--count", "200", "--rate", "2000", "--report-dir", "out", cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["passed"] is True and report["events"]["sent"] == 200 and report["events"]["lost"] == 0


def test_an_expectation_that_cannot_hold_exits_1_and_says_by_how_much(tmp_path: Path) -> None:
    path = scenario_copy(
        tmp_path,
        ("dead_letters: {queue: clicks-dlq, count: 0}", "dead_letters: {queue: clicks-dlq, count: 3}"),
    )
    done = pipemu("replay", str(path), "--count", "50", "--rate", "5000", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "dead_letters[clicks-dlq]: expected messages == 3, got 0 (-3 messages)" in done.stderr
    assert "--seed 42" in done.stderr and "pipemu replay" in done.stderr


def test_a_misspelled_key_exits_2_naming_file_line_and_key(tmp_path: Path) -> None:
    path = scenario_copy(tmp_path, ("rate: {per_second: 500}", "rate: {per_secnd: 500}"))
    done = pipemu("replay", str(path), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{path}:" in done.stderr
    assert "rate.per_secnd" in done.stderr
    assert "per_second" in done.stderr  # the hint
    assert not (tmp_path / "pipemu-report").exists()


def test_replay_ignores_the_host_profile_and_credentials(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "replay", str(SMOKE), "--count", "20", "--rate", "5000", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
        env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "AWS_PROFILE": "production", "AWS_ACCESS_KEY_ID": "AKIAHOST",
             "AWS_SECRET_ACCESS_KEY": "host-secret", "AWS_CONFIG_FILE": str(tmp_path / "missing")},
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_validate_accepts_the_bundled_files(tmp_path: Path) -> None:
    for path in (SMOKE, ROOT / "fixtures" / "clickstream" / "pipeline.yaml"):
        done = pipemu("validate", str(path), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "valid" in done.stdout


def test_json_output_is_the_report(tmp_path: Path) -> None:
    done = pipemu("replay", str(SMOKE), "--count", "20", "--rate", "5000", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"]["delivered"] == 20
