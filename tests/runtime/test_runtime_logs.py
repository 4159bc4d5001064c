"""Log capture: everything the handler writes, bracketed by Lambda's START/END/REPORT lines."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from emulator.runtime import FunctionSpec, LambdaRuntime

MakeFn = Callable[..., FunctionSpec]

REPORT = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\tDuration: (?P<d>\d+\.\d{2}) ms\tBilled Duration: (?P<b>\d+) ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: (?P<m>\d+) MB(\tInit Duration: (?P<i>\d+\.\d{2}) ms)?\n"
)


def test_print_stdout_stderr_and_logging_are_captured_in_order(
    runtime: LambdaRuntime, make_fn: MakeFn
) -> None:
    fn = make_fn("behaviours.logs", "behaviours.py")

    result = runtime.invoke(fn, b"{}", request_id="req-logs")

    lines = result.logs.splitlines()
    start = lines.index("START RequestId: req-logs Version: $LATEST")
    end = lines.index("END RequestId: req-logs")
    body = lines[start + 1 : end]
    assert body[:3] == ["printed line", "stdout write", "stderr write"]
    assert re.fullmatch(
        r"\[WARNING\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-logs\troot warning 42", body[3]
    )
    assert re.fullmatch(r"\[ERROR\]\t\S+Z\treq-logs\tnamed logger error", body[4])
    assert "raw fd write" in body  # written to fd 1 directly, not through sys.stdout
    assert not any("below the default WARNING level" in line for line in body)  # root level stays WARNING
    assert REPORT.fullmatch(lines[end + 1] + "\n")


def test_cold_start_logs_init_output_before_start_and_init_duration(
    runtime: LambdaRuntime, make_fn: MakeFn
) -> None:
    fn = make_fn("behaviours.pid", "behaviours.py")

    cold = runtime.invoke(fn, b"{}", request_id="req-cold")
    warm = runtime.invoke(fn, b"{}", request_id="req-warm")

    assert cold.logs.startswith("init output from behaviours\nSTART RequestId: req-cold Version: $LATEST\n")
    assert warm.logs.startswith("START RequestId: req-warm Version: $LATEST\nEND RequestId: req-warm\n")
    cold_report, warm_report = REPORT.search(cold.logs), REPORT.search(warm.logs)
    assert cold_report and warm_report
    assert cold.init_duration_ms is not None
    assert cold_report["i"] == f"{cold.init_duration_ms:.2f}"
    assert warm_report["i"] is None
    assert warm_report["d"] == f"{warm.duration_ms:.2f}"
    # billed duration: rounded up to the ms, and it includes the init phase on a cold start
    assert int(cold_report["b"]) >= int(cold.init_duration_ms)
    assert int(warm_report["b"]) >= 1
    assert int(warm_report["m"]) > 0
    assert warm.logs.endswith(warm_report.group(0))


def test_powertools_logger_works_in_a_handler(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("powertools_app.handler", "powertools_app.py", name="orders")

    result = runtime.invoke(fn, b'{"order_id": "o-1"}', request_id="req-pt")

    assert result.function_error is None, result.payload
    [line] = [json.loads(x) for x in result.logs.splitlines() if x.startswith("{")]
    assert line["message"] == "processing order"
    assert line["order_id"] == "o-1"
    assert line["service"] == "orders"
    assert line["function_request_id"] == "req-pt"
    assert line["function_name"] == "orders"
    assert line["cold_start"] is True
