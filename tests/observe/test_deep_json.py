"""What a handler writes can be JSON nested past the parser's depth (Python 3.11 stops near 1000 levels with a
RecursionError, 3.13 parses on). Each reader treats it as the unreadable JSON it is for AWS's parsers, or reads
it, and never lets the RecursionError end the run."""

from __future__ import annotations

from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.responses import BatchVerdict, read_response
from emulator.observe import collector, ends
from emulator.observe.outputs import parse_records

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
