"""The library as the README shows it: run_scenario called again and again in one process, each run on its own
fresh backend, and a closed backend leaves nothing behind (sockets, threads, processes). Counts, never times.
Each check runs in a fresh interpreter: the test session may hold its own embedded backend (one per process)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HELD = """
    import os, threading
    from pathlib import Path

    def held():
        me, kids = str(os.getpid()), 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                kids += stat[1] == me and stat[0] != "Z"
        return {"open_files": len(os.listdir("/proc/self/fd")), "threads": threading.active_count(),
                "children": kids}
"""


def in_fresh_process(body: str, tmp_path: Path) -> dict[str, object]:
    script = textwrap.dedent(HELD) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900,
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_run_scenario_runs_again_and_again_each_run_isolated(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "clickstream-smoke.yaml").read_text().replace("../fixtures/", f"{ROOT}/fixtures/")
    (tmp_path / "smoke.yaml").write_text(text)
    out = in_fresh_process("""
        import json
        from emulator.runner import run_scenario
        runs = [run_scenario("smoke.yaml", count=30, rate=1000) for _ in range(3)]
        print(json.dumps({"runs": [[r.passed, r.events.sent, r.events.delivered] for r in runs]}))
    """, tmp_path)
    # isolated: each run sees only its own 30 events (a shared store would add up outputs or refuse creates)
    assert out["runs"] == [[True, 30, 30]] * 3


def test_a_closed_backend_holds_no_socket_thread_or_process(tmp_path: Path) -> None:
    out = in_fresh_process("""
        import json
        from emulator.backends.embedded import EmbeddedBackend
        for _ in range(10):
            with EmbeddedBackend() as backend:
                backend.client("s3").list_buckets()
        before = held()
        for _ in range(190):
            with EmbeddedBackend() as backend:
                backend.client("s3").create_bucket(Bucket="fresh-each-time")  # a fresh store every time
                backend.client("sqs").list_queues()
        print(json.dumps({"before": before, "after": held()}))
    """, tmp_path)
    before, after = out["before"], out["after"]
    assert isinstance(before, dict) and isinstance(after, dict)
    assert after["children"] == 0, after
    assert after["threads"] <= before["threads"], (before, after)
    assert after["open_files"] <= before["open_files"] + 2, (before, after)
