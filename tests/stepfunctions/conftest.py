"""Fixtures: an ``Sfn`` helper per test, and a clock scale that is always restored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sfn_support import Sfn


@pytest.fixture
def sfn(pipemu: Any) -> Sfn:
    return Sfn(pipemu)


@pytest.fixture
def scale(pipemu: Any) -> Iterator[Callable[[float], None]]:
    """``scale(n)``: Wait states and Retry intervals run n times faster for the rest of the test."""
    clock = pipemu.backend.clock
    before = clock.scale
    yield clock.set_scale
    clock.set_scale(before)
