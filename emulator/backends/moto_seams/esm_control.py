"""Seam: event source mappings are stored by moto but driven by pipemu's pollers.

moto "delivers" Kinesis records synchronously inside ``put_record`` (one record per invoke, ignoring every
setting) and SQS messages on the next send. We keep moto as the store of the mapping configuration, so
``get/list_event_source_mappings`` work, but pop each mapping from the stream's or queue's
``lambda_event_source_mappings`` right after moto wires it, and tell pipemu's mapping manager to reconcile.

We also make the API answer as AWS does (validation errors, defaults and states in responses), as recorded in
``shared/conformance/aws-snapshots``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import EventSourceMapping, LambdaBackend
from moto.awslambda.responses import LambdaResponse
from moto.kinesis.models import kinesis_backends
from moto.sqs.models import sqs_backends

from emulator.esm.filters import FilterPatternError, parse_filter_criteria

TOUCHES = (
    "moto.awslambda.models.LambdaBackend.{create,update,delete}_event_source_mapping",
    "moto.awslambda.models.LambdaBackend._event_source_mappings",
    "moto.awslambda.models.EventSourceMapping.get_configuration",
    "moto.awslambda.responses.LambdaResponse.{create,update}_event_source_mapping",
    "moto.kinesis.models.Stream.lambda_event_source_mappings",
    "moto.sqs.models.Queue.lambda_event_source_mappings",
)

Listener = Callable[[str, str, dict[str, Any]], None]
"""Called with (uuid, "create" | "update" | "delete", configuration) inside the API call, after moto stored
the change."""

_originals: dict[str, Any] = {}
_listener: Listener | None = None
_lock = threading.Lock()
# What the poller last reported, shown by get/list (AWS: "No records processed", "OK", "PROBLEM: ...").
_processing_results: dict[str, str] = {}


class _UserError(LambdaClientError):
    """Lambda marks a caller's mistake with ``"Type": "User"`` in the error body; boto3 shows it in
    ``ClientError.response`` next to ``message`` (shared/conformance §2, §3)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.description = json.dumps({"__type": code, "Type": "User", "message": message})


