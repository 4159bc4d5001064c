"""How a poller calls the target function: an ``Invoker`` (the backends give one that calls pipemu's runtime
directly, see ``emulator.backends.embedded`` and ``local_driver``)."""

from __future__ import annotations

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
