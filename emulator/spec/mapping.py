"""One event source mapping: the AWS CreateEventSourceMapping parameters in snake_case.

https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html. ``None`` means
"AWS default", and deploy omits it. Keys that make sense for only one kind of source are refused on the
other, with the reason.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from emulator.esm.core.filter_patterns import PatternSyntaxError, compile_rule
from emulator.spec.security import LintSpec
from emulator.spec.validation import Strict, rule_error

SOURCE_PATTERN = r"^(stream|queue|table)/[^/\s]+$"
DESTINATION_PATTERN = r"^(queue|topic|bucket)/[^/\s]+$"
_SQS_RETRY_HINT = "SQS mappings retry through the queue's redrive policy; set redrive on the queue"
# Stream-only mapping keys, and why each makes no sense on an SQS mapping.
STREAM_ONLY: dict[str, str] = {
    "starting_position": "SQS mappings always read the whole queue; starting_position applies to streams",
    "starting_position_timestamp": "SQS mappings always read the whole queue; it applies to streams",
    "maximum_retry_attempts": _SQS_RETRY_HINT,
    "maximum_record_age_in_seconds": _SQS_RETRY_HINT,
    "bisect_batch_on_function_error": _SQS_RETRY_HINT,
    "on_failure": _SQS_RETRY_HINT + " (redrive.dead_letter)",
    "parallelization_factor": "SQS mappings scale with scaling_config.maximum_concurrency",
    "tumbling_window_in_seconds": "tumbling windows apply to Kinesis and DynamoDB streams only",
}


def split_ref(ref: str) -> tuple[str, str]:
    """``"queue/clicks-dlq"`` -> ``("queue", "clicks-dlq")``."""
    kind, _, name = ref.partition("/")
    return kind, name


class ScalingConfig(Strict):
    maximum_concurrency: int = Field(ge=2, le=1000)


class MappingSpec(Strict):
    source: str = Field(pattern=SOURCE_PATTERN)
    function: str
    enabled: bool = True
    batch_size: int | None = Field(None, ge=1, le=10000)
    maximum_batching_window_in_seconds: int | None = Field(None, ge=0, le=300)
    starting_position: Literal["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"] | None = None
    starting_position_timestamp: datetime | None = None
    maximum_retry_attempts: int | None = Field(None, ge=-1, le=10000)
    maximum_record_age_in_seconds: int | None = Field(None, ge=-1, le=604800)
    bisect_batch_on_function_error: bool | None = None
    parallelization_factor: int | None = Field(None, ge=1, le=10)
    tumbling_window_in_seconds: int | None = Field(None, ge=0, le=900)
    function_response_types: list[Literal["ReportBatchItemFailures"]] | None = None
    on_failure: str | None = Field(None, pattern=DESTINATION_PATTERN)
    filters: list[dict[str, Any]] | None = None
    scaling_config: ScalingConfig | None = None
    lint: LintSpec | None = None  # rule ids silenced on this mapping (emulator.spec.security)

    @property
    def source_kind(self) -> str:
        return split_ref(self.source)[0]

    @property
    def source_name(self) -> str:
        return split_ref(self.source)[1]

    @field_validator("maximum_record_age_in_seconds")
    @classmethod
    def _record_age(cls, value: int | None) -> int | None:
        if value is not None and value != -1 and value < 60:
            raise rule_error(f"should be -1 (no limit) or 60..604800, got {value}")
        return value

    @field_validator("filters")
    @classmethod
    def _patterns(cls, filters: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        for index, pattern in enumerate(filters or []):
            _check_pattern(pattern, (index,))
            try:  # what Lambda refuses at create time, refused here with the reason (AWS's message gives none)
                compile_rule(json.dumps(pattern))
            except PatternSyntaxError as exc:
                raise rule_error(
                    f"Lambda refuses this filter pattern: {exc}", path=(index,),
                    hint="see https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html",
                ) from None
        return filters

    @model_validator(mode="after")
    def _source_rules(self) -> Self:
        if self.source_kind == "queue":
            for key, why in STREAM_ONLY.items():
                if getattr(self, key) is not None:
                    raise rule_error(f"'{key}' does not apply to an SQS mapping", path=(key,), hint=why)
            size, window = self.batch_size, self.maximum_batching_window_in_seconds
            if size is not None and size > 10 and not window:
                raise rule_error(
                    f"batch_size {size} on an SQS mapping needs maximum_batching_window_in_seconds >= 1",
                    path=("batch_size",), hint="AWS caps SQS batches at 10 unless a batching window is set",
                )
            return self
        if self.scaling_config is not None:
            raise rule_error("'scaling_config' applies to SQS mappings only", path=("scaling_config",),
                             hint="stream mappings scale with parallelization_factor")
        if self.starting_position is None:
            raise rule_error("a stream mapping needs starting_position", path=("starting_position",),
                             hint="AWS requires it: TRIM_HORIZON (oldest record), LATEST or AT_TIMESTAMP")
        at_timestamp = self.starting_position == "AT_TIMESTAMP"
        if at_timestamp and self.source_kind == "table":
            raise rule_error("DynamoDB Streams mappings cannot start AT_TIMESTAMP", path=("starting_position",),
                             hint="use TRIM_HORIZON (the stream's oldest record, up to 24 hours) or LATEST")
        if at_timestamp and self.starting_position_timestamp is None:
            raise rule_error("AT_TIMESTAMP needs starting_position_timestamp", path=("starting_position",),
                             hint="add starting_position_timestamp: 2024-01-01T00:00:00Z")
        if not at_timestamp and self.starting_position_timestamp is not None:
            raise rule_error("starting_position_timestamp is only used with AT_TIMESTAMP",
                             path=("starting_position_timestamp",),
                             hint="set starting_position: AT_TIMESTAMP")
        return self

    def to_create_esm_kwargs(
        self, *, function_name: str, event_source_arn: str, destination_arn: str | None
    ) -> dict[str, Any]:
        """Keyword arguments for boto3 ``lambda.create_event_source_mapping``; unset keys are left out."""
        if self.on_failure is not None and destination_arn is None:
            raise ValueError(f"mapping has on_failure={self.on_failure!r}: pass its destination_arn")
        kwargs: dict[str, Any] = {
            "FunctionName": function_name, "EventSourceArn": event_source_arn, "Enabled": self.enabled,
        }
        simple = {
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.maximum_batching_window_in_seconds,
            "StartingPosition": self.starting_position,
            "StartingPositionTimestamp": self.starting_position_timestamp,
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "MaximumRecordAgeInSeconds": self.maximum_record_age_in_seconds,
            "BisectBatchOnFunctionError": self.bisect_batch_on_function_error,
            "ParallelizationFactor": self.parallelization_factor,
            "TumblingWindowInSeconds": self.tumbling_window_in_seconds,
        }
        kwargs.update({key: value for key, value in simple.items() if value is not None})
        if self.function_response_types is not None:
            kwargs["FunctionResponseTypes"] = list(self.function_response_types)
        if destination_arn is not None:
            kwargs["DestinationConfig"] = {"OnFailure": {"Destination": destination_arn}}
        if self.filters is not None:
            kwargs["FilterCriteria"] = {"Filters": [{"Pattern": json.dumps(p)} for p in self.filters]}
        if self.scaling_config is not None:
            kwargs["ScalingConfig"] = {"MaximumConcurrency": self.scaling_config.maximum_concurrency}
        return kwargs


def _check_pattern(node: Any, path: tuple[str | int, ...]) -> None:
    """EventBridge patterns: nested mappings whose leaves are lists of values or matchers."""
    if not isinstance(node, dict) or not node:
        raise rule_error("a filter pattern level must be a non-empty mapping", path=path)
    for key, value in node.items():
        if isinstance(value, dict):
            _check_pattern(value, (*path, key))
        elif not isinstance(value, list):
            raise rule_error(f"filter values must be lists, got {value!r}", path=(*path, key),
                             hint=f"write {key}: [{json.dumps(value, default=str)}]")
        else:
            try:
                json.dumps(value)
            except TypeError:
                raise rule_error("filter values must be JSON (quote dates)", path=(*path, key)) from None


__all__ = [
    "DESTINATION_PATTERN", "SOURCE_PATTERN", "STREAM_ONLY", "MappingSpec", "ScalingConfig", "split_ref",
]
