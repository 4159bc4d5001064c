"""The Lambda runtime: runs users' Python handlers like AWS Lambda does, in local worker processes (no
Docker).

Names are loaded lazily (PEP 562) because every worker process starts with ``python -m
emulator.runtime.worker``, which imports this package first; the parent-side machinery (subprocess, zipfile,
threads) would add milliseconds to every cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.runtime.runtime import LambdaRuntime
    from emulator.runtime.spec import FunctionSpec, FunctionStats, InjectedFault, InvocationResult

__all__ = ["FunctionSpec", "FunctionStats", "InjectedFault", "InvocationResult", "LambdaRuntime"]

_WHERE = {
    "FunctionSpec": "emulator.runtime.spec",
    "FunctionStats": "emulator.runtime.spec",
    "InvocationResult": "emulator.runtime.spec",
    "InjectedFault": "emulator.runtime.spec",
    "LambdaRuntime": "emulator.runtime.runtime",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
