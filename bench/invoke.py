"""Figure 4: warm invoke overhead of pipemu's Lambda runtime over calling the handler in-process.

The handler returns a constant (``probe.noop``); the event is a one-record Kinesis batch. The runtime is used
directly (no moto): what is measured is the worker round trip (frame out, handler call, result and logs back).
Baseline: the same handler called in this process, with the same JSON decode/encode of event and result that
any runtime pays. For the Node.js handler (``probe.mjs``) the baseline is the same loop inside one Node.js
process (JSON.parse, the handler's promise, JSON.stringify), measured in the same run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import statistics
import subprocess
import time

from bench.common import HANDLERS
from bench.figures import Figure
from emulator.deploy import zip_code
from emulator.runtime import FunctionSpec, LambdaRuntime, interpreters

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


# The Node.js baseline: the handler awaited in-process with the JSON round trip, one duration (s) per call.
_NODE_IN_PROCESS = """
const { noop } = await import(process.argv[1]);
const event = process.argv[2];
const count = Number(process.argv[3]);
const out = [];
for (let i = 0; i < count + 50; i++) {
  const started = performance.now();
  JSON.stringify(await noop(JSON.parse(event), {}));
  if (i >= 50) out.push((performance.now() - started) / 1000);
}
console.log(JSON.stringify(out));
"""


def _node_in_process(count: int) -> list[float]:
    node = interpreters.resolve("nodejs20.x").executable
    done = subprocess.run(
        [node, "--input-type=module", "-e", _NODE_IN_PROCESS, str(HANDLERS / "probe.mjs"), EVENT.decode(),
         str(count)],
        capture_output=True, text=True, check=True, timeout=120,
    )
    return [float(x) for x in json.loads(done.stdout)]


def _runtime(count: int, runtime: str = "python3.12") -> list[float]:
    code = zip_code(HANDLERS)
    fn = FunctionSpec(
        name="bench-noop",
        arn="arn:aws:lambda:us-east-1:123456789012:function:bench-noop",
        handler="probe.noop",
        code_zip=code,
        code_sha256=hashlib.sha256(code).hexdigest(),
        runtime=runtime,
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


def _overheads(runtime: list[float], local: list[float], suffix: str, note: str) -> list[Figure]:
    r50, l50 = statistics.median(runtime), statistics.median(local)
    r99 = statistics.quantiles(runtime, n=100)[98]
    l99 = statistics.quantiles(local, n=100)[98]
    return [
        Figure(f"warm_invoke_overhead_ms{suffix}", (r50 - l50) * 1000, "ms", 1.0, l50 * 1000,
               note=f"median; {note}"),
        Figure(f"warm_invoke_overhead_p99_ms{suffix}", (r99 - l99) * 1000, "ms", None, l99 * 1000,
               note=f"p99; {note}"),
    ]


def run(quick: bool) -> list[Figure]:
    count = 500 if quick else 5000
    python = _overheads(
        _runtime(count), _in_process(count), "", "baseline: the handler called in-process (same JSON round trip)"
    )
    node = _overheads(
        _runtime(count, "nodejs20.x"), _node_in_process(count), "_node",
        f"{interpreters.resolve('nodejs20.x').label}; baseline: the handler awaited in one Node.js process "
        "(same JSON round trip)",
    )
    return python + node