class InvalidParameterValue(_UserError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValueException", message)


class ResourceConflict(_UserError):
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceConflictException", message)


def _service(arn: str) -> str:
    return arn.split(":")[2] if arn.count(":") >= 5 else ""


def _unwire(backend: LambdaBackend, esm: EventSourceMapping) -> None:
    arn = esm.event_source_arn
    if _service(arn) == "kinesis":
        for stream in kinesis_backends[backend.account_id][backend.region_name].streams.values():
            stream.lambda_event_source_mappings.clear()
    elif _service(arn) == "sqs":
        for queue in sqs_backends[backend.account_id][backend.region_name].queues.values():
            queue.lambda_event_source_mappings.clear()


def _validate_create(backend: LambdaBackend, spec: dict[str, Any]) -> None:
    arn = str(spec.get("EventSourceArn") or "")
    service = _service(arn)
    if service == "kinesis":
        streams = kinesis_backends[backend.account_id][backend.region_name].streams.values()
        if not any(s.arn == arn for s in streams):
            raise InvalidParameterValue(f"Stream not found: {arn}")
    elif service == "sqs":
        queues = sqs_backends[backend.account_id][backend.region_name].queues.values()
        if not any(q.queue_arn == arn for q in queues):
            raise InvalidParameterValue(
                "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
                "SQS Error Message: The specified queue does not exist."
            )
        _validate_sqs_window(spec.get("BatchSize"), spec.get("MaximumBatchingWindowInSeconds"))
    _validate_filters(spec.get("FilterCriteria"))
    function_arn = backend.get_function(str(spec["FunctionName"])).function_arn
    for other in backend._event_source_mappings.values():
        if other.event_source_arn == arn and other.function_arn == function_arn:
            name = str(spec["FunctionName"]).split(":")[-1]
            if service == "sqs":
                message = (
                    f'An event source mapping with SQS arn (" {arn} ") and function (" {name} ") already '
                    f"exists. Please update or delete the existing mapping with UUID {other.uuid}"
                )
            else:
                message = (
                    f'The event source arn (" {arn} ") and function (" {name} ") provided mapping already '
                    f"exists. Please update or delete the existing mapping with UUID {other.uuid}"
                )
            raise ResourceConflict(message)


def _validate_filters(criteria: Any) -> None:
    """Lambda refuses a pattern that is not an EventBridge pattern at create and update time (AWS-recorded:
    test_sqs_invalid_event_filter), so a poller never starts with one."""
    try:
        parse_filter_criteria(criteria)
    except FilterPatternError as exc:
        raise InvalidParameterValue(str(exc)) from exc


def _validate_sqs_window(batch_size: Any, window: Any) -> None:
    if batch_size is not None and int(batch_size) > 10 and not window:
        raise InvalidParameterValue(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"
        )


def _notify(esm: EventSourceMapping, action: str) -> None:
    listener = _listener
    if listener is not None:
        listener(esm.uuid, action, _get_configuration(esm))


def _create(self: LambdaBackend, spec: dict[str, Any]) -> EventSourceMapping:
    _validate_create(self, spec)
    esm = _originals["create"](self, spec)
    _unwire(self, esm)
    _notify(esm, "create")
    return esm  # type: ignore[no-any-return]


def _update(self: LambdaBackend, uuid: str, spec: dict[str, Any]) -> EventSourceMapping | None:
    current = self._event_source_mappings.get(uuid)
    if "FilterCriteria" in spec:
        _validate_filters(spec["FilterCriteria"])
    if current is not None and _service(current.event_source_arn) == "sqs":
        _validate_sqs_window(
            spec.get("BatchSize", current.batch_size),
            spec.get("MaximumBatchingWindowInSeconds", current.max_batch_window),
        )
    esm = _originals["update"](self, uuid, spec)
    if esm is not None:
        _unwire(self, esm)
        _notify(esm, "update")
    return esm  # type: ignore[no-any-return]


def _delete(self: LambdaBackend, uuid: str) -> EventSourceMapping | None:
    esm = _originals["delete"](self, uuid)
    _processing_results.pop(uuid, None)
    if esm is not None:
        _notify(esm, "delete")
    return esm  # type: ignore[no-any-return]


def _kinesis_configuration(esm: EventSourceMapping, base: dict[str, Any]) -> dict[str, Any]:
    destination = dict((esm.destination_config or {}).get("OnFailure") or {})
    config: dict[str, Any] = {
        "BatchSize": esm.batch_size,
        "BisectBatchOnFunctionError": bool(esm.bisect_on_error),
        "DestinationConfig": {"OnFailure": destination},
        "EventSourceArn": esm.event_source_arn,
        "EventSourceMappingArn": esm.arn,
        "FunctionArn": esm.function_arn,
        "FunctionResponseTypes": list(esm.function_response_types or []),
        "LastModified": base["LastModified"],
        "LastProcessingResult": _processing_results.get(esm.uuid, "No records processed"),
        "MaximumBatchingWindowInSeconds": int(esm.max_batch_window or 0),
        "MaximumRecordAgeInSeconds": -1 if esm.max_record_age is None else int(esm.max_record_age),
        "MaximumRetryAttempts": -1 if esm.max_retry_attempts is None else int(esm.max_retry_attempts),
        "ParallelizationFactor": int(esm.parallelization_factor or 1),
        "StartingPosition": esm.starting_position,
        "State": "Enabled" if esm.enabled else "Disabled",
        "StateTransitionReason": "User action",
        "TumblingWindowInSeconds": int(esm.tumbling_window or 0),
        "UUID": esm.uuid,
    }
    if esm.starting_position_timestamp is not None:
        config["StartingPositionTimestamp"] = esm.starting_position_timestamp
    return config


def _sqs_configuration(esm: EventSourceMapping, base: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "BatchSize": esm.batch_size,
        "EventSourceArn": esm.event_source_arn,
        "EventSourceMappingArn": esm.arn,
        "FunctionArn": esm.function_arn,
        "FunctionResponseTypes": list(esm.function_response_types or []),
        "LastModified": base["LastModified"],
        "MaximumBatchingWindowInSeconds": int(esm.max_batch_window or 0),
        "State": "Enabled" if esm.enabled else "Disabled",
        "StateTransitionReason": "USER_INITIATED",
        "UUID": esm.uuid,
    }
    if esm.scaling_config:
        config["ScalingConfig"] = esm.scaling_config
    return config


def _get_configuration(self: EventSourceMapping) -> dict[str, Any]:
    base = _originals["get_configuration"](self)
    service = _service(self.event_source_arn)
    if service == "kinesis":
        config = _kinesis_configuration(self, base)
    elif service == "sqs":
        config = _sqs_configuration(self, base)
    else:
        return base  # type: ignore[no-any-return]
    if self.filter_criteria:
        config["FilterCriteria"] = self.filter_criteria
    return dict(sorted(config.items()))


def _respond_create(self: LambdaResponse) -> tuple[int, dict[str, Any], str]:
    """AWS answers 202 with a transitional state: ``Creating`` (SQS created disabled: ``Disabled``)."""
    _status, headers, body = _originals["respond_create"](self)
    config = json.loads(body)
    if not (config.get("State") == "Disabled" and _service(config.get("EventSourceArn", "")) == "sqs"):
        config["State"] = "Creating"
    headers["status"] = 202
    return 202, headers, json.dumps(config)


def _respond_update(self: LambdaResponse) -> tuple[int, dict[str, Any], str]:
    """AWS answers ``Enabling``/``Disabling`` when Enabled flips, ``Updating`` otherwise."""
    status, headers, body = _originals["respond_update"](self)
    if status != 202:
        return status, headers, body
    config = json.loads(body)
    requested = self.json_body.get("Enabled")
    if requested is not None:
        config["State"] = "Enabling" if requested else "Disabling"
    else:
        config["State"] = "Updating"
    return status, headers, json.dumps(config)


def set_last_processing_result(uuid: str, result: str) -> None:
    _processing_results[uuid] = result


def install(listener: Listener) -> None:
    global _listener
    with _lock:
        _listener = listener
        if _originals:
            return
        _originals["create"] = LambdaBackend.create_event_source_mapping
        _originals["update"] = LambdaBackend.update_event_source_mapping
        _originals["delete"] = LambdaBackend.delete_event_source_mapping
        _originals["get_configuration"] = EventSourceMapping.get_configuration
        _originals["respond_create"] = LambdaResponse.create_event_source_mapping
        _originals["respond_update"] = LambdaResponse.update_event_source_mapping
        setattr(LambdaResponse, "create_event_source_mapping", _respond_create)
        setattr(LambdaResponse, "update_event_source_mapping", _respond_update)
        setattr(LambdaBackend, "create_event_source_mapping", _create)
        setattr(LambdaBackend, "update_event_source_mapping", _update)
        setattr(LambdaBackend, "delete_event_source_mapping", _delete)
        setattr(EventSourceMapping, "get_configuration", _get_configuration)


def uninstall() -> None:
    global _listener
    with _lock:
        _listener = None
        if not _originals:
            return
        setattr(LambdaBackend, "create_event_source_mapping", _originals.pop("create"))
        setattr(LambdaBackend, "update_event_source_mapping", _originals.pop("update"))
        setattr(LambdaBackend, "delete_event_source_mapping", _originals.pop("delete"))
        setattr(EventSourceMapping, "get_configuration", _originals.pop("get_configuration"))
        setattr(LambdaResponse, "create_event_source_mapping", _originals.pop("respond_create"))
        setattr(LambdaResponse, "update_event_source_mapping", _originals.pop("respond_update"))
        _processing_results.clear()
