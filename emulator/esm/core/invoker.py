"""How a poller calls the target function: an ``Invoker`` (the backends give one that calls pipemu's runtime
directly, see ``emulator.backends.embedded`` and ``local_driver``)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class InvokeOutcome:
    """What came back from one synchronous invocation.

    ``invoked`` is False when the call failed before the function ran (throttle, service error): AWS does
    not count those against MaximumRetryAttempts.
    """

    payload: bytes
    function_error: str | None
    status_code: int
    invoked: bool = True
    request_id: str = ""
    error_code: str | None = None

    @property
    def failed(self) -> bool:
        return self.function_error is not None or not self.invoked


class Invoker(Protocol):
    def invoke(self, function_arn: str, payload: bytes) -> InvokeOutcome: ...

    def role_arn(self, function_arn: str) -> str: ...


def log_thread_failure(log: logging.Logger, stopping: threading.Event, message: str, *args: object) -> None:
    """A poller thread ended on an exception: shown with its traceback, unless the poller was being stopped,
    when its function's runtime closing under the invocation in flight is how stopping ends it (quiet then:
    an interrupted run prints its interruption, not the tracebacks of the threads it ended)."""
    if stopping.is_set():
        log.debug(message, *args, exc_info=True)
    else:
        log.exception(message, *args)
