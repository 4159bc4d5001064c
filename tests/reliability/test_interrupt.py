"""Ctrl-C during a real `pipemu replay` releases every worker process and the port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry.name)] = int(fields[1])
    out, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - out
        out |= frontier
    return out


def listening_ports(pid: int) -> set[int]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[3] == "0A" and parts[9] in inodes:
            ports.add(int(parts[1].split(":")[1], 16))
    return ports


def test_sigint_releases_workers_threads_and_port_within_two_seconds(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "replay", str(ROOT / "scenarios" / "clickstream-smoke.yaml"),
         "--count", "200000", "--rate", "2000", "--quiet"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": os.environ["PATH"], "NO_COLOR": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        ports: set[int] = set()
        while time.monotonic() < deadline and not (workers and ports):
            assert proc.poll() is None, proc.communicate()
            workers = children(proc.pid)
            ports = listening_ports(proc.pid)
            time.sleep(0.05)  # polling the condition, not waiting for the pipeline
        assert workers and ports, "the replay never got going"

        proc.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        code = proc.wait(timeout=10)
        elapsed = time.monotonic() - interrupted
        assert code == 130, proc.communicate()
        assert elapsed < 2.0, f"took {elapsed:.2f}s to release everything after Ctrl-C"
        assert not (workers & children(os.getpid())), "worker processes outlived the replay"
        assert all(not Path(f"/proc/{w}").exists() or "Z" in Path(f"/proc/{w}/stat").read_text().split()[2]
                   for w in workers)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
