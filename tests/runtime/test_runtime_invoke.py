"""Invoking a handler: event in, JSON out, the context object, handler name forms."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from emulator.runtime import FunctionSpec, LambdaRuntime

MakeFn = Callable[..., FunctionSpec]


def test_handler_gets_the_json_event_and_its_return_value_is_json(
    runtime: LambdaRuntime, make_fn: MakeFn
) -> None:
    fn = make_fn("behaviours.echo", "behaviours.py")

    result = runtime.invoke(fn, b'{"orders": [1, 2], "name": "x"}')

    assert result.function_error is None
    assert json.loads(result.payload) == {"orders": [1, 2], "name": "x"}


def test_empty_payload_is_an_empty_dict_and_none_is_null(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    echo = make_fn("behaviours.echo", "behaviours.py")
    none = make_fn("behaviours.returns_none", "behaviours.py", name="none")

    assert runtime.invoke(echo, b"").payload == b"{}"
    assert runtime.invoke(none, b"{}").payload == b"null"


def test_python312_responses_keep_non_ascii_text(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("behaviours.non_ascii", "behaviours.py")

    assert runtime.invoke(fn, b"{}").payload == '{"text": "héllo ✓"}'.encode()


def test_context_object_has_the_aws_fields(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    # GIVEN a function with 256 MB and a 2 s timeout
    fn = make_fn("context_fields.handler", "context_fields.py", name="orders", memory_mb=256, timeout_s=2.0)

    # WHEN it is invoked with a chosen request id
    result = runtime.invoke(fn, b'{"k": "v"}', request_id="11111111-2222-3333-4444-555555555555")

    # THEN the context carries what AWS's does
    ctx = json.loads(result.payload)
    assert ctx["aws_request_id"] == "11111111-2222-3333-4444-555555555555"
    assert result.request_id == ctx["aws_request_id"]
    assert ctx["function_name"] == "orders"
    assert ctx["function_version"] == "$LATEST"
    assert ctx["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:orders"
    assert ctx["memory_limit_in_mb"] == 256
    assert ctx["log_group_name"] == "/aws/lambda/orders"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", ctx["log_stream_name"])
    assert ctx["identity"] is None
    assert ctx["client_context"] is None
    assert ctx["event"] == {"k": "v"}
    # AND the remaining time counts down from the timeout
    assert 1500 < ctx["remaining_before"] <= 2000
    assert ctx["remaining_after"] < ctx["remaining_before"]


def test_request_ids_are_generated_when_not_given(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    fn = make_fn("behaviours.pid", "behaviours.py")

    first, second = runtime.invoke(fn, b"{}"), runtime.invoke(fn, b"{}")

    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", first.request_id)
    assert first.request_id != second.request_id


def test_handler_paths_with_slashes_and_dots_both_work(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    slashes = make_fn("pkg/sub/mod.handler", "pkg", name="slashes")
    dots = make_fn("pkg.sub.mod.handler", "pkg", name="dots")

    assert json.loads(runtime.invoke(slashes, b"{}").payload) == {"module": "pkg.sub.mod"}
    assert json.loads(runtime.invoke(dots, b"{}").payload) == {"module": "pkg.sub.mod"}


def test_in_flight_is_zero_when_nothing_runs(runtime: LambdaRuntime, make_fn: MakeFn) -> None:
    runtime.invoke(make_fn("behaviours.pid", "behaviours.py"), b"{}")

    assert runtime.in_flight() == 0
