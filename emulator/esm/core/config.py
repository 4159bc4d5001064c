"""A mapping's configuration as the Lambda API reports it, parsed once into a typed, frozen value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emulator.esm.core.control import default_batch_size

SourceKind = str
"""The event source ARN's service (``kinesis``, ``sqs``, ...): the key of ``core.sources.SOURCE_KINDS``."""


@dataclass(frozen=True)
class MappingConfig:
    """One event source mapping. Values are AWS's effective values (defaults filled in)."""

    uuid: str
    function_arn: str
    event_source_arn: str
    kind: SourceKind
    enabled: bool
    batch_size: int
    window_s: float
    starting_position: str | None = None
    starting_position_timestamp: float | None = None
    max_retry_attempts: int = -1
    max_record_age_s: int = -1
    bisect_on_error: bool = False
    report_batch_item_failures: bool = False
    on_failure_arn: str | None = None
    filter_criteria: dict[str, Any] | None = None
    parallelization_factor: int = 1
    tumbling_window_s: int = 0
    max_concurrency: int | None = None

    @property
    def source_name(self) -> str:
        if self.kind == "dynamodb":  # arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL (a time, with colons)
            return self.event_source_arn.split(":", 5)[5].split("/")[1]
        return self.event_source_arn.rsplit(":", 1)[-1].split("/")[-1]

    @property
    def label(self) -> str:
        """``stream/clicks -> enrich``: the mapping as a pipeline file names it."""
        kind = {"kinesis": "stream", "dynamodb": "table"}.get(self.kind, "queue")
        function = self.function_arn.split(":function:", 1)[-1].split(":")[0]
        return f"{kind}/{self.source_name} -> {function}"

    @classmethod
    def from_api(cls, config: dict[str, Any]) -> MappingConfig:
        arn = str(config["EventSourceArn"])
        if arn.count(":") < 5:
            raise ValueError(f"unsupported event source {arn}")
        kind: SourceKind = arn.split(":")[2]
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        ts = config.get("StartingPositionTimestamp")
        if isinstance(ts, datetime):
            ts = ts.timestamp()
        scaling = config.get("ScalingConfig") or {}
        return cls(
            uuid=str(config["UUID"]),
            function_arn=str(config["FunctionArn"]),
            event_source_arn=arn,
            kind=kind,
            enabled=config.get("State") not in ("Disabled", "Disabling"),  # none given: a new mapping, enabled
            batch_size=int(config.get("BatchSize") or default_batch_size(kind)),
            window_s=float(config.get("MaximumBatchingWindowInSeconds") or 0),
            starting_position=config.get("StartingPosition"),
            starting_position_timestamp=float(ts) if ts is not None else None,
            max_retry_attempts=_int(config.get("MaximumRetryAttempts"), -1),
            max_record_age_s=_int(config.get("MaximumRecordAgeInSeconds"), -1),
            bisect_on_error=bool(config.get("BisectBatchOnFunctionError")),
            report_batch_item_failures="ReportBatchItemFailures"
            in (config.get("FunctionResponseTypes") or []),
            on_failure_arn=str(destination) if destination else None,
            filter_criteria=config.get("FilterCriteria") or None,
            parallelization_factor=_int(config.get("ParallelizationFactor"), 1),
            tumbling_window_s=_int(config.get("TumblingWindowInSeconds"), 0),
            max_concurrency=scaling.get("MaximumConcurrency"),
        )


def _int(value: Any, default: int) -> int:
    return default if value is None else int(value)
