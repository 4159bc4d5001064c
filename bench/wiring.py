"""Puts the Kinesis store seam into a running embedded backend when the backend does not do it itself yet.

``EmbeddedBackend`` is meant to install ``moto_seams.kinesis_store`` (wake pollers on put) and read shards in
process (``kinesis_store.InProcessShardSource``). Until it does, the benchmarks apply the same wiring here, so
the figures show the seam's effect; once the backend does it, ``wire`` only reports that it found it done.
``PIPEMU_BENCH_STOCK_KINESIS=1`` measures the opposite: moto's own Kinesis store and HTTP polling.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from emulator.backends.embedded import EmbeddedBackend
from emulator.backends.moto_seams import kinesis_store

STOCK_ENV = "PIPEMU_BENCH_STOCK_KINESIS"


def stock_requested() -> bool:
    return os.environ.get(STOCK_ENV, "") == "1"


def wire(backend: EmbeddedBackend, *, stock: bool | None = None) -> str:
    """Make ``backend`` use the seam (or, with ``stock``, moto's own store). Returns how it was found."""
    stock = stock_requested() if stock is None else stock
    esm: Any = backend.esm
    if stock:
        kinesis_store.uninstall()
        return "stock moto Kinesis"
    if kinesis_store.installed():
        return "seam wired by the backend"

    def wake(_arn: str, _shards: frozenset[str]) -> None:
        if esm is not None:
            esm.wake()

    kinesis_store.install(wake)
    if esm is not None:
        esm._shard_source = kinesis_store.InProcessShardSource  # bench-only: what the backend's wiring does
    return "seam wired by bench"


@contextmanager
def embedded(**kwargs: Any) -> Iterator[EmbeddedBackend]:
    """A started, wired embedded backend; stopped (and the seam removed) however the block ends."""
    with EmbeddedBackend(**kwargs) as backend:
        try:
            wire(backend)
            yield backend
        finally:
            kinesis_store.uninstall()


# -- pytest plugin (``-p bench.wiring``): the same wiring for every backend the scenario suite starts -----------
def pytest_configure(config: Any) -> None:
    original = EmbeddedBackend._start

    def start_and_wire(self: EmbeddedBackend) -> None:
        original(self)
        wire(self)

    original_stop = EmbeddedBackend.stop

    def stop_and_unwire(self: EmbeddedBackend) -> None:
        try:
            original_stop(self)
        finally:
            kinesis_store.uninstall()

    EmbeddedBackend._start = start_and_wire
    EmbeddedBackend.stop = stop_and_unwire
