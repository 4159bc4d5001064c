"""Figure 7: how long `pipemu replay` takes to release everything after Ctrl-C or SIGTERM while its handler hangs.

A replay whose handler starts a double-forked, setsid'd `sleep` and then never returns; once the handler runs,
the signal is sent and the clock runs until the `pipemu` process and every process it started (its workers and
what the handler spawned) are gone. The README promises 2 s. Baseline: none (the figure before the release
order was fixed was 16 s on an idle machine). Each figure is the slowest of its rounds. The tests check the same
end state (`tests/reliability/test_interrupt.py`, `test_clean_exits.py`) without timing it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

from bench.common import ROOT, wait_until
from bench.figures import Figure

TARGET_S = 2.0
HANDLER = """
    import os, pathlib, subprocess, time
    def handler(event, context):
        subprocess.Popen(["setsid", "sh", "-c", "sleep 300 & sleep 300"], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pathlib.Path(os.environ["MARK"]).write_text("running")
        while True:
            time.sleep(1)
"""


def _project(folder: Path) -> Path:
    (folder / "pyproject.toml").write_text("")
    (folder / "handlers").mkdir()
    (folder / "handlers" / "hang.py").write_text(textwrap.dedent(HANDLER))
    (folder / "pipeline.yaml").write_text(textwrap.dedent(f"""\
        pipeline: release
        streams: {{s: {{shards: 1}}}}
        buckets: [out]
        functions:
          f: {{code: handlers/, handler: hang.handler, timeout: 300, environment: {{MARK: {folder / 'mark'}}}}}
        mappings:
          - {{source: stream/s, function: f, batch_size: 10, starting_position: TRIM_HORIZON}}
        """))
    (folder / "scenario.yaml").write_text(textwrap.dedent("""\
        scenario: release
        pipeline: pipeline.yaml
        source: stream/s
        events: {count: 50, fields: {id: uuid4}}
        rate: {per_second: 50}
        expect: {delivered: {bucket: out, correlate: id}}
        """))
    return folder / "scenario.yaml"


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _gone(processes: list[psutil.Process]) -> bool:
    for p in processes:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            continue
    return True


def release_s(sig: signal.Signals) -> float:
    """Seconds from ``sig`` until the replay and everything it started are gone."""
    folder = Path(tempfile.mkdtemp(prefix="pipemu-bench-release-"))
    env = {"PATH": os.environ["PATH"], "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    with open(folder / "stderr.txt", "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulator.cli", "replay", str(_project(folder)), "--report-dir", "out"],
            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )
    started: list[psutil.Process] = []
    try:
        wait_until(lambda: (folder / "mark").exists() and proc.poll() is None, 300, "the handler to run")
        wait_until(lambda: any(p.name() == "sleep" for p in _descendants(proc.pid)), 60, "the handler's sleeps")
        started = _descendants(proc.pid)
        proc.send_signal(sig)
        t0 = time.perf_counter()
        wait_until(lambda: proc.poll() is not None and _gone(started), 120, "the replay to release everything")
        took = time.perf_counter() - t0
        if proc.returncode != 130:
            raise RuntimeError(f"exit {proc.returncode} after {sig.name}: {(folder / 'stderr.txt').read_text()}")
        return took
    finally:
        for p in [psutil.Process(proc.pid), *started] if proc.poll() is None else started:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def run(quick: bool) -> list[Figure]:
    rounds = 1 if quick else 3
    load = os.getloadavg()[0]
    return [
        Figure(f"release_after_{sig.name.lower()}_s", max(release_s(sig) for _ in range(rounds)), "s", TARGET_S,
               None, note=f"slowest of {rounds}; a hanging, double-forking handler; load {load:.1f}")
        for sig in (signal.SIGINT, signal.SIGTERM)
    ]
