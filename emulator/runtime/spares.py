"""Pre-started workers: interpreters that have already started and imported boto3, waiting to become some
function's execution environment.

Starting a worker costs ~0.25 s before the handler's own code runs, mostly the interpreter and ``import boto3``
(which nearly every handler does). The runtime keeps ``count`` such processes ready, started in the background
on another core while the pipeline deploys; ``take`` hands one out and ``refill`` starts replacements. A worker
handed out is told the function's environment, directory and flags (``WorkerProcess.assign``) and from then on is the
process the runtime would have started for that function, with one difference a handler can observe: boto3 is
already in ``sys.modules`` when its module is imported, so the reported Init Duration leaves out boto3's import.

A function gets a fresh process instead when a pre-started one could behave differently: its environment sets
something the interpreter or boto3 reads at start-up (``PYTHON*``, ``LD_*``, ``BOTO*``, locale, ``HOME``...),
or its code ships a top-level module or package of a name already imported here (a vendored boto3, botocore or
urllib3 must win, as on AWS).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from emulator.runtime.process import WorkerProcess

PRESTART = ("boto3",)
"""What a pre-started worker imports before it is assigned."""

_STARTUP_PREFIXES = ("PYTHON", "LD_", "BOTO", "AWS_DATA_PATH", "LANG", "LC_", "HOME", "TZ")

log = logging.getLogger(__name__)


def usable_for(environment: Mapping[str, str], task_root: Path) -> bool:
    """Whether a pre-started worker behaves as a fresh one would for a function with this environment and code."""
    if any(key.upper().startswith(_STARTUP_PREFIXES) for key in environment):
        return False
    for module in PRESTART:  # then this process has imported at least what a spare did (pipemu itself, too)
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    imported = {name.partition(".")[0] for name in list(sys.modules)}
    try:
        shipped = {entry.name.removesuffix(".py") for entry in task_root.iterdir()}
    except OSError:
        return False
    return not shipped & imported


class SpareWorkers:
    """Up to ``count`` pre-started workers, refilled in the background. Thread-safe; ``close`` stops them."""

    def __init__(self, count: int, start: Callable[[], WorkerProcess]) -> None:
        self._count = count
        self._start = start
        self._spares: list[WorkerProcess] = []
        self._lock = threading.Lock()
        self._closed = False
        self._filling = False
        self._filler: threading.Thread | None = None

    def take(self, environment: Mapping[str, str], task_root: Path) -> WorkerProcess | None:
        """A live pre-started worker for a function with this environment and code, or None (start one)."""
        if not self._count or not usable_for(environment, task_root):
            return None
        worker: WorkerProcess | None = None
        dead: list[WorkerProcess] = []
        with self._lock:
            while self._spares and worker is None:
                candidate = self._spares.pop(0)
                if candidate.alive():
                    worker = candidate
                else:
                    dead.append(candidate)
        for gone in dead:
            gone.close()
        return worker

    def refill(self) -> None:
        """Start workers in the background until ``count`` are ready. The runtime calls this when asked to
        (``LambdaRuntime.prestart_workers``) and once a worker it handed out has loaded its handler: started
        earlier, the replacements would compete for the CPU with the very inits they are meant to speed up."""
        self._fill_soon()

    def close(self, timeout_s: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            spares, self._spares = self._spares, []
            filler = self._filler
        for worker in spares:
            worker.close()
        if filler is not None and filler is not threading.current_thread():
            # A worker being started right now is closed by the filler itself once it sees _closed: wait for
            # that, so nothing of ours outlives close() (starting one is a fork+exec, well under this bound).
            filler.join(timeout=timeout_s)

    def _fill_soon(self) -> None:
        with self._lock:
            if self._closed or self._filling or len(self._spares) >= self._count:
                return
            self._filling = True
            self._filler = threading.Thread(target=self._fill, name="pipemu-spare-workers", daemon=True)
            self._filler.start()

    def _fill(self) -> None:
        try:
            while True:
                with self._lock:
                    if self._closed or len(self._spares) >= self._count:
                        return
                try:
                    worker = self._start()
                except OSError as exc:  # e.g. the runtime's directory is gone because it was closed meanwhile
                    log.debug("could not pre-start a worker: %s", exc)
                    return
                with self._lock:
                    if not self._closed:
                        self._spares.append(worker)
                        continue
                worker.close()
                return
        finally:
            with self._lock:
                self._filling = False
