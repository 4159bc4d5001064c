"""200 scenario runs in one session: no growth in open files, threads, child processes or memory beyond a
stated bound. Counts are asserted, never times."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psutil
from processes import children

ROOT = Path(__file__).resolve().parents[2]
RUNS = 200
WARMUP = 20
BOUNDS = {"open_files": 8, "threads": 4, "children": 2, "rss_mib": 150}


def usage() -> dict[str, float]:
    me = psutil.Process()
    return {
        "open_files": me.num_fds(),
        "threads": threading.active_count(),
        "children": len(children(me.pid)),
        "rss_mib": me.memory_info().rss / 2**20,
    }


def test_two_hundred_runs_leak_nothing(pipemu: Any, tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "clickstream-smoke.yaml").read_text().replace("../fixtures/", f"{ROOT}/fixtures/")
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(
        text.replace("count: 1000", "count: 5").replace("rate: {per_second: 500}", "rate: {profile: max}")
    )
    baseline: dict[str, float] = {}
    for run in range(RUNS):
        if run:
            pipemu.backend.reset()
        result = pipemu.replay(scenario)
        assert result.passed, f"run {run}: {result.summary()}"
        if run == WARMUP:
            baseline = usage()
    final = usage()
    growth = {k: final[k] - baseline[k] for k in BOUNDS}
    assert all(growth[k] <= BOUNDS[k] for k in BOUNDS), f"growth over {RUNS - WARMUP} runs: {growth} (bounds {BOUNDS})"
