"""Worker lifecycle: warm reuse, cold starts on new code, timeouts, crashes, concurrency, shutdown."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

import pytest
from lambda_helpers import ENDPOINT, child_pids, process_exists

from emulator.errors import HarnessError
from emulator.runtime import FunctionSpec, InvocationResult, LambdaRuntime

MakeFn = Callable[..., FunctionSpec]


def pid_of(result: InvocationResult) -> int:
    assert result.function_error is None, result.payload
    return int(json.loads(result.payload)["pid"])


def test_second_invocation_reuses_the_warm_worker(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("behaviours.pid", "behaviours.py")

    first, second = runtime.invoke(fn, b"{}"), runtime.invoke(fn, b"{}")

    assert pid_of(first) == pid_of(second)
    assert first.cold_start and first.init_duration_ms is not None and first.init_duration_ms > 0
    assert not second.cold_start and second.init_duration_ms is None
    stats = runtime.stats()["fn"]
    assert (stats.invocations, stats.cold_starts, stats.errors) == (2, 1, 0)
    assert len(stats.durations_ms) == 2


def test_new_code_sha_cold_starts_and_stops_the_old_worker(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    # GIVEN a warm worker running version 1 of the code
    v1 = make_fn("behaviours.pid", "behaviours.py")
    old_pid = pid_of(runtime.invoke(v1, b"{}"))

    # WHEN the function is redeployed with different code under the same name
    v2 = make_fn("version_two.pid", "version_two.py")
    assert v2.code_sha256 != v1.code_sha256
    result = runtime.invoke(v2, b"{}")

    # THEN the new code runs in a new worker, and the idle old one is gone
    assert result.cold_start
    assert json.loads(result.payload)["version"] == 2
    assert pid_of(result) != old_pid
    assert not process_exists(old_pid)


def test_timeout_kills_the_worker_and_reports_like_aws(make_fn: MakeFn) -> None:
    fn = make_fn("behaviours.sleep", "behaviours.py", timeout_s=0.5)
    with LambdaRuntime(endpoint_url=ENDPOINT) as runtime:
        warm_pid = pid_of(runtime.invoke(fn, b'{"seconds": 0}'))

        result = runtime.invoke(fn, b'{"seconds": 30}', request_id="req-timeout")

        assert result.function_error == "Unhandled"
        assert json.loads(result.payload) == {
            "errorType": "Sandbox.Timedout",
            "errorMessage": "RequestId: req-timeout Error: Task timed out after 0.50 seconds",
        }
        assert "going to sleep\n" in result.logs  # output written before the kill is kept
        assert " req-timeout Task timed out after 0.50 seconds\nEND RequestId: req-timeout\n" in result.logs
        assert "\tStatus: timeout" in result.logs
        assert result.duration_ms >= 500
        assert not process_exists(warm_pid)
        # AND the next invocation starts a fresh worker
        after = runtime.invoke(fn, b'{"seconds": 0}')
        assert after.cold_start and pid_of(after) != warm_pid
        assert runtime.stats()["fn"].timeouts == 1


def test_worker_exiting_mid_invocation_is_an_exit_error(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("behaviours.exit_hard", "behaviours.py")

    result = runtime.invoke(fn, b'{"status": 3}', request_id="req-exit")

    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-exit Error: Runtime exited with error: exit status 3",
    }
    assert "about to exit\n" in result.logs
    assert (
        "RequestId: req-exit Error: Runtime exited with error: exit status 3\nRuntime.ExitError\n"
        in result.logs
    )
    assert "\tStatus: error\tError Type: Runtime.ExitError" in result.logs


def test_after_a_crash_the_next_invocation_cold_starts(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    # GIVEN a warm worker
    fn = make_fn("behaviours.kill_self", "behaviours.py")
    warm_pid = pid_of(runtime.invoke(fn, b"{}"))

    # WHEN the handler kills its own process with SIGKILL, then exits with os._exit(0)
    killed = runtime.invoke(fn, b'{"kill": true}', request_id="req-kill")
    after_kill = runtime.invoke(fn, b"{}")
    exited = runtime.invoke(fn, b'{"exit": 0}', request_id="req-exit0")
    after_exit = runtime.invoke(fn, b"{}")

    # THEN each crash is an ExitError and the following call gets a fresh worker
    assert json.loads(killed.payload)["errorMessage"] == (
        "RequestId: req-kill Error: Runtime exited with error: signal: killed"
    )
    assert json.loads(exited.payload)["errorMessage"] == (
        "RequestId: req-exit0 Error: Runtime exited without providing a reason"
    )
    assert after_kill.cold_start and after_exit.cold_start
    assert len({warm_pid, pid_of(after_kill), pid_of(after_exit)}) == 3
    assert runtime.stats()["fn"].crashes == 2


def test_sys_exit_in_a_handler_ends_the_environment(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    result = runtime.invoke(make_fn("behaviours.sys_exit", "behaviours.py"), b"{}", request_id="r")

    assert (
        json.loads(result.payload)["errorMessage"]
        == "RequestId: r Error: Runtime exited with error: exit status 2"
    )


def test_allocation_over_the_memory_cap_is_killed_like_an_oom(
    runtime: LambdaRuntime, make_fn: MakeFn
) -> None:
    fn = make_fn("behaviours.allocate", "behaviours.py", memory_mb=128)

    result = runtime.invoke(fn, b"{}", request_id="req-oom")

    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-oom Error: Runtime exited with error: signal: killed",
    }
    assert "Max Memory Used: 128 MB" in result.logs


def test_memory_cap_is_memory_size_plus_the_baseline(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    from emulator.runtime.worker import MEMORY_BASELINE_MB

    result = runtime.invoke(make_fn("behaviours.rlimit", "behaviours.py", memory_mb=512), b"{}")

    assert json.loads(result.payload)["as"] == (512 + MEMORY_BASELINE_MB) * 1024 * 1024


def test_concurrent_invocations_run_in_separate_workers(make_fn: MakeFn, tmp_path: Path) -> None:
    # GIVEN a handler that only returns once two invocations are inside it at the same time
    fn = make_fn("behaviours.rendezvous", "behaviours.py", timeout_s=20)
    event = json.dumps({"dir": str(tmp_path), "count": 2}).encode()

    # WHEN two callers invoke it at once
    with (
        LambdaRuntime(endpoint_url=ENDPOINT, max_concurrency_per_function=2) as runtime,
        ThreadPoolExecutor(2) as pool,
    ):
        results = list(pool.map(lambda _: runtime.invoke(fn, event), range(2)))

    # THEN both finished, each in its own worker, each a cold start
    assert len({pid_of(r) for r in results}) == 2
    assert all(r.cold_start for r in results)


def test_callers_wait_for_a_worker_beyond_the_concurrency_limit(make_fn: MakeFn, tmp_path: Path) -> None:
    # GIVEN a limit of one worker and a handler that needs only itself to check in
    fn = make_fn("behaviours.rendezvous", "behaviours.py")
    event = json.dumps({"dir": str(tmp_path), "count": 1}).encode()

    # WHEN three callers invoke at once
    with (
        LambdaRuntime(endpoint_url=ENDPOINT, max_concurrency_per_function=1) as runtime,
        ThreadPoolExecutor(3) as pool,
    ):
        results = list(pool.map(lambda _: runtime.invoke(fn, event), range(3)))

    # THEN they were served one after another by the same single worker
    assert len({pid_of(r) for r in results}) == 1
    assert [r.cold_start for r in results].count(True) == 1


def test_close_stops_every_worker_and_removes_its_work_dir(make_fn: MakeFn) -> None:
    children_before = child_pids()
    runtime = LambdaRuntime(endpoint_url=ENDPOINT)
    try:
        pids = {
            pid_of(runtime.invoke(make_fn("behaviours.pid", "behaviours.py", name=n), b"{}")) for n in "abc"
        }
        assert pids <= child_pids()
        probe = json.loads(runtime.invoke(make_fn("env_probe.handler", "env_probe.py"), b"{}").payload)
        work_dir = Path(probe["environ"]["LAMBDA_TASK_ROOT"]).parents[1]
        assert work_dir.is_dir()
    finally:
        runtime.close()

    assert child_pids() <= children_before
    assert not any(process_exists(p) for p in pids)
    assert not work_dir.exists()


def test_close_also_stops_workers_when_the_block_raises(make_fn: MakeFn) -> None:
    children_before = child_pids()
    pid = 0
    try:
        with LambdaRuntime(endpoint_url=ENDPOINT) as runtime:
            pid = pid_of(runtime.invoke(make_fn("behaviours.pid", "behaviours.py"), b"{}"))
            raise RuntimeError("test body failed")
    except RuntimeError:
        pass

    assert pid and not process_exists(pid)
    assert child_pids() <= children_before


def test_closing_during_an_invocation_raises_for_its_caller(make_fn: MakeFn, tmp_path: Path) -> None:
    # GIVEN an invocation blocked inside the handler, on a FIFO whose write end the test opens
    children_before = child_pids()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    fn = make_fn("behaviours.block_on_fifo", "behaviours.py", timeout_s=30)
    event = json.dumps({"fifo": str(fifo)}).encode()
    with LambdaRuntime(endpoint_url=ENDPOINT) as runtime, ThreadPoolExecutor(2) as pool:
        invocation = pool.submit(runtime.invoke, fn, event)
        opened = pool.submit(os.open, fifo, os.O_WRONLY)  # returns once the handler opened the read end
        wait([invocation, opened], timeout=60, return_when=FIRST_COMPLETED)
        if not opened.done():  # the invocation ended without reaching the handler: unblock and report it
            os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
            pytest.fail(f"handler never blocked: {invocation.result()}")
        try:
            # WHEN the runtime is closed under it
            runtime.close()
        finally:
            os.close(opened.result())
        # THEN the caller gets a HarnessError, and no worker is left
        with pytest.raises(HarnessError, match="closed while 'fn' was running"):
            invocation.result()
    assert child_pids() <= children_before
