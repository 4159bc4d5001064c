"""How a function's response to a batch is read: success, whole-batch failure, or partial failure.

ReportBatchItemFailures rules (https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
and the AWS-recorded cases in tests/conformance/aws-snapshots):
- success: empty or null body, ``""``, ``{}``, ``[]``, ``{"batchItemFailures": []}`` or ``null``;
- whole batch failed: an entry without ``itemIdentifier``, or with an empty, null or unknown identifier;
- otherwise the lowest reported item fails, with everything after it (streams) or each reported item (SQS).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from emulator.esm.core.invoker import InvokeOutcome

Verdict = Literal["success", "batch_failure", "partial_failure"]


@dataclass(frozen=True)
class BatchVerdict:
    verdict: Verdict
    failed_ids: tuple[str, ...] = ()
    """Identifiers reported as failed, in batch order (partial_failure only)."""
    function_error: str | None = None
    invoked: bool = True


def read_response(
    outcome: InvokeOutcome, batch_ids: Sequence[str], *, report_item_failures: bool
) -> BatchVerdict:
    if not outcome.invoked:
        return BatchVerdict("batch_failure", invoked=False)
    if outcome.function_error is not None:
        return BatchVerdict("batch_failure", function_error=outcome.function_error)
    if not report_item_failures:
        return BatchVerdict("success")
    return _read_item_failures(outcome.payload, batch_ids)


def _read_item_failures(payload: bytes, batch_ids: Sequence[str]) -> BatchVerdict:
    text = payload.strip()
    if not text:
        return BatchVerdict("success")
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # unparsable, also when nested past the parser's depth
        return BatchVerdict("batch_failure")
    if not isinstance(body, dict):
        return BatchVerdict("success")
    failures = body.get("batchItemFailures")
    if failures is None or failures == []:
        return BatchVerdict("success")
    if not isinstance(failures, list):
        return BatchVerdict("batch_failure")
    known = set(batch_ids)
    reported: set[str] = set()
    for entry in failures:
        if not isinstance(entry, dict):
            return BatchVerdict("batch_failure")
        identifier = entry.get("itemIdentifier")
        if not isinstance(identifier, str) or not identifier or identifier not in known:
            return BatchVerdict("batch_failure")
        reported.add(identifier)
    return BatchVerdict("partial_failure", failed_ids=tuple(i for i in batch_ids if i in reported))
