"""Helpers for the Node.js runtime tests: FunctionSpecs whose zip holds ``node_handlers/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambda_helpers import spec

from emulator.runtime import FunctionSpec, InvocationResult

NODE_HANDLERS = Path(__file__).parent / "node_handlers"


def node_files() -> dict[str, str | bytes]:
    files = sorted(p for p in NODE_HANDLERS.rglob("*") if p.is_file())
    return {str(p.relative_to(NODE_HANDLERS)): p.read_bytes() for p in files}


def node_fn(handler: str, *, name: str = "node-fn", runtime: str = "nodejs20.x", **overrides: Any) -> FunctionSpec:
    """A function running ``handler`` from ``node_handlers/`` (every file of it in the zip)."""
    return spec(handler, node_files(), name=name, runtime=runtime, **overrides)


def body(result: InvocationResult) -> Any:
    return json.loads(result.payload)
