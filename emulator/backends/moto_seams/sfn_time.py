"""Seam: Wait states and Retry intervals in moto's ASL interpreter follow pipemu's clock.

moto really sleeps: a ``Wait`` state blocks on ``env.program_state_event.wait(seconds)`` in
``WaitFunction._wait_interval``, and a retrier calls ``time.sleep(interval)`` in ``RetrierDecl._eval_body``. We
replace the first, and give the retrier module a ``time`` whose ``sleep`` divides by ``clock.scale``, read at each
sleep so that a scenario's ``time_scale`` applies from the next wait on.

``TimeoutSeconds``/``HeartbeatSeconds`` stay in wall time: they race handler code, which runs at real speed
whatever the scale (the Lambda runtime enforces function timeouts in wall time for the same reason).

moto's interpreter is imported by ``install()``, not with this module: importing it builds boto3 sessions (via
moto.ec2), which must not happen before pipemu has set up the process environment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, Protocol

TOUCHES = (
    "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function.WaitFunction"
    "._wait_interval(self, env, wait_seconds)",
    "moto.stepfunctions.parser.asl.component.common.retry.retrier_decl.time (only .sleep is used)",
    "Environment.{program_state_event,is_running}",
)


class _Scaled(Protocol):
    @property
    def scale(self) -> float: ...


_clock: _Scaled | None = None
_original_wait: Callable[..., Any] | None = None
_original_time: Any = None
_lock = threading.Lock()


def _scale() -> float:
    clock = _clock
    return clock.scale if clock is not None else 1.0


def wall_seconds(emulated_seconds: float) -> float:
    """How long moto really waits for ``emulated_seconds`` of AWS time at the current scale."""
    return max(0.0, float(emulated_seconds)) / _scale()


def _scaled_sleep(seconds: float) -> None:
    time.sleep(wall_seconds(seconds))


def _scaled_wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
    # program_state_event pulses on every change of program state (stop, error, timeout): keep waiting through
    # pulses while the execution still runs, return as soon as it does not.
    deadline = time.monotonic() + wall_seconds(wait_seconds)
    while env.is_running():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        env.program_state_event.wait(remaining)


def install(clock: _Scaled) -> None:
    global _clock, _original_wait, _original_time
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    with _lock:
        _clock = clock
        if _original_wait is None:
            _original_wait = WaitFunction._wait_interval
            _original_time = vars(retrier_decl)["time"]  # the module it imported, replaced below
            setattr(WaitFunction, "_wait_interval", _scaled_wait_interval)
            setattr(retrier_decl, "time", SimpleNamespace(sleep=_scaled_sleep))


def uninstall() -> None:
    global _clock, _original_wait, _original_time
    with _lock:
        _clock = None
        if _original_wait is not None:
            from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
            from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

            setattr(WaitFunction, "_wait_interval", _original_wait)
            setattr(retrier_decl, "time", _original_time)
            _original_wait = None
            _original_time = None
