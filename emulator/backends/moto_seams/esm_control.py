"""Seam: event source mappings are stored by moto but driven by pipemu's pollers.

moto "delivers" Kinesis records synchronously inside ``put_record`` (one record per invoke, ignoring every
setting) and SQS messages on the next send. We keep moto as the store of the mapping configuration, so
``get/list_event_source_mappings`` work, but pop each mapping from the stream's or queue's
``lambda_event_source_mappings`` right after moto wires it, and tell pipemu's mapping manager to reconcile.

The API answers as AWS does (validation errors, defaults and states in responses): the rules live in
``emulator.esm.core.control``, shared with the endpoint backend's client-side store; this seam feeds it moto's
objects and raises its errors as moto's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda.models import EventSourceMapping, LambdaBackend
from moto.awslambda.responses import LambdaResponse
from moto.dynamodb.models import dynamodb_backends
from moto.kinesis.models import kinesis_backends
from moto.sqs.models import sqs_backends

from emulator.esm.core import control

TOUCHES = (
    "moto.awslambda.models.LambdaBackend.{create,update,delete}_event_source_mapping",
    "moto.awslambda.models.LambdaBackend._event_source_mappings",
    "moto.awslambda.models.EventSourceMapping.get_configuration",
    "moto.awslambda.responses.LambdaResponse.{create,update}_event_source_mapping",
    "moto.kinesis.models.Stream.lambda_event_source_mappings",
    "moto.sqs.models.Queue.lambda_event_source_mappings",
    "moto.dynamodb.models.table.Table.{lambda_event_source_mappings,latest_stream_label,table_arn}",
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
    ``ClientError.response`` next to ``message`` (tests/conformance/aws-snapshots)."""

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


def _raise(error: control.MappingRequestError) -> None:
    if error.status == 409:
        raise ResourceConflict(error.message) from None
    raise InvalidParameterValue(error.message) from None


_service = control.source_kind


def _unwire(backend: LambdaBackend, esm: EventSourceMapping) -> None:
    arn = esm.event_source_arn
    if _service(arn) == "kinesis":
        for stream in kinesis_backends[backend.account_id][backend.region_name].streams.values():
            stream.lambda_event_source_mappings.clear()
    elif _service(arn) == "sqs":
        for queue in sqs_backends[backend.account_id][backend.region_name].queues.values():
            queue.lambda_event_source_mappings.clear()
    elif _service(arn) == "dynamodb":
        # moto delivers a table's stream records itself and then empties the shard, renumbering later
        # records: the mapping must be pipemu's alone.
        for table in dynamodb_backends[backend.account_id][backend.region_name].tables.values():
            table.lambda_event_source_mappings.clear()


def _source_exists(backend: LambdaBackend, arn: str) -> bool:
    if _service(arn) == "kinesis":
        return any(s.arn == arn for s in kinesis_backends[backend.account_id][backend.region_name].streams.values())
    if _service(arn) == "sqs":
        return any(q.queue_arn == arn for q in sqs_backends[backend.account_id][backend.region_name].queues.values())
    if _service(arn) == "dynamodb":
        tables = dynamodb_backends[backend.account_id][backend.region_name].tables.values()
        return any(t.latest_stream_label and f"{t.table_arn}/stream/{t.latest_stream_label}" == arn for t in tables)
    return True  # other sources: moto's own checks


def _validate_create(backend: LambdaBackend, spec: dict[str, Any]) -> None:
    arn = str(spec.get("EventSourceArn") or "")
    try:
        if _service(arn) in control.DEFAULTS:
            control.check_create(arn, spec, source_exists=_source_exists(backend, arn))
        control.check_filters(spec.get("FilterCriteria"))
        function_arn = backend.get_function(str(spec["FunctionName"])).function_arn
        for other in backend._event_source_mappings.values():
            if other.event_source_arn == arn and other.function_arn == function_arn:
                raise control.conflict(arn, str(spec["FunctionName"]).split(":")[-1], other.uuid)
    except control.MappingRequestError as error:
        _raise(error)


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
    try:
        if "FilterCriteria" in spec:
            control.check_filters(spec["FilterCriteria"])
        if current is not None:
            control.check_batch_window(
                current.event_source_arn,
                spec.get("BatchSize", current.batch_size),
                spec.get("MaximumBatchingWindowInSeconds", current.max_batch_window),
            )
    except control.MappingRequestError as error:
        _raise(error)
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


def _kinesis_fields(esm: EventSourceMapping) -> dict[str, Any]:
    destination = dict((esm.destination_config or {}).get("OnFailure") or {})
    config: dict[str, Any] = {
        "BisectBatchOnFunctionError": bool(esm.bisect_on_error),
        "DestinationConfig": {"OnFailure": destination},
        "MaximumRecordAgeInSeconds": -1 if esm.max_record_age is None else int(esm.max_record_age),
        "MaximumRetryAttempts": -1 if esm.max_retry_attempts is None else int(esm.max_retry_attempts),
        "ParallelizationFactor": int(esm.parallelization_factor or 1),
        "StartingPosition": esm.starting_position,
        "TumblingWindowInSeconds": int(esm.tumbling_window or 0),
    }
    if esm.starting_position_timestamp is not None:
        config["StartingPositionTimestamp"] = esm.starting_position_timestamp
    return config


def _get_configuration(self: EventSourceMapping) -> dict[str, Any]:
    """moto's mapping in the fields AWS answers (the rest of the answer is ``control.answer``'s)."""
    base = _originals["get_configuration"](self)
    service = _service(self.event_source_arn)
    if service not in control.DEFAULTS:
        return base  # type: ignore[no-any-return]
    config: dict[str, Any] = {
        "BatchSize": self.batch_size,
        "EventSourceArn": self.event_source_arn,
        "EventSourceMappingArn": self.arn,
        "FunctionArn": self.function_arn,
        "FunctionResponseTypes": list(self.function_response_types or []),
        "LastModified": base["LastModified"],
        "MaximumBatchingWindowInSeconds": int(self.max_batch_window or 0),
        "State": "Enabled" if self.enabled else "Disabled",
        "UUID": self.uuid,
    }
    if service in ("kinesis", "dynamodb"):
        config.update(_kinesis_fields(self))
    elif self.scaling_config:
        config["ScalingConfig"] = self.scaling_config
    if self.filter_criteria:
        config["FilterCriteria"] = self.filter_criteria
    return control.answer(config, last_processing_result=_processing_results.get(self.uuid))


def _respond_create(self: LambdaResponse) -> tuple[int, dict[str, Any], str]:
    """AWS answers 202 with a transitional state: ``Creating`` (SQS created disabled: ``Disabled``)."""
    _status, headers, body = _originals["respond_create"](self)
    config = json.loads(body)
    config["State"] = control.created_state(config)
    headers["status"] = 202
    return 202, headers, json.dumps(config)


def _respond_update(self: LambdaResponse) -> tuple[int, dict[str, Any], str]:
    """AWS answers ``Enabling``/``Disabling`` when Enabled flips, ``Updating`` otherwise."""
    status, headers, body = _originals["respond_update"](self)
    if status != 202:
        return status, headers, body
    config = json.loads(body)
    config["State"] = control.updated_state(self.json_body)
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
