"""Node.js handler failures as the AWS Node.js runtime reports them.

The reference shape is AWS's documented example (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html):
``exports.handler = async function() { return x + 10 }`` answers ``{"errorType": "ReferenceError",
"errorMessage": "x is not defined", "trace": ["ReferenceError: x is not defined", "    at ... (/var/task/index.js:2:3)",
...]}``, and the runtime logs ``<time>\\t<request id>\\tERROR\\tInvoke Error \\t{...}`` with the trace as ``stack``.
"""

from __future__ import annotations

import json
import re

import pytest
from node_helpers import body, node_fn

from emulator.errors import HandlerError
from emulator.runtime import LambdaRuntime

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_thrown_error_has_the_documented_shape(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("errors.reference"), b"{}", request_id="e1")

    assert result.function_error == "Unhandled"
    error = body(result)
    assert list(error) == ["errorType", "errorMessage", "trace"]
    assert error["errorType"] == "ReferenceError"
    assert error["errorMessage"] == "x is not defined"
    assert error["trace"][0] == "ReferenceError: x is not defined"
    # the handler's frame, with the deployment package where AWS has it
    assert re.fullmatch(r"    at .*\(/var/task/errors\.js:3:\d+\)", error["trace"][1])
    [logged] = re.findall(rf"{ISO}\te1\tERROR\tInvoke Error \t(.*)\n", result.logs)
    assert json.loads(logged) == {"errorType": "ReferenceError", "errorMessage": "x is not defined",
                                  "stack": error["trace"]}


def test_a_thrown_non_error_is_typed_by_typeof(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("errors.throwsString"), b"{}")

    assert body(result) == {"errorType": "string", "errorMessage": "just a string", "trace": []}


def test_rejected_promise_and_callback_error(runtime: LambdaRuntime) -> None:
    rejected = runtime.invoke(node_fn("errors.rejects", name="a"), b"{}")
    called_back = runtime.invoke(node_fn("commonjs.callbackError", name="b"), b'{"n": 11}')

    assert (body(rejected)["errorType"], body(rejected)["errorMessage"]) == ("Error", "rejected")
    assert (body(called_back)["errorType"], body(called_back)["errorMessage"]) == ("RangeError", "out of range: 11")
    assert called_back.function_error == "Unhandled"


def test_custom_error_name_and_enumerable_fields_are_kept_in_the_log(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("errors.custom"), b"{}")

    assert body(result)["errorType"] == "PaymentError"
    [logged] = re.findall(r"\tInvoke Error \t(.*)\n", result.logs)
    assert json.loads(logged)["code"] == "E42"


def test_worker_stays_warm_after_a_handler_error(runtime: LambdaRuntime) -> None:
    fn = node_fn("errors.reference")

    first, second = runtime.invoke(fn, b"{}"), runtime.invoke(fn, b"{}")

    assert first.cold_start and not second.cold_start
    assert second.function_error == "Unhandled"


def test_unhandled_rejection_fails_the_invocation_and_replaces_the_environment(runtime: LambdaRuntime) -> None:
    fn = node_fn("errors.unhandledRejection")

    first = runtime.invoke(fn, b"{}")
    second = runtime.invoke(fn, b"{}")

    assert body(first)["errorType"] == "Runtime.UnhandledPromiseRejection"
    assert body(first)["errorMessage"] == "Error: nobody awaited me"
    assert "\tERROR\tUnhandled Promise Rejection \t{" in first.logs
    assert second.cold_start


def test_unserialisable_result_fails(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("errors.unserialisable"), b"{}")

    assert result.function_error == "Unhandled"
    assert body(result)["errorMessage"].startswith("Unable to stringify response body")


def test_process_exit_is_a_runtime_exit_error(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("errors.exits"), b"{}", request_id="x")

    assert body(result) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: x Error: Runtime exited with error: exit status 3",
    }


def test_timeout_has_aws_message_and_keeps_the_logs_written_before_it(runtime: LambdaRuntime) -> None:
    fn = node_fn("commonjs.sleep", timeout_s=1.0)

    result = runtime.invoke(fn, b'{"ms": 60000}', request_id="slow")
    again = runtime.invoke(fn, b'{"ms": 1}')

    assert result.function_error == "Unhandled"
    assert body(result) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: slow Error: Task timed out after 1.00 seconds",
    }
    assert re.search(rf"\tslow\tINFO\tgoing to sleep\n{ISO} slow Task timed out after 1.00 seconds\n", result.logs)
    assert "Status: timeout" in result.logs
    assert again.cold_start and body(again) == {"slept": 1}


def test_missing_module_is_an_import_module_error_worded_as_on_aws(runtime: LambdaRuntime) -> None:
    result = runtime.invoke(node_fn("nosuchfile.handler"), b"{}")

    error = body(result)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Error: Cannot find module 'nosuchfile'\nRequire stack:\n- /var/runtime/index.mjs"
    assert error["trace"][0] == "Runtime.ImportModuleError: Error: Cannot find module 'nosuchfile'"
    assert re.search(rf"{ISO}\tundefined\tERROR\tUncaught Exception \t{{\"errorType\":\"Runtime.ImportModuleError\"",
                     result.logs)
    assert "Status: error\tError Type: Runtime.ImportModuleError" in result.logs


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        ("commonjs.missing", "Runtime.HandlerNotFound", "commonjs.missing is undefined or not exported"),
        ("errors.notAFunction", "Runtime.HandlerNotFound", "errors.notAFunction is not a function"),
        ("nodot", "Runtime.MalformedHandlerName", "Bad handler"),
        ("syntax.handler", "Runtime.UserCodeSyntaxError", "SyntaxError: Unexpected token ';'"),
        ("throws_at_init.handler", "Error", "no TABLE configured"),
    ],
)
def test_init_failures(runtime: LambdaRuntime, handler: str, error_type: str, message: str) -> None:
    result = runtime.invoke(node_fn(handler), b"{}")

    assert result.function_error == "Unhandled" and result.cold_start
    assert (body(result)["errorType"], body(result)["errorMessage"]) == (error_type, message)


def test_check_handler_refuses_an_unloadable_node_handler_before_any_event(runtime: LambdaRuntime) -> None:
    with pytest.raises(HandlerError) as raised:
        runtime.check_handler(node_fn("commonjs.missing"))

    text = str(raised.value)
    assert "'node-fn'" in text and "Runtime.HandlerNotFound: commonjs.missing is undefined or not exported" in text
    assert "export the handler" in (raised.value.hint or "")
