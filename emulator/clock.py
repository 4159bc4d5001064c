"""Clocks: every AWS wait (batching window, retry backoff, record age, visibility timeout, Wait states) runs on
one of these, so a scenario can compress time and unit tests can drive logic without sleeping.

``now()`` is *emulated* time in seconds since the epoch: it advances ``scale`` times faster than wall time.
``wait(seconds, event)`` waits *emulated* seconds, returning early (True) when ``event`` is set.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    @property
    def scale(self) -> float: ...

    def now(self) -> float: ...

    def from_wall(self, wall_ts: float) -> float:
        """The emulated time of an instant given in wall-clock epoch seconds (e.g. a record's arrival)."""
        ...

    def wait(self, seconds: float, event: threading.Event | None = None) -> bool: ...


class ScaledClock:
    """Wall clock running ``scale`` times faster. ``scale=1`` is real time."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError(f"time scale must be > 0, got {scale}")
        self._scale = float(scale)
        self._wall0 = time.time()
        self._mono0 = time.monotonic()
        self._offset = 0.0  # emulated minus wall at the last rebase

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> float:
        return self._wall0 + self._offset + (time.monotonic() - self._mono0) * self._scale

    def set_scale(self, scale: float) -> None:
        """Change the scale from now on; emulated time stays continuous."""
        if scale <= 0:
            raise ValueError(f"time scale must be > 0, got {scale}")
        now = self.now()
        self._wall0, self._mono0 = time.time(), time.monotonic()
        self._offset = now - self._wall0
        self._scale = float(scale)

    def from_wall(self, wall_ts: float) -> float:
        return self._wall0 + self._offset + (wall_ts - self._wall0) * self._scale

    def wall_seconds(self, emulated_seconds: float) -> float:
        return emulated_seconds / self._scale

    def wait(self, seconds: float, event: threading.Event | None = None) -> bool:
        wall = max(0.0, seconds / self._scale)
        if event is None:
            time.sleep(wall)
            return False
        return event.wait(wall)


class FakeClock:
    """Manually advanced clock for unit tests. ``wait`` advances time instead of sleeping."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self.waits: list[float] = []

    @property
    def scale(self) -> float:
        return 1.0

    def now(self) -> float:
        return self._now

    def from_wall(self, wall_ts: float) -> float:
        return wall_ts

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def wait(self, seconds: float, event: threading.Event | None = None) -> bool:
        if event is not None and event.is_set():
            return True
        self.waits.append(seconds)
        self._now += seconds
        return False
