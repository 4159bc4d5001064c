"""Seam: Lambda's CloudWatch Logs, written into moto's logs store in process.

moto writes a function's logs only from its Docker invoke path (``LambdaFunction._invoke_lambda``), which
pipemu's runtime replaces, and creates ``/aws/lambda/NAME`` only there. AWS creates the log group for every
function that runs. So the embedded backend (1) creates the group as soon as a function is created, by
wrapping ``LambdaBackend.create_function``, and (2) appends each invocation's lines to moto's store directly
(``InProcessLogSink``): the same store moto's HTTP API reads for GetLogEvents/FilterLogEvents, without an
HTTP round trip per batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.awslambda.models import LambdaBackend
from moto.logs.models import logs_backends

TOUCHES = (
    "moto.awslambda.models.LambdaBackend.create_function(spec) -> LambdaFunction(.function_arn)",
    "moto.logs.models.logs_backends[account][region]",
    "LogsBackend.{ensure_log_group, groups, put_log_events}, LogGroup.{streams, create_log_stream}",
)

_original: Callable[..., Any] | None = None
_on_create: Callable[[str], None] | None = None
_lock = threading.Lock()  # moto's log store is not thread-safe for writers (its own comment says so)


class InProcessLogSink:
    """``log_shipper.LogSink`` over moto's logs backend of the function's account and region."""

    def ensure_group(self, account: str, region: str, group: str) -> None:
        with _lock:
            logs_backends[account][region].ensure_log_group(group)

    def write(self, account: str, region: str, group: str, stream: str, events: list[dict[str, Any]]) -> None:
        with _lock:
            backend = logs_backends[account][region]
            backend.ensure_log_group(group)
            log_group = backend.groups[group]
            if stream not in log_group.streams:
                log_group.create_log_stream(stream)
            backend.put_log_events(group, stream, events)


def _patched_create_function(self: Any, spec: dict[str, Any]) -> Any:
    assert _original is not None
    fn = _original(self, spec)
    hook = _on_create
    if hook is not None:
        hook(str(fn.function_arn))
    return fn


def install(on_create: Callable[[str], None]) -> None:
    """``on_create(function_arn)`` after every CreateFunction that succeeded."""
    global _original, _on_create
    _on_create = on_create
    if _original is None:
        _original = LambdaBackend.create_function
        setattr(LambdaBackend, "create_function", _patched_create_function)


def uninstall() -> None:
    global _original, _on_create
    if _original is not None:
        setattr(LambdaBackend, "create_function", _original)
        _original = None
    _on_create = None
