"""Fixtures: a function-spec factory and a runtime that is always closed, also when a test fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from lambda_helpers import ENDPOINT, handler_files, spec

from emulator.runtime import FunctionSpec, LambdaRuntime


@pytest.fixture
def make_fn() -> Callable[..., FunctionSpec]:
    """``make_fn("behaviours.pid", "behaviours.py", timeout_s=1)``: a FunctionSpec from handler files."""

    def make(handler: str, *names: str, name: str = "fn", **overrides: Any) -> FunctionSpec:
        return spec(handler, handler_files(*names), name=name, **overrides)

    return make


@pytest.fixture
def runtime() -> Iterator[LambdaRuntime]:
    with LambdaRuntime(endpoint_url=ENDPOINT) as rt:
        yield rt
