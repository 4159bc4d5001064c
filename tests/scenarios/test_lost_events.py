"""A handler that reports success but silently drops events: the run fails, saying how many were lost and which,
through the library and through `pipemu replay`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from emulator.replay.generate import generate
from emulator.runner import run_scenario
from emulator.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
LOSSY = Path(__file__).resolve().parent / "lossy" / "scenario.yaml"


def dropped_keys() -> list[str]:
    """The event ids the handler skips (n a multiple of 7), in the order they are sent: worked out from the
    scenario's own seeded events, not from the run."""
    spec, _ = load_scenario(LOSSY)
    return [str(e.fields["event_id"]) for e in generate(spec) if e.fields["n"] % 7 == 0]


def lost_verdict(dropped: list[str]) -> str:
    return (f"lost: expected 0, got {len(dropped)} (neither delivered, dead-lettered nor filtered: "
            f"{', '.join(dropped[:5])}, ...)")


def test_the_dropping_fixture_drops_a_handful() -> None:
    assert len(dropped_keys()) == 8  # the verdict below shows five and says there are more


def test_silently_dropped_events_fail_the_run_by_name(pipemu) -> None:
    dropped = dropped_keys()
    result = run_scenario(LOSSY, backend=pipemu.backend)
    assert not result.passed and not result.timed_out, result.summary()
    assert (result.events.sent, result.events.delivered, result.events.lost) == (35, 35 - len(dropped), len(dropped))
    assert [result.ledger.keys[i] for i in result.ledger.lost_indexes()] == dropped
    failures = {f.name: f for f in result.failures}
    assert set(failures) == {"delivered", "lost"}
    assert failures["lost"].describe() == lost_verdict(dropped)
    assert failures["delivered"].detail == f"{len(dropped)} missing"
    assert [m["event"] for m in failures["lost"].near_misses] == dropped[:5]
    assert lost_verdict(dropped) in result.summary()


def test_pipemu_replay_exits_1_naming_the_lost_events(tmp_path: Path) -> None:
    dropped = dropped_keys()
    done = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "replay", str(LOSSY), "--report-dir", "out"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "NO_COLOR": "1",
             "COLUMNS": "200"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"expectation failed: {lost_verdict(dropped)}" in done.stderr
    assert f"({len(dropped)} missing)" in done.stderr
    assert "replay with: pipemu replay" in done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["passed"] is False and report["events"]["lost"] == len(dropped)


def test_dead_letters_are_found_when_every_resource_name_has_a_run_prefix(pipemu, monkeypatch) -> None:
    # as on the AWS backend, where every resource of a run is named pmu-XXXXXXXX-NAME
    monkeypatch.setattr(pipemu.backend, "resource_prefix", "pmu-test-", raising=False)
    result = run_scenario(LOSSY.with_name("poison.yaml"), backend=pipemu.backend)
    assert result.deployment is not None and result.deployment.queues["dlq"].endswith("/pmu-test-dlq")
    assert result.events.dead_lettered >= 1, result.summary()
    named = {e.name: e for e in result.expectations}
    assert named["dead_letters[dlq]"].passed and named["dead_letters[dlq]"].actual >= 1, result.summary()
    assert named["dead_letters[dlq].condition"].passed, result.summary()
