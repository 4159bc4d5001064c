"""Figure 4: warm invoke overhead of pipemu's Lambda runtime over calling the handler in-process.

The handler returns a constant (``probe.noop``); the event is a one-record Kinesis batch. The runtime is used
directly (no moto): what is measured is the worker round trip (frame out, handler call, result and logs back).
Baseline: the same handler called in this process, with the same JSON decode/encode of event and result that
any runtime pays.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import statistics
import time

from bench.common import HANDLERS
from bench.figures import Figure
from emulator.deploy import zip_code
from emulator.runtime import FunctionSpec, LambdaRuntime

EVENT = json.dumps(
    {"Records": [{"kinesis": {"partitionKey": "k1", "data": "eyJuIjoxfQ==", "sequenceNumber": "1"}}]}
).encode()


def _in_process(count: int) -> list[float]:
    spec = importlib.util.spec_from_file_location("bench_probe", HANDLERS / "probe.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = []
    for _ in range(count):
        started = time.perf_counter()
        json.dumps(module.noop(json.loads(EVENT), None)).encode()
        out.append(time.perf_counter() - started)
    return out


def _runtime(count: int) -> list[float]:
    code = zip_code(HANDLERS)
    fn = FunctionSpec(
        name="bench-noop",
        arn="arn:aws:lambda:us-east-1:123456789012:function:bench-noop",
        handler="probe.noop",
        code_zip=code,
        code_sha256=hashlib.sha256(code).hexdigest(),
        timeout_s=5.0,
    )
    out = []
    with LambdaRuntime(endpoint_url="http://127.0.0.1:9") as runtime:  # nothing listens: the handler calls nothing
        runtime.check_handler(fn)
        for _ in range(50):
            runtime.invoke(fn, EVENT)
        for _ in range(count):
            started = time.perf_counter()
            result = runtime.invoke(fn, EVENT)
            out.append(time.perf_counter() - started)
            if result.function_error:
                raise RuntimeError(f"noop handler failed: {result.payload[:300]!r}")
    return out


def run(quick: bool) -> list[Figure]:
    count = 500 if quick else 5000
    runtime = _runtime(count)
    local = _in_process(count)
    r50, l50 = statistics.median(runtime), statistics.median(local)
    r99 = statistics.quantiles(runtime, n=100)[98]
    l99 = statistics.quantiles(local, n=100)[98]
    note = "baseline: the handler called in-process (same JSON round trip)"
    return [
        Figure("warm_invoke_overhead_ms", (r50 - l50) * 1000, "ms", 1.0, l50 * 1000, note=f"median; {note}"),
        Figure("warm_invoke_overhead_p99_ms", (r99 - l99) * 1000, "ms", None, l99 * 1000, note=f"p99; {note}"),
    ]
