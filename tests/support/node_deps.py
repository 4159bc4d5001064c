"""Installs a fixture's npm dependencies once (``npm ci``), for tests whose Node.js handlers import them.

The lock file pins the versions; a stamp in ``node_modules`` records which lock file was installed, so the
install runs again only when the lock file changes. A file lock keeps parallel test workers from installing
into the same directory at once. Without npm the tests fail with the command to fix it (CI installs Node.js
and npm from Debian's packages)."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

STAMP = ".pipemu-installed-lock"


def ensure_node_modules(project: Path, timeout_s: float = 600.0) -> Path:
    """``project/node_modules`` as ``project/package-lock.json`` pins it."""
    lock = project / "package-lock.json"
    wanted = hashlib.sha256(lock.read_bytes()).hexdigest()
    modules = project / "node_modules"
    npm = shutil.which("npm")
    guard_file = Path(tempfile.gettempdir()) / f"pipemu-npm-{hashlib.sha256(str(project).encode()).hexdigest()[:12]}"
    with open(guard_file, "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        stamp = modules / STAMP
        if stamp.is_file() and stamp.read_text() == wanted:
            return modules
        if npm is None:
            raise AssertionError(
                f"npm is needed to install {project.name}'s dependencies and is not on PATH; "
                "install Node.js and npm (Debian: apt-get install nodejs npm)"
            )
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=project, capture_output=True, text=True, timeout=timeout_s, check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"`npm ci` in {project} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        stamp.write_text(wanted)
    return modules
