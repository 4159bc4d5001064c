"""The event source mapping control plane: what CreateEventSourceMapping, UpdateEventSourceMapping and
Get/ListEventSourceMappings answer, written once for every store of mappings (the embedded backend keeps them in
moto, the endpoint backend on the client side).

Defaults, validation rules and messages are AWS's, as recorded in ``tests/conformance/aws-snapshots``
(https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html). A validation failure is a
``MappingRequestError``; each store raises it as its API raises errors.
"""

from __future__ import annotations

from typing import Any

from emulator.esm.core.filters import FilterPatternError, parse_filter_criteria

KINESIS_DEFAULTS: dict[str, Any] = {
    "BatchSize": 100,
    "BisectBatchOnFunctionError": False,
    "MaximumBatchingWindowInSeconds": 0,
    "MaximumRecordAgeInSeconds": -1,
    "MaximumRetryAttempts": -1,
    "ParallelizationFactor": 1,
    "TumblingWindowInSeconds": 0,
    "FunctionResponseTypes": [],
    "DestinationConfig": {"OnFailure": {}},
}
SQS_DEFAULTS: dict[str, Any] = {"BatchSize": 10, "MaximumBatchingWindowInSeconds": 0, "FunctionResponseTypes": []}
# DynamoDB Streams mappings take the same parameters and defaults as Kinesis ones (AWS-recorded).
DEFAULTS: dict[str, dict[str, Any]] = {"kinesis": KINESIS_DEFAULTS, "dynamodb": KINESIS_DEFAULTS, "sqs": SQS_DEFAULTS}
"""Source kind -> the values AWS fills in when a request leaves them out."""

UPDATABLE = frozenset(
    {
        "BatchSize", "BisectBatchOnFunctionError", "DestinationConfig", "FilterCriteria", "FunctionResponseTypes",
        "MaximumBatchingWindowInSeconds", "MaximumRecordAgeInSeconds", "MaximumRetryAttempts",
        "ParallelizationFactor", "ScalingConfig", "TumblingWindowInSeconds",
    }
)
"""Request keys a create or an update stores as they are."""

_STATE_REASON = {"kinesis": "User action", "dynamodb": "User action", "sqs": "USER_INITIATED"}
STREAM_KINDS = frozenset({"kinesis", "dynamodb"})
"""Sources read in order per shard: they need a StartingPosition and show a LastProcessingResult."""


class MappingRequestError(Exception):
    """A request AWS refuses: its error code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def source_kind(arn: str) -> str:
    """``kinesis``, ``sqs`` (the sources pipemu polls) or the ARN's service; ``""`` for what is not an ARN."""
    return arn.split(":")[2] if arn.count(":") >= 5 else ""


def source_missing(arn: str) -> MappingRequestError:
    if source_kind(arn) == "sqs":
        return MappingRequestError(
            "InvalidParameterValueException",
            "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
            "SQS Error Message: The specified queue does not exist.",
        )
    return MappingRequestError("InvalidParameterValueException", f"Stream not found: {arn}")


def conflict(arn: str, function: str, existing_uuid: str) -> MappingRequestError:
    """The mapping from ``arn`` to ``function`` (its name) exists already as ``existing_uuid``."""
    if source_kind(arn) == "sqs":
        message = (
            f'An event source mapping with SQS arn (" {arn} ") and function (" {function} ") already '
            f"exists. Please update or delete the existing mapping with UUID {existing_uuid}"
        )
    else:
        message = (
            f'The event source arn (" {arn} ") and function (" {function} ") provided mapping already '
            f"exists. Please update or delete the existing mapping with UUID {existing_uuid}"
        )
    return MappingRequestError("ResourceConflictException", message, 409)


def check_batch_window(arn: str, batch_size: Any, window: Any) -> None:
    """SQS: a batch over 10 messages needs a batching window."""
    if source_kind(arn) == "sqs" and batch_size is not None and int(batch_size) > 10 and not window:
        raise MappingRequestError(
            "InvalidParameterValueException",
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        )


def check_filters(criteria: Any) -> None:
    """Lambda refuses a pattern that is not an EventBridge pattern at create and update time (AWS-recorded:
    test_sqs_invalid_event_filter), so a poller never starts with one."""
    try:
        parse_filter_criteria(criteria)
    except FilterPatternError as exc:
        raise MappingRequestError("InvalidParameterValueException", str(exc)) from exc


def check_create(arn: str, request: dict[str, Any], *, source_exists: bool) -> None:
    """The checks of a create that need no other mapping: a supported, existing source and a valid window."""
    if source_kind(arn) not in DEFAULTS:
        raise MappingRequestError("InvalidParameterValueException", f"Unsupported event source: {arn!r}")
    if not source_exists:
        raise source_missing(arn)
    check_batch_window(arn, request.get("BatchSize"), request.get("MaximumBatchingWindowInSeconds"))


def answer(config: dict[str, Any], *, last_processing_result: str | None) -> dict[str, Any]:
    """A mapping as Get/ListEventSourceMappings answer it: keys sorted, the state reason, and for a stream the
    last processing result (AWS shows none for a queue)."""
    kind = source_kind(str(config["EventSourceArn"]))
    out = dict(config)
    out.setdefault("StateTransitionReason", _STATE_REASON.get(kind, "USER_INITIATED"))
    if kind in STREAM_KINDS:
        out["LastProcessingResult"] = last_processing_result or "No records processed"
    return dict(sorted(out.items()))


def created_state(config: dict[str, Any]) -> str:
    """AWS answers a create with a transitional state: ``Creating`` (an SQS mapping created disabled:
    ``Disabled``)."""
    disabled_queue = config.get("State") == "Disabled" and source_kind(str(config.get("EventSourceArn"))) == "sqs"
    return "Disabled" if disabled_queue else "Creating"


def updated_state(request: dict[str, Any]) -> str:
    """AWS answers ``Enabling``/``Disabling`` when the request flips Enabled, ``Updating`` otherwise."""
    if "Enabled" not in request or request["Enabled"] is None:
        return "Updating"
    return "Enabling" if request["Enabled"] else "Disabling"


def default_batch_size(kind: str) -> int:
    return int(DEFAULTS.get(kind, SQS_DEFAULTS)["BatchSize"])


__all__ = [
    "DEFAULTS", "STREAM_KINDS", "UPDATABLE", "MappingRequestError", "answer", "check_batch_window", "check_create",
    "check_filters", "conflict",
    "created_state", "default_batch_size", "source_kind", "source_missing", "updated_state",
]
