"""Waiting on a condition with a timeout: never a sleep to wait for a pipeline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def wait_for(what: str, probe: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 20.0) -> Any:
    """Call ``probe`` until ``done(value)``; fail saying what was awaited, how long, and what was last seen."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if done(last):
            return last
        time.sleep(0.02)  # polling interval of the condition, not a wait for the pipeline
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last seen: {last!r}")


def returns_in_time(call: Callable[[], Any], what: str, timeout: float = 20.0) -> None:
    """Run ``call`` in a daemon thread and fail unless it returns within ``timeout`` (a call that hangs is left
    behind, never waited for, so the test's own ``finally`` can release what it hangs on)."""
    returned = threading.Event()
    threading.Thread(target=lambda: (call(), returned.set()), daemon=True).start()
    wait_for(what, returned.is_set, bool, timeout=timeout)
