"""Where a running ``pipemu up`` is recorded: ``.pipemu/endpoint.json`` in the directory it was started in.

Every other command (``pipemu env``, ``pipemu logs``, ``pipemu reset``, ``pipemu health``, a second ``pipemu up``)
finds it from that directory or any directory below it, walking up as git finds ``.git``. A record counts only
while the process that wrote it is alive and its endpoint answers; anything else is stale.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE_DIR = ".pipemu"
STATE_NAME = "endpoint.json"


@dataclass(frozen=True)
class RunningEmulator:
    path: Path  # the endpoint.json file
    pid: int
    env: dict[str, str]
    pipeline: str

    @property
    def endpoint_url(self) -> str:
        return self.env.get("AWS_ENDPOINT_URL", "")

    @property
    def region(self) -> str:
        return self.env.get("AWS_REGION", "us-east-1")


def find_state_file(start: Path) -> Path | None:
    """The nearest ``.pipemu/endpoint.json`` in ``start`` or one of its parents."""
    here = start.resolve()
    for directory in (here, *here.parents):
        candidate = directory / STATE_DIR / STATE_NAME
        if candidate.is_file():
            return candidate
    return None


def read(path: Path) -> RunningEmulator | None:
    """The record in ``path``, or None when it cannot be read."""
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return RunningEmulator(path, int(data["pid"]), {str(k): str(v) for k, v in data["env"].items()},
                               str(data.get("pipeline", "")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def answers(endpoint_url: str, timeout_s: float = 5.0) -> bool:
    """The endpoint is a pipemu emulator that answers now."""
    try:
        with urllib.request.urlopen(f"{endpoint_url}/_pipemu/ping", timeout=timeout_s) as response:
            return int(response.status) == 200
    except (OSError, ValueError, urllib.error.URLError):
        return False


def find_running(start: Path) -> tuple[RunningEmulator | None, Path | None]:
    """(the live emulator recorded nearest to ``start``, or None; the state file found, live or stale)."""
    path = find_state_file(start)
    if path is None:
        return None, None
    state = read(path)
    if state is None or not pid_alive(state.pid) or not answers(state.endpoint_url):
        return None, path
    return state, path


def write(directory: Path, *, env: dict[str, str], pipeline: str) -> Path:
    path = directory / STATE_DIR / STATE_NAME
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "env": env, "pipeline": pipeline}, indent=2))
    tmp.replace(path)  # readers never see half a file
    return path


def remove(path: Path) -> None:
    """Remove ``path`` if it is still this process's record (a later `up` may have replaced it)."""
    state = read(path)
    if state is not None and state.pid == os.getpid():
        path.unlink(missing_ok=True)
