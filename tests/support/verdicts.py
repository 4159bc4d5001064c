"""The verdict the bundled-scenario tests ask for. Under the CPU hogs `.ci/run` starts for its second pass of the
timing-sensitive tests (it sets PIPEMU_TEST_CPU_HOGS), a latency budget can only be missed because every core is
busy: such a miss counts as held when the run itself measured the host stalling and said so in the expectation.
Every other expectation (delivered, lost, dead letters, order, outputs...) must hold as always."""

from __future__ import annotations

import os
from typing import Any

HOGS_ENV = "PIPEMU_TEST_CPU_HOGS"
STALL_NOTE = "the host stalled during the run"


def held(result: Any) -> bool:
    if result.passed:
        return True
    if not os.environ.get(HOGS_ENV):
        return False
    return all(
        e.passed or (e.name.startswith("latency") and STALL_NOTE in (e.detail or "")) for e in result.expectations
    )
