"""Every invocation's output lands in CloudWatch Logs as AWS writes it: /aws/lambda/NAME, one stream per
execution environment, START / handler lines / END / REPORT, read back with the calls the AWS CLI's
`aws logs tail`, `filter-log-events` and `get-log-events` make."""

from __future__ import annotations

import json
import re
from typing import Any

from lambda_functions import create_function
from waiting import wait_for

from emulator.backends.log_shipper import log_events
from emulator.runtime import InvocationResult

STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$")
TRACE = re.compile(r"^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$")

SOURCE = (
    "import os\n"
    "def handler(event, context):\n"
    "    print('hello', event['n'])\n"
    "    print('trace', os.environ['_X_AMZN_TRACE_ID'])\n"
    "    return context.log_stream_name\n"
)


def _messages(logs: Any, group: str) -> list[str]:
    return [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]


def test_a_function_has_its_log_group_as_soon_as_it_exists(pipemu) -> None:
    create_function(pipemu, "quiet", "def handler(event, context):\n    return 1\n")
    groups = pipemu.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/aws/lambda/quiet"]


def test_invocations_are_written_to_one_stream_per_environment(pipemu) -> None:
    create_function(pipemu, "greet", SOURCE)
    lam, logs = pipemu.client("lambda"), pipemu.client("logs")
    streams_seen = {json.loads(lam.invoke(FunctionName="greet", Payload=json.dumps({"n": n}))["Payload"].read())
                    for n in (1, 2)}
    group = "/aws/lambda/greet"
    messages = wait_for("both invocations in CloudWatch Logs", lambda: _messages(logs, group),
                        lambda m: sum(x.startswith("REPORT RequestId:") for x in m) == 2)
    assert [m for m in messages if m.startswith("hello")] == ["hello 1", "hello 2"]
    kinds = [m.split(" ", 1)[0] for m in messages if not m.startswith(("hello", "trace"))]
    assert kinds == ["START", "END", "REPORT", "START", "END", "REPORT"]
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1 and {s["logStreamName"] for s in streams} == streams_seen
    assert STREAM.match(streams[0]["logStreamName"])
    events = logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"],
                                 startFromHead=True)["events"]
    assert [e["message"] for e in events] == messages
    traces = [m.split(" ", 1)[1] for m in messages if m.startswith("trace ")]
    assert len(traces) == 2 and len(set(traces)) == 2 and all(TRACE.match(t) for t in traces)


def test_logs_come_back_after_a_reset_removed_the_group(pipemu) -> None:
    create_function(pipemu, "again", SOURCE)
    pipemu.client("lambda").invoke(FunctionName="again", Payload=b'{"n": 1}')
    pipemu.backend.reset()
    create_function(pipemu, "again", SOURCE)
    pipemu.client("lambda").invoke(FunctionName="again", Payload=b'{"n": 2}')
    messages = wait_for("the second invocation's log", lambda: _messages(pipemu.client("logs"), "/aws/lambda/again"),
                        lambda m: any(x.startswith("REPORT") for x in m))
    assert "hello 2" in messages and "hello 1" not in messages


def test_end_and_report_are_dated_when_the_invocation_ended() -> None:
    result = InvocationResult("r", b"", None, "START x\nline\n\nEND RequestId: r\nREPORT RequestId: r\n",
                              duration_ms=250.0, init_duration_ms=None, cold_start=False, started=1000.0)
    events = log_events(result)
    assert [e["message"] for e in events] == ["START x", "line", "END RequestId: r", "REPORT RequestId: r"]
    assert [e["timestamp"] for e in events] == [1_000_000, 1_000_000, 1_000_250, 1_000_250]
