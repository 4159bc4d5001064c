"""Parity: the same scenario on two backends, diffed by outcome signature, and each backend's outcome checked
against fates computed by hand from the scenario's recorded faults (both backends run pipemu's own pollers, so
their agreeing with each other alone would prove little)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from emulator.parity import Signature, compare

ROOT = Path(__file__).resolve().parents[2]
POISON = Path(__file__).resolve().parent / "poison.yaml"
ENV = {"PATH": os.environ["PATH"], "NO_COLOR": "1", "PYTHONPATH": os.environ.get("PYTHONPATH", "")}

# Runs in a subprocess: this pytest session already runs an embedded backend (one per process).
_SIGNATURES = """
import json, sys
from emulator.parity import run_parity
report = run_parity(sys.argv[1], ["embedded", "moto-server"])
print(json.dumps([
    {"backend": s.backend, "passed": s.passed, "fates": s.fates, "conditions": s.dead_letter_conditions,
     "batch_sizes": list(s.dead_letter_batch_sizes), "outputs": s.output_count}
    for s in report.signatures
]))
"""


def hand_computed(recording: Path) -> dict[str, str]:
    """What AWS does with each recorded event of poison.yaml: a poison record fails the handler's batch item
    every time, so after MaximumRetryAttempts (bisected down to itself) it goes to the on-failure queue alone;
    every other record is written to S3 once."""
    rows = [json.loads(line) for line in recording.read_text().splitlines()[1:]]
    return {r["key"]: "dead_lettered" if str(r.get("fault", "")).startswith("poison") else "delivered" for r in rows}


def test_each_backend_matches_the_hand_computed_fates(tmp_path: Path) -> None:
    recording = tmp_path / "events.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "record", str(POISON), "-o", str(recording)],
        capture_output=True, text=True, timeout=120, env=ENV,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    expected = hand_computed(recording)
    poison = sum(1 for fate in expected.values() if fate == "dead_lettered")
    assert (len(expected), poison) == (80, 4)  # seed 5: the scenario really has poison in it
    done = subprocess.run(
        [sys.executable, "-c", _SIGNATURES, str(POISON)], capture_output=True, text=True, timeout=600, env=ENV
    )
    assert done.returncode == 0, done.stdout + done.stderr
    signatures = json.loads(done.stdout.strip().splitlines()[-1])
    assert [s["backend"] for s in signatures] == ["embedded", "moto-server"]
    for s in signatures:
        wrong = {k: (v, s["fates"].get(k)) for k, v in expected.items() if s["fates"].get(k) != v}
        assert not wrong and len(s["fates"]) == len(expected), f"{s['backend']}: (expected, got) {wrong}"
        assert s["conditions"] == {"RetryAttemptsExhausted": poison}, s["backend"]
        assert s["batch_sizes"] == [1] * poison, s["backend"]
        assert (s["outputs"], s["passed"]) == (len(expected) - poison, True), s["backend"]


def test_embedded_and_a_moto_server_agree_on_clickstream() -> None:
    # The CLI is how users run parity.
    done = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "parity", str(ROOT / "scenarios" / "clickstream-smoke.yaml"),
         "--backends", "embedded,moto-server", "--count", "60"],
        capture_output=True, text=True, timeout=300, env=ENV,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no difference" in done.stdout
    assert "embedded" in done.stdout and "moto-server" in done.stdout


def _sig(backend: str, **overrides: object) -> Signature:
    values: dict[str, object] = {
        "backend": backend, "passed": True, "failed_expectations": (), "fates": {"a": "delivered", "b": "delivered"},
        "dead_letter_conditions": {}, "dead_letter_batch_sizes": (), "invocations": {"fn": 3}, "output_count": 2,
        "output_digest": "d1", "outputs": ('{"id":"a"}', '{"id":"b"}'), "executions": {},
    }
    values.update(overrides)
    return Signature(**values)  # type: ignore[arg-type]


def test_compare_separates_real_differences_from_timing() -> None:
    ref = _sig("embedded")
    other = _sig(
        "localstack", passed=False, failed_expectations=("latency.p99",), invocations={"fn": 5},
        fates={"a": "delivered", "b": "dead_lettered"}, dead_letter_conditions={"RetryAttemptsExhausted": 1},
        dead_letter_batch_sizes=(1,), output_count=1, output_digest="d2", outputs=('{"id":"a"}',),
    )
    by_aspect = {d.aspect: d for d in compare(ref, other)}
    assert by_aspect["fates"].detail.startswith("1 events differ: b: delivered vs dead_lettered")
    assert not by_aspect["fates"].timing
    assert not by_aspect["dead-letter conditions"].timing
    assert 'only on embedded: 1 [{"id":"b"}]' in by_aspect["outputs"].detail
    assert by_aspect["expectation latency.p99"].timing and by_aspect["invocations"].timing
    assert by_aspect["dead-letter batch sizes"].timing


def test_same_signatures_have_no_difference() -> None:
    assert compare(_sig("a"), _sig("b", invocations=None)) == []
