"""`pipemu up` serves a deployed pipeline until Ctrl-C; `pipemu env` prints its exports."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "fixtures" / "clickstream" / "pipeline.yaml"


def read_exports(proc: subprocess.Popen[str], timeout: float = 60.0) -> dict[str, str]:
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    exports: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            continue
        if line.startswith("export "):
            key, _, value = line[len("export ") :].strip().partition("=")
            exports[key] = value
        elif line.startswith("#") and exports:
            return exports
    raise AssertionError(f"no exports within {timeout}s; got {exports}")


def test_up_serves_the_pipeline_env_prints_it_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator.cli", "up", str(PIPELINE)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        exports = read_exports(proc)
        endpoint = exports["AWS_ENDPOINT_URL"]
        assert endpoint.startswith("http://127.0.0.1:")
        kinesis = boto3.client(
            "kinesis", endpoint_url=endpoint, region_name=exports["AWS_REGION"],
            aws_access_key_id=exports["AWS_ACCESS_KEY_ID"], aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
        )
        assert kinesis.list_streams()["StreamNames"] == ["clicks"]

        printed = subprocess.run([sys.executable, "-m", "emulator.cli", "env"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=60)
        assert printed.returncode == 0, printed.stderr
        assert f"export AWS_ENDPOINT_URL={endpoint}" in printed.stdout

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        port = int(endpoint.rsplit(":", 1)[1])
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "the emulator port is still open"
        assert not (tmp_path / ".pipemu" / "endpoint.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_env_without_a_running_emulator_exits_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "emulator.cli", "env"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={"PATH": os.environ["PATH"], "NO_COLOR": "1"})
    assert done.returncode == 2
    assert "pipemu up" in done.stderr
