"""Ctrl-C during a real `pipemu replay` releases every worker process and the port, printing only that it was
interrupted. How fast (the README's 2 s) is a benchmark figure: `python -m bench --only release`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from processes import alive, children, listening
from waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def test_sigint_releases_workers_threads_and_port(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "replay", str(ROOT / "scenarios" / "clickstream-smoke.yaml"),
         "--count", "200000", "--rate", "2000", "--quiet"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={"PATH": os.environ["PATH"], "NO_COLOR": "1"},
    )
    def workers_and_ports() -> tuple[set[int], set[int]]:
        assert proc.poll() is None, proc.communicate()
        return children(proc.pid, recursive=True), {port for _, port in listening(proc.pid)}

    try:
        workers, _ = wait_for("the replay to get going (worker processes and a listening port)", workers_and_ports,
                              lambda found: bool(found[0] and found[1]), timeout=60)

        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, out + err
        assert not (workers & children(os.getpid(), recursive=True)), "worker processes outlived the replay"
        assert not any(alive(w) for w in workers)
        assert "pipemu: interrupted" in err and "Traceback" not in err and "Error" not in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
