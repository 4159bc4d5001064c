"""Parity: the same scenario on two backends, diffed by outcome signature."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from emulator.parity import Signature, compare

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_and_a_moto_server_agree_on_clickstream() -> None:
    # A subprocess: this pytest session already runs an embedded backend (one per process), and the CLI is how
    # users run parity anyway.
    done = subprocess.run(
        [sys.executable, "-m", "emulator.cli", "parity", str(ROOT / "scenarios" / "clickstream-smoke.yaml"),
         "--backends", "embedded,moto-server", "--count", "60"],
        capture_output=True, text=True, timeout=300, env={"PATH": os.environ["PATH"], "NO_COLOR": "1"},
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
