"""Warm workers of one function: reuse, scale-out up to a limit, retire workers of replaced code.

Mirrors how Lambda manages execution environments
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html): an environment serves one request at a
time, concurrent requests get more environments, an idle one is reused (warm start), and updating the
function's code or configuration means new environments. Past the concurrency limit callers wait for a free
worker instead of being throttled, since a test harness wants the work done, not a 429.

The pool knows nothing about processes: workers only need ``generation``, ``alive()``, ``kill()`` and
``close()``, so the bookkeeping is unit-testable with fakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

from emulator.errors import HarnessError


class PooledWorker(Protocol):
    generation: str

    def alive(self) -> bool: ...

    def kill(self) -> None: ...

    def close(self) -> None: ...


W = TypeVar("W", bound=PooledWorker)


class WorkerPool(Generic[W]):
    def __init__(self, function_name: str, max_workers: int) -> None:
        if max_workers < 1:
            raise ValueError(f"max_concurrency_per_function must be >= 1, got {max_workers}")
        self._name = function_name
        self._max = max_workers
        self._cond = threading.Condition()
        self._generation = ""
        self._idle: list[W] = []  # most recently used last: reuse the warmest first
        self._busy: list[W] = []
        self._starting = 0  # slots reserved by callers that are spawning a worker right now
        self._closed = False

    def acquire(self, generation: str, spawn: Callable[[], W]) -> tuple[W, bool]:
        """A worker for ``generation``: an idle one (``fresh=False``) or a newly spawned one (``fresh=True``,
        init not yet awaited). Blocks while ``max_workers`` are busy."""
        stale: list[W] = []
        worker: W | None = None
        try:
            with self._cond:
                while worker is None:
                    self._raise_if_closed()
                    if generation != self._generation:
                        self._generation = generation
                        stale += self._idle
                        self._idle = []
                    while self._idle and worker is None:
                        candidate = self._idle.pop()
                        if candidate.alive():
                            worker = candidate
                        else:
                            stale.append(candidate)
                    if worker is not None:
                        self._busy.append(worker)
                        return worker, False
                    if len(self._busy) + self._starting < self._max:
                        self._starting += 1
                        break
                    self._cond.wait()
        finally:
            for old in stale:
                old.close()
        return self._spawn(spawn), True

    def _spawn(self, spawn: Callable[[], W]) -> W:
        try:
            worker = spawn()
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            if not self._closed:
                self._busy.append(worker)
                return worker
        worker.close()
        raise HarnessError(f"the Lambda runtime was closed while starting a worker for {self._name!r}")

    def release(self, worker: W, *, reusable: bool) -> None:
        """Give a worker back: kept warm if ``reusable`` and still current, otherwise stopped."""
        with self._cond:
            if worker in self._busy:
                self._busy.remove(worker)
            keep = reusable and not self._closed and worker.generation == self._generation and worker.alive()
            if keep:
                self._idle.append(worker)
            self._cond.notify()
        if not keep:
            worker.close()

    def close(self) -> None:
        """Stop every worker. Busy ones are only killed here: their invoking threads see the worker die,
        return, and close it in ``release`` (closing its pipes under a thread still polling them would be
        unsafe)."""
        with self._cond:
            self._closed = True
            idle, busy = self._idle, list(self._busy)
            self._idle = []
            self._cond.notify_all()
        for worker in idle:
            worker.close()
        for worker in busy:
            worker.kill()

    def wait_idle(self, timeout_s: float) -> bool:
        """After ``close``: wait until invoking threads have handed back their (killed) workers."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy and not self._starting, timeout_s)

    def _raise_if_closed(self) -> None:
        if self._closed:
            raise HarnessError(
                f"the Lambda runtime is closed; cannot invoke {self._name!r}",
                hint="invoke inside the `with LambdaRuntime(...)` block",
            )
