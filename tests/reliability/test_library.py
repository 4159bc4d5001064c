"""The library as the README shows it: run_scenario called again and again in one process, each run on its own
fresh backend, and a closed backend leaves nothing behind (sockets, threads, processes). Counts, never times."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from emulator.backends.embedded import EmbeddedBackend
from emulator.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]
CYCLES = 200
WARMUP = 10


def held() -> dict[str, int]:
    """Open files, threads and live child processes of this process."""
    me, kids = str(os.getpid()), 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            kids += stat[1] == me and stat[0] != "Z"
    return {"open_files": len(os.listdir("/proc/self/fd")), "threads": threading.active_count(), "children": kids}


def test_run_scenario_runs_again_and_again_each_run_isolated(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "clickstream-smoke.yaml").read_text().replace("../fixtures/", f"{ROOT}/fixtures/")
    scenario = tmp_path / "smoke.yaml"
    scenario.write_text(text)
    results = [run_scenario(scenario, count=30, rate=1000) for _ in range(3)]
    for result in results:
        assert result.passed, result.summary()
        # isolated: each run sees only its own 30 events (a shared store would add up outputs or refuse creates)
        assert (result.events.sent, result.events.delivered) == (30, 30)


def test_a_closed_backend_holds_no_socket_thread_or_process() -> None:
    for _ in range(WARMUP):
        with EmbeddedBackend() as backend:
            backend.client("s3").list_buckets()
    before = held()
    for _ in range(CYCLES - WARMUP):
        with EmbeddedBackend() as backend:
            backend.client("s3").create_bucket(Bucket="fresh-each-time")  # a fresh store: the name is free every time
            backend.client("sqs").list_queues()
    after = held()
    assert after["children"] == 0, after
    assert after["threads"] <= before["threads"], (before, after)
    assert after["open_files"] <= before["open_files"] + 2, (before, after)
