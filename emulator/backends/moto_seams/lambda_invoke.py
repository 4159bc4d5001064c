"""Seam: route every Lambda invocation inside moto to pipemu's runtime.

Every path in moto (the Invoke API, Step Functions tasks, S3/SNS/EventBridge notifications) ends in
``moto.awslambda.models.LambdaFunction.invoke(self, body, request_headers, response_headers)``. moto runs the
code in Docker there and marks any error ``Handled``; AWS says ``Unhandled`` for an uncaught exception, so we
replace the whole method rather than ``_invoke_lambda``.

Internal callers (S3 notifications and the like) pass ``{}`` as request headers; AWS invokes those
asynchronously, so they run in the background instead of blocking the S3 request that triggered them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, Protocol

from moto.awslambda.models import LambdaFunction

from emulator.runtime import FunctionSpec, InvocationResult

TOUCHES = (
    "moto.awslambda.models.LambdaFunction.invoke",
    "LambdaFunction.{function_name,function_arn,handler,code_bytes,code_sha_256,run_time,timeout,"
    "memory_size,environment_vars,region,version}",
)

_LOG_TAIL_BYTES = 4096  # AWS returns the last 4 KB of the log in x-amz-log-result


class InvocationRouter(Protocol):
    def invoke_sync(self, fn: FunctionSpec, payload: bytes) -> InvocationResult: ...

    def invoke_async(self, fn: FunctionSpec, payload: bytes) -> None: ...


_original: Callable[..., Any] | None = None
_router: InvocationRouter | None = None


def function_spec(fn: Any) -> FunctionSpec:
    """The runtime's view of a moto ``LambdaFunction``."""
    return FunctionSpec(
        name=fn.function_name,
        arn=fn.function_arn,
        handler=fn.handler,
        code_zip=fn.code_bytes,
        code_sha256=fn.code_sha_256,
        runtime=fn.run_time or "python3.12",
        timeout_s=float(fn.timeout or 3),
        memory_mb=int(fn.memory_size or 128),
        environment={str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
        region=fn.region,
        version=str(fn.version) if fn.version else "$LATEST",
    )


def _invocation_type(request_headers: Any) -> str | None:
    if not request_headers:
        return None
    for key in ("X-Amz-Invocation-Type", "x-amz-invocation-type"):
        value = request_headers.get(key)
        if value:
            return str(value)
    return "RequestResponse"


def _payload_bytes(body: Any) -> bytes:
    if body is None or body == "":
        return b"{}"
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def _patched_invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> str | bytes:
    router = _router
    if router is None:  # pragma: no cover - uninstall() restores the original first
        raise RuntimeError("pipemu lambda seam called while not installed")
    spec = function_spec(self)
    inv_type = _invocation_type(request_headers)
    payload = _payload_bytes(body)
    if inv_type is None or inv_type == "Event":
        router.invoke_async(spec, payload)
        return b""
    if inv_type == "DryRun":
        return b""
    result = router.invoke_sync(spec, payload)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["x-amz-executed-version"] = spec.version
    tail = result.logs.encode()[-_LOG_TAIL_BYTES:]
    response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
    return result.payload


def install(router: InvocationRouter) -> None:
    global _original, _router
    _router = router
    if _original is None:
        _original = LambdaFunction.invoke
        setattr(LambdaFunction, "invoke", _patched_invoke)


def uninstall() -> None:
    global _original, _router
    if _original is not None:
        setattr(LambdaFunction, "invoke", _original)
        _original = None
    _router = None


def find_function(function_arn: str) -> Any:
    """The moto ``LambdaFunction`` behind an ARN (qualified or not), read in-process.

    Pollers on the embedded backend invoke through here instead of the HTTP API: same function, same
    runtime, no HTTP round trip.
    """
    from moto.awslambda.utils import get_backend

    parts = function_arn.split(":")
    account, region = parts[4], parts[3]
    return get_backend(account, region).get_function(function_arn)
