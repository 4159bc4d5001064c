"""Pre-started workers (emulator/runtime/spares.py): a function served by one sees what a freshly started worker
would show it, functions a pre-started worker could behave differently for get a fresh process, and closing the
runtime leaves no process behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambda_helpers import ENDPOINT, child_pids, handler_files, process_exists, spec
from waiting import wait_for

from emulator.runtime import FunctionSpec, LambdaRuntime
from emulator.runtime.spares import usable_for


def _probe(runtime: LambdaRuntime, fn: FunctionSpec) -> dict[str, Any]:
    result = runtime.invoke(fn, b"{}")
    assert result.function_error is None, result.logs
    out: dict[str, Any] = json.loads(result.payload)
    return out


def _spares_ready(runtime: LambdaRuntime, count: int) -> None:
    wait_for(f"{count} pre-started workers", lambda: len(runtime._spares._spares), lambda n: n >= count, timeout=30)


def test_an_assigned_worker_shows_the_handler_what_a_fresh_one_does(make_fn: Callable[..., FunctionSpec]) -> None:
    fn = make_fn("env_probe.handler", "env_probe.py", environment={"GREETING": "hello"})
    with LambdaRuntime(endpoint_url=ENDPOINT, prestarted_workers=0) as fresh_runtime:
        fresh = _probe(fresh_runtime, fn)
    with LambdaRuntime(endpoint_url=ENDPOINT, prestarted_workers=1) as runtime:
        runtime.prestart_workers()
        _spares_ready(runtime, 1)
        spare = runtime._spares._spares[0]
        assigned = _probe(runtime, fn)
        assert spare.generation == fn.generation()  # this invocation was served by the pre-started process

    def same_shape(seen: dict[str, Any]) -> dict[str, Any]:
        # the code directory, HOME and log stream are per runtime, the trace id per invocation; everything else
        # must be equal
        root, home = seen["environ"]["LAMBDA_TASK_ROOT"], seen["environ"]["HOME"]
        text = json.dumps(seen).replace(root, "<root>").replace(home, "<home>")
        shaped: dict[str, Any] = json.loads(text)
        shaped["environ"].pop("AWS_LAMBDA_LOG_STREAM_NAME")
        shaped["environ"].pop("_X_AMZN_TRACE_ID")
        return shaped

    assert same_shape(assigned) == same_shape(fresh)
    assert assigned["environ"]["GREETING"] == "hello"
    assert assigned["cwd"] == assigned["environ"]["LAMBDA_TASK_ROOT"]
    assert assigned["sys_path"][0] == assigned["cwd"]


def test_functions_a_spare_could_serve_differently_get_a_fresh_process(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def handler(e, c): return {}\n")
    assert usable_for({"TABLE": "t"}, tmp_path)
    for key in ("PYTHONHASHSEED", "PYTHONPATH", "LD_PRELOAD", "BOTO_CONFIG", "AWS_DATA_PATH", "LANG", "HOME"):
        assert not usable_for({key: "x"}, tmp_path), key
    (tmp_path / "urllib3").mkdir()  # a vendored copy of something the spare imported with boto3 must win
    assert not usable_for({}, tmp_path)


def test_a_vendored_module_is_imported_from_the_code_not_the_spare() -> None:
    files = handler_files("env_probe.py")
    files["jmespath/__init__.py"] = "VENDORED = True\n"  # boto3 imports jmespath; the function ships its own
    files["check.py"] = (
        "import jmespath\n\ndef handler(e, c):\n    return {'vendored': hasattr(jmespath, 'VENDORED')}\n"
    )
    fn = spec("check.handler", files)
    with LambdaRuntime(endpoint_url=ENDPOINT, prestarted_workers=1) as runtime:
        runtime.prestart_workers()
        _spares_ready(runtime, 1)
        assert _probe(runtime, fn) == {"vendored": True}
        assert len(runtime._spares._spares) == 1  # not used: a fresh process served it


def test_spares_are_replaced_after_use_and_stopped_at_close(make_fn: Callable[..., FunctionSpec]) -> None:
    before = child_pids()
    runtime = LambdaRuntime(endpoint_url=ENDPOINT, prestarted_workers=2)
    try:
        runtime.prestart_workers()
        _spares_ready(runtime, 2)
        first = {w.pid for w in runtime._spares._spares}
        runtime.check_handler(make_fn("env_probe.handler", "env_probe.py"), workers=2)
        _spares_ready(runtime, 2)  # refilled once the handed-out workers had loaded their handler
        assert first.isdisjoint({w.pid for w in runtime._spares._spares})
        spares = {w.pid for w in runtime._spares._spares}
    finally:
        runtime.close()
    for pid in spares | first:
        wait_for(f"pid {pid} to end", lambda pid=pid: process_exists(pid), lambda alive: not alive, timeout=10)
    wait_for("every worker process to be reaped", lambda: child_pids() - before, lambda left: not left, timeout=10)
