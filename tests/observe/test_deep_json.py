"""JSON nested past the parser's depth, from a handler, a client or a file (Python 3.11's parser stops near 1000
levels with a RecursionError, 3.13's parses on). Each reader treats it as the unreadable JSON it is for AWS's
parsers, or reads it, and never lets the RecursionError end the run or show as a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deep_json import DEEP, parser_reads

from emulator import project_state, runner
from emulator.backends.moto_seams import kinesis_fast_put, kinesis_store
from emulator.backends.moto_seams.sfn_tasks import runtime_spacing
from emulator.clock import FakeClock
from emulator.errors import ConfigError
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.responses import BatchVerdict, read_response
from emulator.esm.streams.dynamodb_events import ledger_key as dynamodb_ledger_key
from emulator.esm.streams.records import StreamRecord
from emulator.esm.streams.windows import _MISSING, TumblingWindows
from emulator.lint import last_report
from emulator.nesting import deeper_than
from emulator.observe import collector, ends
from emulator.observe.ledger import Ledger
from emulator.observe.outputs import parse_records
from emulator.report.model import PRETTY_DEPTH, pretty
from emulator.runtime import faults, worker
from emulator.settings import load_settings
from emulator.stepfunctions import observe as sfn_observe


def test_an_output_object_keeps_its_readable_lines_beside_a_too_deep_one() -> None:
    records = parse_records(('{"id": "a"}\n' + DEEP + '\n{"id": "b"}\n').encode())

    assert records[0] == {"id": "a"}
    assert records[-1] == {"id": "b"}


def test_a_too_deep_queue_body_is_left_as_it_is() -> None:
    assert ends._unwrap(DEEP) == DEEP


def test_a_too_deep_dead_letter_body_is_kept_as_text_or_read() -> None:
    value = collector._json(DEEP)

    assert value == DEEP or isinstance(value, list)


def test_a_too_deep_item_failure_answer_fails_the_whole_batch() -> None:
    payload = ('{"batchItemFailures": [{"itemIdentifier": ' + DEEP + "}]}").encode()
    outcome = InvokeOutcome(payload=payload, function_error=None, status_code=200)

    assert read_response(outcome, ["1"], report_item_failures=True) == BatchVerdict("batch_failure")


def test_a_too_deep_window_state_answer_holds_no_state() -> None:
    window = TumblingWindows(60, FakeClock(0.0))

    assert window.returned_state(DEEP.encode()) is _MISSING


def test_a_too_deep_execution_output_is_kept_as_text_or_read() -> None:
    value = sfn_observe._json(DEEP)

    assert value == DEEP or isinstance(value, list)


def test_a_too_deep_payload_is_shown_in_reports_as_text() -> None:
    assert pretty(DEEP) == DEEP
    at_limit = "[" * (PRETTY_DEPTH + 1) + "]" * (PRETTY_DEPTH + 1)  # the innermost array PRETTY_DEPTH levels down
    past_it = "[" + at_limit + "]"
    assert pretty(at_limit).startswith("[\n  [\n    [")
    assert pretty(past_it) == past_it
    assert pretty(json.loads(past_it)) == past_it
    assert pretty('{"a": 1}') == '{\n  "a": 1\n}'
    assert pretty("not json") == "not json"
    assert pretty({"a": [1]}) == '{\n  "a": [\n    1\n  ]\n}'


def test_nesting_is_measured_through_objects_arrays_and_tuples_alike() -> None:
    value = {"a": [1, ({"b": []},)]}  # the innermost list is 4 levels below the top

    assert (deeper_than(value, 3), deeper_than(value, 4)) == (True, False)
    assert deeper_than("[[[]]]", 0) is False  # text is a scalar, whatever it says


def test_a_too_deep_invoke_payload_is_the_runtime_s_unmarshal_error_where_the_parser_gives_up() -> None:
    if parser_reads(DEEP):
        assert worker._unmarshal(DEEP.encode()) == json.loads(DEEP)
        return
    with pytest.raises(faults.Fault) as caught:
        worker._unmarshal(DEEP.encode())
    assert caught.value.error_type == faults.UNMARSHAL_ERROR
    assert caught.value.message.startswith("Unable to unmarshal input: maximum recursion depth exceeded")


def test_a_too_deep_stream_record_is_no_table_record_and_names_no_event() -> None:
    record = StreamRecord(sequence_number="1", partition_key="k", data=DEEP.encode(), arrival=0.0)

    assert dynamodb_ledger_key(record, "event_id") is None
    observer = runner._Observer(Ledger(), "event_id", {})
    assert observer._by_body(DEEP.encode()) is None


def test_a_too_deep_task_error_payload_is_passed_on_as_it_is() -> None:
    assert runtime_spacing(DEEP) == DEEP


def test_a_too_deep_put_is_left_to_moto() -> None:
    was, previous = kinesis_store.installed(), kinesis_store.listener()
    kinesis_store.install(previous)
    try:
        environ = {"HTTP_X_AMZ_TARGET": "Kinesis_20131202.PutRecords", "REQUEST_METHOD": "POST",
                   "HTTP_HOST": "127.0.0.1"}
        assert kinesis_fast_put.answer(environ, DEEP.encode()) is None
    finally:
        if not was:
            kinesis_store.uninstall()


def test_state_files_and_reports_nested_past_the_parser_depth_read_as_unreadable(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"pid": 1, "env": {}, "x": ' + DEEP + "}")
    (tmp_path / "report.json").write_text('{"x": ' + DEEP + "}")

    if parser_reads(DEEP):
        assert project_state.read(tmp_path / "state.json") is not None
        assert last_report(tmp_path) is not None
    else:
        assert project_state.read(tmp_path / "state.json") is None
        assert last_report(tmp_path) is None


def test_a_prices_table_nested_past_the_parser_depth_is_a_bad_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"bad value .* for prices: "):
        load_settings(tmp_path, environ={"PIPEMU_PRICES": '{"lambda.requests_million": ' + DEEP + "}"})
