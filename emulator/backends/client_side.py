"""What the endpoint backend keeps on the client side when the endpoint runs no Lambda code itself (a moto
server): each function's code, the event source mappings, and a Lambda client that serves those from here.

Why mappings live here and not in the server: a moto server with a Kinesis mapping invokes the function inside
every ``PutRecord(s)`` call, one record per invoke, through Docker. Measured on moto 5.2.5 without a Docker
engine: puts still succeed but 2,000 records take 9.0 s instead of 0.45 s (one failed Docker call per record),
and a disabled or deleted mapping keeps firing; with a Docker engine the handler would also run in a container,
a second time beside pipemu's poller. So ``create_event_source_mapping`` through this backend's clients never
reaches the server: ``get/list`` through these clients see the mappings, other clients of the server do not.
"""

from __future__ import annotations

import hashlib
import io
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from emulator.esm.core import control
from emulator.runtime import FunctionSpec

ChangeListener = Callable[[str, str, dict[str, Any] | None], None]
"""(uuid, "create" | "update" | "delete", configuration) after the store changed."""

def client_error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
    """A ``ClientError`` shaped as botocore builds it from an AWS error response."""
    response: Any = {
        "Error": {"Code": code, "Message": message, "Type": "User"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


def function_name(name_or_arn: str) -> str:
    """``NAME`` from ``NAME``, ``arn:aws:lambda:R:A:function:NAME`` or ``...:function:NAME:QUALIFIER``."""
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn.split(":")[0]


class FunctionCodeUnknown(Exception):
    """A function exists on the endpoint but pipemu never saw its code (deployed by another client)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"pipemu has no code for function {name!r}: it was deployed by another client. Deploy it through "
            "pipemu (the backend's clients capture the zip) or call backend.register_code(name, zip_bytes)"
        )


class FunctionRegistry:
    """Each function's zip (captured at deploy, since a moto server does not serve ``Code.Location``) and its
    configuration (read from the endpoint, so changes by any client count)."""

    def __init__(self, lambda_client: Any, s3_client: Callable[[], Any]) -> None:
        self._lambda = lambda_client
        self._s3 = s3_client
        self._code: dict[str, bytes] = {}
        self._specs: dict[str, FunctionSpec] = {}
        self._lock = threading.Lock()

    def remember(self, name: str, code: dict[str, Any]) -> None:
        if "ZipFile" in code:
            body = bytes(code["ZipFile"])
        elif "S3Bucket" in code and "S3Key" in code:
            body = self._s3().get_object(Bucket=code["S3Bucket"], Key=code["S3Key"])["Body"].read()
        else:
            return  # an image: nothing pipemu's runtime can run
        with self._lock:
            self._code[function_name(name)] = body
            self._specs.pop(function_name(name), None)

    def register(self, name: str, zip_bytes: bytes) -> None:
        self.remember(name, {"ZipFile": zip_bytes})

    def invalidate(self, name: str) -> None:
        with self._lock:
            self._specs.pop(function_name(name), None)

    def forget(self, name: str) -> None:
        with self._lock:
            self._specs.pop(function_name(name), None)
            self._code.pop(function_name(name), None)

    def clear(self) -> None:
        with self._lock:
            self._specs.clear()
            self._code.clear()

    def spec(self, name_or_arn: str) -> FunctionSpec:
        """Raises ``ClientError`` (ResourceNotFoundException) if the endpoint has no such function and
        ``FunctionCodeUnknown`` if pipemu never saw its code."""
        name = function_name(name_or_arn)
        with self._lock:
            cached = self._specs.get(name)
        if cached is not None:
            return cached
        config = self._lambda.get_function_configuration(FunctionName=name)
        with self._lock:
            code = self._code.get(name)
        if code is None:
            raise FunctionCodeUnknown(name)
        spec = FunctionSpec(
            name=str(config["FunctionName"]),
            arn=str(config["FunctionArn"]),
            handler=str(config.get("Handler") or ""),
            code_zip=code,
            code_sha256=str(config.get("CodeSha256") or hashlib.sha256(code).hexdigest()),
            runtime=str(config.get("Runtime") or "python3.12"),
            timeout_s=float(config.get("Timeout") or 3),
            memory_mb=int(config.get("MemorySize") or 128),
            environment=dict((config.get("Environment") or {}).get("Variables") or {}),
            region=str(config["FunctionArn"]).split(":")[3],
        )
        with self._lock:
            self._specs[name] = spec
        return spec


class LocalMappingStore:
    """Event source mappings as the Lambda API keeps them: create, get, list, update, delete, with AWS's
    defaults and error codes (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html)."""

    def __init__(
        self,
        *,
        function_arn: Callable[[str], str],
        source_exists: Callable[[str], bool],
        on_change: ChangeListener,
    ) -> None:
        self._function_arn = function_arn
        self._source_exists = source_exists
        self._on_change = on_change
        self._mappings: dict[str, dict[str, Any]] = {}
        self._results: dict[str, str] = {}
        self._lock = threading.RLock()

    def create(self, **kwargs: Any) -> dict[str, Any]:
        op = "CreateEventSourceMapping"
        arn = str(kwargs.get("EventSourceArn") or "")
        service = control.source_kind(arn)
        try:
            control.check_create(arn, kwargs, source_exists=service in control.DEFAULTS and self._source_exists(arn))
            control.check_filters(kwargs.get("FilterCriteria"))
        except control.MappingRequestError as error:
            raise client_error(op, error.code, error.message, error.status) from None
        fn_arn = self._function_arn(str(kwargs["FunctionName"]))  # raises ResourceNotFoundException
        if service in control.STREAM_KINDS and not kwargs.get("StartingPosition"):
            what = "Kinesis" if service == "kinesis" else "DynamoDB Streams"
            raise client_error(op, "InvalidParameterValueException", f"StartingPosition is required for {what}")
        with self._lock:
            for other in self._mappings.values():
                if other["EventSourceArn"] == arn and other["FunctionArn"] == fn_arn:
                    clash = control.conflict(arn, function_name(fn_arn), other["UUID"])
                    raise client_error(op, clash.code, clash.message, clash.status)
            mapping_id = str(uuid.uuid4())
            config: dict[str, Any] = dict(control.DEFAULTS[service])
            config.update(
                {k: v for k, v in kwargs.items() if k in control.UPDATABLE or k.startswith("StartingPosition")}
            )
            config.update(
                UUID=mapping_id,
                FunctionArn=fn_arn,
                EventSourceArn=arn,
                EventSourceMappingArn=f"arn:aws:lambda:{fn_arn.split(':')[3]}:{fn_arn.split(':')[4]}"
                f":event-source-mapping:{mapping_id}",
                State="Enabled" if kwargs.get("Enabled", True) else "Disabled",
                LastModified=datetime.now(UTC),
            )
            self._mappings[mapping_id] = config
        self._on_change(mapping_id, "create", self.get(UUID=mapping_id))
        created = self.get(UUID=mapping_id)
        return {**created, "State": control.created_state(created)}

    def get(self, *, UUID: str) -> dict[str, Any]:
        with self._lock:
            config = self._mappings.get(UUID)
            if config is None:
                raise client_error(
                    "GetEventSourceMapping", "ResourceNotFoundException",
                    f"The resource you requested does not exist. (Service: Lambda, mapping {UUID})", 404,
                )
            return control.answer(config, last_processing_result=self._results.get(UUID))

    def list(self, **kwargs: Any) -> dict[str, Any]:
        fn = kwargs.get("FunctionName")
        fn_name = function_name(str(fn)) if fn else None
        source = kwargs.get("EventSourceArn")
        with self._lock:
            found = [
                self.get(UUID=u)
                for u, c in self._mappings.items()
                if (fn_name is None or function_name(c["FunctionArn"]) == fn_name)
                and (source is None or c["EventSourceArn"] == source)
            ]
        return {"EventSourceMappings": found}

    def update(self, *, UUID: str, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            config = self._mappings.get(UUID)
            if config is None:
                raise client_error(
                    "UpdateEventSourceMapping", "ResourceNotFoundException", f"mapping {UUID} does not exist", 404
                )
            try:
                if "FilterCriteria" in kwargs:
                    control.check_filters(kwargs["FilterCriteria"])
                control.check_batch_window(
                    config["EventSourceArn"], kwargs.get("BatchSize", config.get("BatchSize")),
                    kwargs.get("MaximumBatchingWindowInSeconds", config.get("MaximumBatchingWindowInSeconds")),
                )
            except control.MappingRequestError as error:
                raise client_error("UpdateEventSourceMapping", error.code, error.message, error.status) from None
            config.update({k: v for k, v in kwargs.items() if k in control.UPDATABLE})
            if "FunctionName" in kwargs:
                config["FunctionArn"] = self._function_arn(str(kwargs["FunctionName"]))
            if "Enabled" in kwargs:
                config["State"] = "Enabled" if kwargs["Enabled"] else "Disabled"
            config["LastModified"] = datetime.now(UTC)
        self._on_change(UUID, "update", self.get(UUID=UUID))
        return {**self.get(UUID=UUID), "State": control.updated_state(kwargs)}

    def delete(self, *, UUID: str) -> dict[str, Any]:
        out = {**self.get(UUID=UUID), "State": "Deleting"}
        with self._lock:
            self._mappings.pop(UUID, None)
            self._results.pop(UUID, None)
        self._on_change(UUID, "delete", None)
        return out

    def set_processing_result(self, mapping_id: str, result: str) -> None:
        with self._lock:
            if mapping_id in self._mappings:
                self._results[mapping_id] = result

    def clear(self) -> None:
        with self._lock:
            self._mappings.clear()
            self._results.clear()


class _ListPaginator:
    def __init__(self, store: LocalMappingStore) -> None:
        self._store = store

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield self._store.list(**kwargs)


LocalInvoke = Callable[[FunctionSpec, bytes, bool], tuple[bytes, str | None, str]]
"""(function, payload, asynchronous) -> (payload, FunctionError, log text); runs the code in pipemu's runtime."""


class LocalLambdaClient:
    """A boto3 Lambda client for an endpoint that runs no Lambda code: everything goes to the endpoint except
    event source mappings (kept in ``store``) and Invoke (run by pipemu); creating or updating a function also
    records its zip in ``registry``."""

    def __init__(
        self,
        real: Any,
        store: LocalMappingStore,
        registry: FunctionRegistry,
        run: LocalInvoke,
        on_create: Callable[[str], None] | None = None,
    ) -> None:
        self._real = real
        self._store = store
        self._registry = registry
        self._run = run
        self._on_create = on_create  # called with the new function's ARN (its log group is created then)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def create_function(self, **kwargs: Any) -> Any:
        response = self._real.create_function(**kwargs)
        self._registry.remember(str(kwargs["FunctionName"]), dict(kwargs.get("Code") or {}))
        if self._on_create is not None:
            self._on_create(str(response["FunctionArn"]))
        return response

    def update_function_code(self, **kwargs: Any) -> Any:
        response = self._real.update_function_code(**kwargs)
        self._registry.remember(str(kwargs["FunctionName"]), kwargs)
        return response

    def update_function_configuration(self, **kwargs: Any) -> Any:
        response = self._real.update_function_configuration(**kwargs)
        self._registry.invalidate(str(kwargs["FunctionName"]))
        return response

    def delete_function(self, **kwargs: Any) -> Any:
        response = self._real.delete_function(**kwargs)
        self._registry.forget(str(kwargs["FunctionName"]))
        return response

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        kind = kwargs.get("InvocationType", "RequestResponse")
        spec = self._registry.spec(str(kwargs["FunctionName"]))
        body = kwargs.get("Payload", b"{}")
        payload = body.encode() if isinstance(body, str) else bytes(body.read() if hasattr(body, "read") else body)
        if kind == "DryRun":
            return {"StatusCode": 204, "Payload": StreamingBody(io.BytesIO(b""), 0)}
        out, error, logs = self._run(spec, payload, kind == "Event")
        if kind == "Event":
            return {"StatusCode": 202, "Payload": StreamingBody(io.BytesIO(b""), 0)}
        response: dict[str, Any] = {
            "StatusCode": 200,
            "ExecutedVersion": spec.version,
            "Payload": StreamingBody(io.BytesIO(out), len(out)),
        }
        if error is not None:
            response["FunctionError"] = error
        if kwargs.get("LogType") == "Tail":
            import base64

            response["LogResult"] = base64.b64encode(logs.encode()[-4096:]).decode()
        return response

    def create_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        return self._store.create(**kwargs)

    def get_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        return self._store.get(**kwargs)

    def list_event_source_mappings(self, **kwargs: Any) -> dict[str, Any]:
        return self._store.list(**kwargs)

    def update_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        return self._store.update(**kwargs)

    def delete_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        return self._store.delete(**kwargs)

    def get_paginator(self, operation: str) -> Any:
        if operation == "list_event_source_mappings":
            return _ListPaginator(self._store)
        return self._real.get_paginator(operation)
