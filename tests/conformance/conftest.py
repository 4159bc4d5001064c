"""Fixtures for the conformance suite: a ``Kit`` per test and a time-scale switch that is always restored."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from esm_kit import Kit


@pytest.fixture
def kit(pipemu) -> Kit:
    return Kit(pipemu)


@pytest.fixture
def time_scale(pipemu) -> Iterator[Callable[[float], None]]:
    """``time_scale(n)`` runs AWS waits (record age, retry backoff, batching window) n times faster for the rest of
    the test. Set it before putting records whose age matters."""
    clock = pipemu.backend.clock
    before = clock.scale
    yield clock.set_scale
    clock.set_scale(before)
