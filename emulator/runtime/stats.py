"""Per-function counters behind ``LambdaRuntime.stats()``."""

from __future__ import annotations

import threading
from dataclasses import replace

from emulator.runtime.spec import FunctionStats, InvocationResult


class StatsBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[str, FunctionStats] = {}
        self._durations: dict[str, list[float]] = {}

    def record(self, name: str, result: InvocationResult, *, timed_out: bool, crashed: bool) -> None:
        with self._lock:
            old = self._stats.get(name, FunctionStats())
            self._durations.setdefault(name, []).append(result.duration_ms)
            self._stats[name] = replace(
                old,
                invocations=old.invocations + 1,
                cold_starts=old.cold_starts + int(result.cold_start),
                errors=old.errors + int(result.function_error is not None),
                timeouts=old.timeouts + int(timed_out),
                crashes=old.crashes + int(crashed),
            )

    def record_init(self, name: str) -> None:
        """An environment initialised ahead of its first invocation (provisioned, as at deploy) is a cold
        start all the same: the function's init code ran."""
        with self._lock:
            old = self._stats.get(name, FunctionStats())
            self._stats[name] = replace(old, cold_starts=old.cold_starts + 1)

    def snapshot(self) -> dict[str, FunctionStats]:
        with self._lock:
            return {
                name: replace(stats, durations_ms=tuple(self._durations.get(name, ())))
                for name, stats in self._stats.items()
            }
