"""Which interpreter runs a function: the one its Lambda runtime names, or the nearest one installed.

A ``python3.X`` function runs on Python 3.X and a ``nodejsN.x`` function on Node.js N when this machine has
it; otherwise on the nearest version found, and ``Interpreter.note`` says which ran instead of which (the
runtime writes it into the cold start's log, ``pipemu doctor`` and the run report show it).

Where interpreters are looked for:
- Python 3.X: the harness's own interpreter; ``python3.X`` on PATH; pyenv (``$PYENV_ROOT/versions/3.X*``);
  uv's managed Pythons (``$UV_PYTHON_INSTALL_DIR``, default ``~/.local/share/uv/python/cpython-3.X*``).
- Node.js N: ``node``/``nodejs``/``nodeN`` on PATH; nvm (``$NVM_DIR/versions/node/v*``), fnm
  (``$FNM_DIR/node-versions/v*``), volta (``~/.volta/tools/image/node/*``), asdf; and the ``node`` package from
  npm installed with ``npm install --prefix ~/.cache/pipemu/node@N node@N``.

A Python other than the harness's own is used only when it can run pipemu's worker and import boto3, which
AWS's Python runtimes provide to every handler. Without boto3 the function falls back to the harness's Python
with a note saying how to fix it; ``PIPEMU_PYTHON_INTERPRETER=host`` keeps every Python function on the
harness's Python (whose packages the handlers then see, as before).

Every candidate is asked its version once per process (a few tens of ms each), never guessed from its path.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from emulator.errors import HandlerError

Language = Literal["python", "node"]

PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13")
NODE_RUNTIMES = ("nodejs18.x", "nodejs20.x", "nodejs22.x")
RUNTIMES = PYTHON_RUNTIMES + NODE_RUNTIMES

_PROBE_TIMEOUT_S = 10.0
_PYTHON_PROBE = (
    "import importlib.util, json, sys; print(json.dumps({'version': list(sys.version_info[:3]), "
    "'boto3': importlib.util.find_spec('boto3') is not None}))"
)
WORKER_PYTHON = (3, 11)  # the oldest Python pipemu's worker runs on (it is pipemu's own code)


@dataclass(frozen=True)
class Interpreter:
    """The interpreter that runs functions of ``runtime``. ``note`` is empty when it is the version the
    runtime names, else one sentence saying what runs instead and why."""

    runtime: str
    language: Language
    executable: str
    version: tuple[int, ...]
    host: bool = False  # the harness's own Python (pre-started workers are this interpreter)
    note: str = ""

    @property
    def label(self) -> str:
        name = "Python" if self.language == "python" else "Node.js"
        return f"{name} {'.'.join(map(str, self.version))} ({self.executable})"


@dataclass(frozen=True)
class _Found:
    executable: str
    version: tuple[int, ...]
    problem: str = ""  # why it cannot run functions ("" = usable)


def language_of(runtime: str) -> Language:
    if runtime.startswith("nodejs"):
        return "node"
    if runtime.startswith("python"):
        return "python"
    raise HandlerError(
        f"runtime {runtime!r} is not one pipemu can run",
        hint=f"use one of: {', '.join(RUNTIMES)}",
    )


def wanted_version(runtime: str) -> tuple[int, ...]:
    """``python3.12`` -> (3, 12); ``nodejs20.x`` -> (20,)."""
    digits = re.findall(r"\d+", runtime)
    if runtime.startswith("nodejs") and digits:
        return (int(digits[0]),)
    if runtime.startswith("python") and len(digits) >= 2:
        return (int(digits[0]), int(digits[1]))
    raise HandlerError(f"runtime {runtime!r} is not one pipemu can run", hint=f"use one of: {', '.join(RUNTIMES)}")


@functools.cache
def resolve(runtime: str) -> Interpreter:
    """The interpreter for ``runtime``; raises ``HandlerError`` when the language has none at all."""
    language = language_of(runtime)
    wanted = wanted_version(runtime)
    if language == "python":
        return _resolve_python(runtime, wanted)
    return _resolve_node(runtime, wanted)


def clear_cache() -> None:
    """Forget what was found (tests that change PATH or the search directories call this)."""
    resolve.cache_clear()
    _python_found.cache_clear()
    _node_found.cache_clear()


# ---- Python -------------------------------------------------------------------------------------------


def _host_python() -> _Found:
    return _Found(sys.executable, tuple(sys.version_info[:3]))


def _resolve_python(runtime: str, wanted: tuple[int, ...]) -> Interpreter:
    host = _host_python()
    if host.version[:2] == wanted:
        return Interpreter(runtime, "python", host.executable, host.version, host=True)
    if os.environ.get("PIPEMU_PYTHON_INTERPRETER", "").lower() == "host":
        note = f"{runtime} runs on the harness's {_label('python', host)}: PIPEMU_PYTHON_INTERPRETER=host"
        return Interpreter(runtime, "python", host.executable, host.version, host=True, note=note)
    exact = _python_found(wanted[1])
    usable = [f for f in exact if not f.problem]
    if usable:
        return Interpreter(runtime, "python", usable[0].executable, usable[0].version)
    why = (
        f"{exact[0].executable} is Python {'.'.join(map(str, wanted))} but {exact[0].problem}"
        if exact
        else f"no Python {'.'.join(map(str, wanted))} found (PATH, pyenv, uv)"
    )
    # Only versions closer than the harness's own can beat it, so only those are asked.
    distance = abs(host.version[1] - wanted[1])
    closer = [m for m in range(9, 15) if m != wanted[1] and abs(m - wanted[1]) <= distance]
    choices = [host, *(f for m in closer for f in _python_found(m) if not f.problem)]
    best = _nearest(choices, wanted)
    note = f"{runtime} runs on {_label('python', best)}: {why}"
    return Interpreter(runtime, "python", best.executable, best.version, host=best is host, note=note)


def _python_paths(minor: int) -> Iterator[Path]:
    name = f"python3.{minor}"
    on_path = shutil.which(name)
    if on_path and not _is_shim(on_path):
        yield Path(on_path)
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    yield from (d / "bin" / name for d in sorted(pyenv.glob(f"3.{minor}.*")))
    uv = Path(os.environ.get("UV_PYTHON_INSTALL_DIR") or Path.home() / ".local/share/uv/python")
    yield from (d / "bin" / name for d in sorted(uv.glob(f"cpython-3.{minor}.*")))


@functools.cache
def _python_found(minor: int) -> tuple[_Found, ...]:
    """Every Python 3.``minor`` found (the harness's own left out), with what keeps it from running
    functions."""
    seen = {os.path.realpath(sys.executable)}
    out: list[_Found] = []
    for path in _python_paths(minor):
        real = os.path.realpath(path)
        if real in seen or not os.access(real, os.X_OK):
            continue
        seen.add(real)
        found = _probe_python(path)
        if found is not None and found.version[:2] == (3, minor):
            out.append(found)
    return tuple(out)


def _probe_python(path: Path) -> _Found | None:
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(Path.home())}
    try:
        done = subprocess.run(
            [str(path), "-c", _PYTHON_PROBE],
            env=env, capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False,
        )
        info = json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None  # not a working interpreter (a pyenv shim for a version not selected, a broken link)
    version = tuple(int(v) for v in info["version"])
    problem = ""
    if version[:2] < WORKER_PYTHON:
        problem = f"pipemu's worker needs Python {'.'.join(map(str, WORKER_PYTHON))}+"
    elif not info["boto3"]:
        problem = (
            "cannot import boto3, which AWS's Python runtimes provide "
            f"(`{path} -m pip install boto3` lets pipemu use it)"
        )
    return _Found(str(path), version, problem)  # the path found, so a wrapper script stays in charge


# ---- Node.js ------------------------------------------------------------------------------------------


def _resolve_node(runtime: str, wanted: tuple[int, ...]) -> Interpreter:
    found = _node_found()
    if not found:
        raise HandlerError(
            f"{runtime} functions need Node.js, and none was found (PATH, nvm, fnm, volta, asdf, "
            "~/.cache/pipemu/node@N)",
            hint="install Node.js (Debian/Ubuntu: `apt-get install nodejs`) and run again",
        )
    exact = [f for f in found if f.version[:1] == wanted]
    if exact:
        return Interpreter(runtime, "node", exact[0].executable, exact[0].version)
    best = _nearest(found, wanted)
    note = (
        f"{runtime} runs on {_label('node', best)}: no Node.js {wanted[0]} found "
        f"(`npm install --prefix ~/.cache/pipemu/node@{wanted[0]} node@{wanted[0]}` provides one)"
    )
    return Interpreter(runtime, "node", best.executable, best.version, note=note)


def _node_paths() -> Iterator[Path]:
    for name in ("node", "nodejs", *(f"node{major}" for major in range(16, 27))):
        on_path = shutil.which(name)
        if on_path and not _is_shim(on_path):
            yield Path(on_path)
    home = Path.home()
    nvm = Path(os.environ.get("NVM_DIR") or home / ".nvm") / "versions" / "node"
    yield from (d / "bin" / "node" for d in sorted(nvm.glob("v*")))
    for fnm in (os.environ.get("FNM_DIR"), home / ".local/share/fnm", home / ".fnm"):
        if fnm:
            yield from (d / "installation" / "bin" / "node" for d in sorted(Path(fnm).glob("node-versions/v*")))
    yield from (d / "bin" / "node" for d in sorted((home / ".volta/tools/image/node").glob("*")))
    yield from (d / "bin" / "node" for d in sorted((home / ".asdf/installs/nodejs").glob("*")))
    cache = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "pipemu"
    yield from (d / "node_modules" / "node" / "bin" / "node" for d in sorted(cache.glob("node@*")))


@functools.lru_cache(maxsize=1)
def _node_found() -> tuple[_Found, ...]:
    seen: set[str] = set()
    out: list[_Found] = []
    for path in _node_paths():
        real = os.path.realpath(path)
        if real in seen or not os.access(real, os.X_OK):
            continue
        seen.add(real)
        found = _probe_node(real)
        if found is not None:
            out.append(found)
    return tuple(out)


def _probe_node(path: str) -> _Found | None:
    try:
        done = subprocess.run(
            [path, "-p", "process.versions.node + ' ' + process.execPath"],
            env={"PATH": os.environ.get("PATH", os.defpath)},
            capture_output=True, text=True, timeout=_PROBE_TIMEOUT_S, check=False,
        )
        version_text, executable = done.stdout.strip().split(" ", 1)
        version = tuple(int(v) for v in version_text.split("."))
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    return _Found(executable, version)


# ---- shared -------------------------------------------------------------------------------------------


def _is_shim(path: str) -> bool:
    """A version manager's shim (pyenv, asdf, volta): a script that picks a version itself, slowly, and
    fails for versions not selected; the versions behind it are looked up directly instead."""
    return Path(path).parent.name == "shims" or "/.volta/bin/" in path


def _nearest(choices: Iterable[_Found], wanted: tuple[int, ...]) -> _Found:
    """The closest version; of two equally close, the newer (code written for N usually runs on N+1)."""
    return min(choices, key=lambda f: (abs(f.version[len(wanted) - 1] - wanted[-1]), -f.version[len(wanted) - 1]))


def _label(language: Language, found: _Found) -> str:
    name = "Python" if language == "python" else "Node.js"
    return f"{name} {'.'.join(map(str, found.version))} ({found.executable})"


def served() -> dict[str, Interpreter | HandlerError]:
    """Every runtime pipemu knows, for ``pipemu doctor``: the interpreter that runs it here (its ``note`` says
    when it is not the version named), or why none can."""
    out: dict[str, Interpreter | HandlerError] = {}
    for runtime in RUNTIMES:
        try:
            out[runtime] = resolve(runtime)
        except HandlerError as error:
            out[runtime] = error
    return out
