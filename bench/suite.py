"""Figure 6: the bundled scenario suite (``pytest tests/scenarios``) wall time.

Value: the suite with the Kinesis store seam wired into every embedded backend it starts (``-p bench.wiring``).
Baseline: the same suite on moto's own Kinesis store with HTTP polling (``PIPEMU_BENCH_STOCK_KINESIS=1``).
The issue sets no number: the figure should fall as the others improve. Quick mode runs one scenario test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.common import ROOT
from bench.figures import Figure
from bench.wiring import STOCK_ENV


def _suite(quick: bool, *, stock: bool) -> float:
    cmd = [sys.executable, "-m", "pytest", "tests/scenarios", "-q", "-p", "no:cacheprovider", "-p", "bench.wiring"]
    if quick:
        cmd += ["-k", "clickstream_smoke"]
    env = {**os.environ, STOCK_ENV: "1" if stock else "0"}
    started = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800, check=False)
    took = time.perf_counter() - started
    if out.returncode != 0:
        tail = "\n".join(out.stdout.splitlines()[-15:])
        raise RuntimeError(f"scenario suite failed ({'stock' if stock else 'seam'}):\n{tail}")
    return took


def run(quick: bool) -> list[Figure]:
    wired = _suite(quick, stock=False)
    stock = _suite(quick, stock=True)
    what = "one scenario test" if quick else "tests/scenarios"
    return [Figure("scenario_suite_s", wired, "s", None, stock,
                   note=f"{what}; baseline: moto's own Kinesis store, polled over HTTP")]
