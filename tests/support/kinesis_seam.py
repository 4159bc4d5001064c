"""Test helpers for the Kinesis store seam: swap it in or out for one test, and run producer threads racing."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

from emulator.backends.moto_seams import kinesis_store


def swap(install: bool) -> Iterator[None]:
    """Seam in (or out) for one test; whatever was installed before (a running backend's) comes back after."""
    was, previous = kinesis_store.installed(), kinesis_store.listener()
    kinesis_store.uninstall()
    if install:
        kinesis_store.install(None)
    try:
        yield
    finally:
        kinesis_store.uninstall()
        if was:
            kinesis_store.install(previous)


def race(produce: Callable[[int], None], producers: int) -> None:
    """Run ``produce(p)`` for each producer in its own thread, switching threads as often as possible (so
    read-then-write races show), and wait for all of them."""
    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
