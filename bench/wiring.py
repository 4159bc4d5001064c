"""The Kinesis store seam in benchmarks. ``EmbeddedBackend`` installs ``moto_seams.kinesis_store`` (pollers wake
on put and read shards in process); ``PIPEMU_BENCH_STOCK_KINESIS=1`` measures the opposite: moto's own Kinesis
store and HTTP polling.
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
    """With ``stock`` (default: ``PIPEMU_BENCH_STOCK_KINESIS``), remove the seam the backend installed; otherwise
    check it is there. Returns what the benchmark measures."""
    stock = stock_requested() if stock is None else stock
    if stock:
        kinesis_store.uninstall()
        return "stock moto Kinesis"
    if not kinesis_store.installed():
        raise RuntimeError("the embedded backend did not install the Kinesis store seam")
    return "seam wired by the backend"


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
