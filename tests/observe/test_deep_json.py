"""What a handler writes can be JSON nested past the parser's depth (Python 3.11 stops near 1000 levels with a
RecursionError, 3.13 parses on). Each reader treats it as the unreadable JSON it is for AWS's parsers, or reads
it, and never lets the RecursionError end the run."""

from __future__ import annotations

import json

from emulator.clock import FakeClock
from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.responses import BatchVerdict, read_response
from emulator.esm.streams.windows import _MISSING, TumblingWindows
from emulator.nesting import deeper_than
from emulator.observe import collector, ends
from emulator.observe.outputs import parse_records
from emulator.report.model import PRETTY_DEPTH, pretty
from emulator.stepfunctions import observe as sfn_observe

DEEP = "[" * 5000 + "1" + "]" * 5000


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
