"""What the runtime is given (``FunctionSpec``) and what it hands back (``InvocationResult``,
``FunctionStats``)."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class FunctionSpec:
    """One deployed function version. ``code_sha256`` identifies the code: a new value means new workers.
    Field meanings follow the Lambda CreateFunction API:
    https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html"""

    name: str
    arn: str  # arn:aws:lambda:REGION:ACCOUNT:function:NAME
    handler: str  # "module.func", "pkg/mod.func" or "pkg.mod.func" as on AWS
    code_zip: bytes = field(repr=False)
    code_sha256: str
    runtime: str = "python3.12"
    timeout_s: float = 3.0
    memory_mb: int = 128
    environment: Mapping[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    version: str = "$LATEST"

    def generation(self) -> str:
        """Workers are reusable only for the same code *and* configuration: on AWS, updating either replaces
        the execution environments. The timeout is left out because the parent enforces it per invocation."""
        config = [
            self.handler,
            self.code_sha256,
            self.runtime,
            self.memory_mb,
            sorted(self.environment.items()),
        ]
        config += [self.region, self.version, self.arn]
        return hashlib.sha256(json.dumps(config).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class InjectedFault:
    """A fault pipemu injects into one invocation without touching the user's code (scenario ``faults``)."""

    kind: Literal["error", "timeout", "crash"] | None = None
    latency_ms: float = 0.0


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    payload: bytes  # the handler's JSON-serialised return value, or AWS's error JSON
    function_error: str | None  # None on success; "Unhandled" for an uncaught exception, timeout or crash
    logs: str  # this invocation's log text, START/END/REPORT lines included
    duration_ms: float
    init_duration_ms: float | None  # set on a cold start only
    cold_start: bool
    log_stream: str = ""  # the execution environment's CloudWatch Logs stream, YYYY/MM/DD/[$LATEST]<32 hex>
    started: float = 0.0  # epoch seconds when the invocation began (what its log lines are dated)


@dataclass(frozen=True)
class FunctionStats:
    """Counters for one function name since the runtime started. ``errors`` counts every invocation with a
    function error (timeouts and crashes included); ``timeouts`` and ``crashes`` break them down."""

    invocations: int = 0
    cold_starts: int = 0
    errors: int = 0
    timeouts: int = 0
    crashes: int = 0
    durations_ms: tuple[float, ...] = field(default=(), repr=False)

    @property
    def p50_ms(self) -> float | None:
        return statistics.median(self.durations_ms) if self.durations_ms else None

    @property
    def max_ms(self) -> float | None:
        return max(self.durations_ms) if self.durations_ms else None
