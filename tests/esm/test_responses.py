"""How a function's answer to a batch is read (ReportBatchItemFailures), case by case, against the whole
BatchVerdict: AWS-recorded rules of shared/conformance §2/§3."""

from __future__ import annotations

import pytest

from emulator.esm.core.invoker import InvokeOutcome
from emulator.esm.core.responses import BatchVerdict, read_response

IDS = ["1", "2", "3"]


def answer(payload: bytes, error: str | None = None) -> InvokeOutcome:
    return InvokeOutcome(payload=payload, function_error=error, status_code=200)


def test_a_throttle_before_the_function_ran_is_a_failure_that_was_not_invoked() -> None:
    outcome = InvokeOutcome(payload=b"", function_error=None, status_code=429, invoked=False)
    assert read_response(outcome, IDS, report_item_failures=True) == BatchVerdict("batch_failure", invoked=False)


@pytest.mark.parametrize("rbif", [True, False])
def test_a_function_error_fails_the_batch_and_is_kept(rbif: bool) -> None:
    verdict = read_response(answer(b'{"errorMessage": "x"}', "Unhandled"), IDS, report_item_failures=rbif)
    assert verdict == BatchVerdict("batch_failure", function_error="Unhandled", invoked=True)


def test_without_report_batch_item_failures_any_answer_succeeds() -> None:
    body = b'{"batchItemFailures": [{"itemIdentifier": "2"}]}'
    assert read_response(answer(body), IDS, report_item_failures=False) == BatchVerdict("success")


@pytest.mark.parametrize(
    "payload",
    [b"", b"  \n", b"null", b'""', b"[]", b"5", b"{}", b'{"batchItemFailures": []}', b'{"batchItemFailures": null}'],
)
def test_success_answers(payload: bytes) -> None:
    assert read_response(answer(payload), IDS, report_item_failures=True) == BatchVerdict("success")


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b'{"batchItemFailures": "nope"}',
        b'{"batchItemFailures": ["2"]}',
        b'{"batchItemFailures": [{"itemIdentifier": 2}]}',
        b'{"batchItemFailures": [{"itemIdentifier": ""}]}',
        b'{"batchItemFailures": [{"itemIdentifier": null}]}',
        b'{"batchItemFailures": [{"itemIdentifier": ["2"]}]}',
        b'{"batchItemFailures": [{"itemIdentifier": {"id": "2"}}]}',
        b'{"batchItemFailures": [{"foo": "2"}]}',
        b'{"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "9"}]}',
    ],
)
def test_an_invalid_answer_fails_the_whole_batch(payload: bytes) -> None:
    assert read_response(answer(payload), IDS, report_item_failures=True) == BatchVerdict("batch_failure")


def test_reported_items_come_back_once_each_in_batch_order() -> None:
    body = b'{"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "1"}, {"itemIdentifier": "3"}]}'
    verdict = read_response(answer(body), IDS, report_item_failures=True)
    assert verdict == BatchVerdict("partial_failure", failed_ids=("1", "3"))
