"""Node.js handlers in the runtime: both module styles, both handler styles, the context object, logs, partial
batch responses and injected faults, on the same worker protocol as Python handlers."""

from __future__ import annotations

import json
import re

import pytest
from node_helpers import body, node_fn

from emulator.runtime import InjectedFault, LambdaRuntime

ARN = "arn:aws:lambda:us-east-1:123456789012:function:node-fn"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_commonjs_async_handler_runs_warm_and_keeps_module_state(runtime: LambdaRuntime) -> None:
    fn = node_fn("commonjs.asyncHandler")

    cold = runtime.invoke(fn, b'{"n": 1}', request_id="req-cold")
    warm = runtime.invoke(fn, b'{"n": 2}', request_id="req-warm")

    assert cold.function_error is None, cold.payload
    assert body(cold) == {"style": "async", "invocations": 1, "echo": {"n": 1}}
    assert body(warm) == {"style": "async", "invocations": 2, "echo": {"n": 2}}
    assert cold.cold_start and cold.init_duration_ms is not None
    assert not warm.cold_start and warm.init_duration_ms is None
    # init output is logged before START, with "undefined" for the request id, as AWS does
    assert re.match(rf"{ISO}\tundefined\tINFO\tinit commonjs\nSTART RequestId: req-cold Version: \$LATEST\n", cold.logs)
    assert re.search(rf"\n{ISO}\treq-warm\tINFO\tgot {{ n: 2 }}\nEND RequestId: req-warm\n", warm.logs)
    assert "init commonjs" not in warm.logs
    assert runtime.stats()["node-fn"].cold_starts == 1


def test_callback_handler(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("commonjs.callbackHandler"), b"{}")

    assert result.function_error is None
    assert body(result) == {"style": "callback", "invocations": 1}


def test_callback_response_waits_for_the_event_loop_to_empty(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("commonjs.waitsForTimer"), b"{}", request_id="r1")

    assert body(result) == {"waited": True}
    # the timer set before the callback ran inside this invocation, before END
    assert re.search(rf"{ISO}\tr1\tINFO\ttimer ran\nEND RequestId: r1\n", result.logs)


def test_callback_without_waiting_responds_before_pending_timers(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("commonjs.doesNotWait"), b"{}")

    assert body(result) == {"waited": False}
    assert "late timer ran" not in result.logs


def test_es_module_with_mjs_extension_and_top_level_await(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("esm.handler"), b'{"n": 3}')

    assert result.function_error is None, result.payload
    assert body(result) == {"style": "esm", "loadedAt": "init", "n": 3}


def test_js_file_under_a_type_module_package_json_is_an_es_module(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("typemodule/app.handler"), b"{}")

    assert result.function_error is None, result.payload
    assert body(result) == {"style": "type-module", "isModule": True}


def test_handler_path_may_name_a_nested_export(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("commonjs.nested.deeper.handler"), b"{}")

    assert body(result) == "nested"


def test_context_object_fields(runtime: LambdaRuntime) -> None:
    fn = node_fn("commonjs.context", memory_mb=256, timeout_s=7.0)

    result = runtime.invoke(fn, b"{}", request_id="ctx-req")

    ctx = body(result)
    remaining = ctx.pop("remaining")
    log_stream = ctx.pop("logStreamName")
    assert ctx == {
        "awsRequestId": "ctx-req",
        "functionName": "node-fn",
        "functionVersion": "$LATEST",
        "invokedFunctionArn": ARN,
        "memoryLimitInMB": "256",  # a string in the Node.js runtime (it is the environment variable)
        "logGroupName": "/aws/lambda/node-fn",
        "callbackWaitsForEmptyEventLoop": True,
        "identity": "undefined",
        "clientContext": "undefined",
    }
    assert 0 < remaining <= 7000
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", log_stream)


def test_console_methods_log_in_the_aws_text_format(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("commonjs.levels"), b"{}", request_id="lv")

    lines = result.logs.splitlines()
    start, end = lines.index("START RequestId: lv Version: $LATEST"), lines.index("END RequestId: lv")
    handler_lines = [re.sub(ISO, "T", line) for line in lines[start + 1 : end]]
    assert handler_lines == [
        "T\tlv\tINFO\tan info",
        "T\tlv\tWARN\ta warning",
        "T\tlv\tERROR\tan error { code: 7 }",
        "T\tlv\tDEBUG\ta debug",
        "raw stdout",
    ]
    assert lines[end + 1].startswith("REPORT RequestId: lv\tDuration: ")
    assert "\tMemory Size: 128 MB\tMax Memory Used: " in lines[end + 1]


def test_partial_batch_response_is_returned_as_is(runtime: LambdaRuntime) -> None:
    event = {
        "Records": [
            {"messageId": "m1", "body": '{"n": 1}', "eventSource": "aws:sqs"},
            {"messageId": "m2", "body": "{not json", "eventSource": "aws:sqs"},
            {"messageId": "m3", "body": '{"x": 1}', "eventSource": "aws:sqs"},
        ]
    }

    result = runtime.invoke(node_fn("batch.handler"), json.dumps(event).encode())

    assert result.function_error is None
    assert body(result) == {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m3"}]}


def test_injected_error_fails_the_invocation_without_touching_the_code(runtime: LambdaRuntime) -> None:
    fn = node_fn("commonjs.asyncHandler")

    failed = runtime.invoke(fn, b"{}", fault=InjectedFault(kind="error", latency_ms=5))
    after = runtime.invoke(fn, b"{}")

    assert failed.function_error == "Unhandled"
    error = body(failed)
    assert error["errorType"] == "PipemuInjectedFault"
    assert error["errorMessage"] == "fault injected by the pipemu scenario (handler error)"
    assert body(after)["invocations"] == 1  # the handler itself never ran for the injected failure
    assert not after.cold_start


@pytest.mark.parametrize(
    ("kind", "error_type", "status"),
    [("crash", "Runtime.ExitError", "Status: error\tError Type: Runtime.ExitError"), ("timeout", "Sandbox.Timedout",
                                                                                        "Status: timeout")],
)
def test_injected_crash_and_timeout_replace_the_environment(
    runtime: LambdaRuntime, kind: str, error_type: str, status: str
) -> None:
    fn = node_fn("commonjs.asyncHandler", timeout_s=1.0)
    runtime.invoke(fn, b"{}")

    failed = runtime.invoke(fn, b"{}", request_id="f", fault=InjectedFault(kind=kind))  # type: ignore[arg-type]
    after = runtime.invoke(fn, b"{}")

    assert failed.function_error == "Unhandled"
    assert body(failed)["errorType"] == error_type
    assert status in failed.logs
    assert after.cold_start and body(after)["invocations"] == 1
    stats = runtime.stats()["node-fn"]
    assert (stats.crashes, stats.timeouts) == ((1, 0) if kind == "crash" else (0, 1))
