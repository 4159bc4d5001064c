"""Handler failures as AWS reports them: error payloads, init errors, and check_handler's HandlerError."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from emulator.errors import HandlerError
from emulator.runtime import FunctionSpec, LambdaRuntime

MakeFn = Callable[..., FunctionSpec]


def test_uncaught_exception_payload_has_the_aws_shape(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("behaviours.fail", "behaviours.py")

    result = runtime.invoke(fn, b'{"n": 7}', request_id="req-1")

    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorMessage"] == "bad input: 7"
    assert error["errorType"] == "ValueError"
    assert error["requestId"] == "req-1"
    # one frame, the handler's own line, formatted like the AWS runtime (no runtime frames, no ^^^ markers)
    [frame] = error["stackTrace"]
    assert frame.startswith('  File "') and '/behaviours.py", line ' in frame
    assert frame.endswith(", in fail\n    raise ValueError(f\"bad input: {event.get('n')}\")\n")
    assert "[ERROR] ValueError: bad input: 7\nTraceback (most recent call last):\n" in result.logs


def test_worker_stays_warm_after_an_exception(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fail = make_fn("behaviours.fail", "behaviours.py")

    first = runtime.invoke(fail, b"{}")
    second = runtime.invoke(fail, b"{}")

    assert first.cold_start and not second.cold_start


def test_unserialisable_return_value_is_a_marshal_error(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    result = runtime.invoke(make_fn("behaviours.unserialisable", "behaviours.py"), b"{}", request_id="r")

    assert result.function_error == "Unhandled"
    assert json.loads(result.payload) == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": "r",
        "stackTrace": [],
    }


def test_missing_module_is_an_import_module_error(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("nosuchmodule.handler", "behaviours.py")

    result = runtime.invoke(fn, b"{}")

    assert result.function_error == "Unhandled"
    assert result.cold_start
    assert json.loads(result.payload) == {
        "errorMessage": "Unable to import module 'nosuchmodule': No module named 'nosuchmodule'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }
    assert "LAMBDA_WARNING: Unhandled exception." in result.logs
    assert "[ERROR] Runtime.ImportModuleError: Unable to import module 'nosuchmodule'" in result.logs
    assert "Status: error\tError Type: Runtime.ImportModuleError" in result.logs


def test_missing_function_is_handler_not_found(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    result = runtime.invoke(make_fn("behaviours.nope", "behaviours.py"), b"{}")

    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.HandlerNotFound"
    assert error["errorMessage"] == "Handler 'nope' missing on module 'behaviours'"


def test_syntax_error_is_user_code_syntax_error(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    result = runtime.invoke(make_fn("syntax_error.handler", "syntax_error.py.txt"), b"{}")

    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert error["errorMessage"].startswith("Syntax error in module 'syntax_error': ")


def test_init_failure_retries_init_on_the_next_invocation(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("import_raises.handler", "import_raises.py")

    first, second = runtime.invoke(fn, b"{}"), runtime.invoke(fn, b"{}")

    assert json.loads(first.payload)["errorType"] == "KeyError"
    assert first.cold_start and second.cold_start
    assert runtime.stats()["fn"].errors == 2


def test_check_handler_accepts_a_good_handler_and_leaves_it_warm(
    runtime: LambdaRuntime, make_fn: MakeFn
) -> None:
    fn = make_fn("behaviours.pid", "behaviours.py")

    runtime.check_handler(fn)
    result = runtime.invoke(fn, b"{}")

    assert result.function_error is None
    assert not result.cold_start and result.init_duration_ms is None


def test_check_handler_names_a_missing_module(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("app.handler", "behaviours.py", name="orders-loader")

    with pytest.raises(HandlerError) as caught:
        runtime.check_handler(fn)

    text = str(caught.value)
    assert "'orders-loader'" in text and "'app.handler'" in text
    assert "Runtime.ImportModuleError: Unable to import module 'app': No module named 'app'" in text
    assert "hint: the deployment zip must contain app.py; its root holds: behaviours.py" in text


def test_check_handler_names_a_missing_attribute(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    with pytest.raises(HandlerError) as caught:
        runtime.check_handler(make_fn("behaviours.handler", "behaviours.py"))

    text = str(caught.value)
    assert "Handler 'handler' missing on module 'behaviours'" in text
    assert "hint: module 'behaviours' defines these callables:" in text and "echo" in text


def test_check_handler_reports_what_the_import_raised(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    with pytest.raises(HandlerError) as caught:
        runtime.check_handler(make_fn("import_raises.handler", "import_raises.py"))

    text = str(caught.value)
    assert "KeyError: 'TABLE_NAME_THAT_IS_NOT_SET'" in text
    assert "hint: the module raised it while importing" in text and "import_raises.py" in text


def test_a_zip_that_is_not_a_zip_is_a_handler_error(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("behaviours.pid", "behaviours.py", code_zip=b"not a zip", code_sha256="bogus")

    with pytest.raises(HandlerError, match="not a valid zip"):
        runtime.invoke(fn, b"{}")


def test_process_exit_during_init_is_an_exit_error(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("exits_at_import.handler", "exits_at_import.py")

    result = runtime.invoke(fn, b"{}", request_id="req-init-exit")

    assert result.function_error == "Unhandled" and result.cold_start
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-init-exit Error: Runtime exited with error: exit status 4",
    }
    assert result.logs.startswith("importing exits_at_import\n")
    with pytest.raises(HandlerError, match=r"exited during init \(exit status 4\)") as caught:
        runtime.check_handler(fn)
    assert "importing exits_at_import" in str(caught.value)
