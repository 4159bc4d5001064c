"""pipemu's own endpoints beside the AWS API, on the embedded backend's port (WSGI middleware in front of moto):

- ``GET /_pipemu/ping``: this emulator answers (its pid and endpoint), cheaply;
- ``GET /_pipemu/health``: what is deployed and what runs (services and their resources, functions with their
  invocation counts, mappings by source and function with their state and last processing result, pollers);
- ``POST /_pipemu/reset``: delete every resource and redeploy what ``pipemu up`` deployed (the answer is the
  health after it);
- ``POST /moto-api/reset`` (moto's own): stops pipemu's pollers before moto forgets the mappings, so a reset
  under live mappings leaves the emulator serving and the mappings cleanly gone;
- ``POST /moto-api/config`` (moto's own) with a ``stepfunctions`` section: the client's choice of executing
  state machines stands from then on (pipemu turns execution on by default and again after each reset).
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def mapping_label(event_source_arn: str, function_arn: str) -> str:
    """``stream/clicks -> enrich``: a mapping named as the pipeline file names it."""
    service = event_source_arn.split(":")[2] if event_source_arn.count(":") >= 5 else ""
    kind = {"kinesis": "stream", "sqs": "queue", "dynamodb": "table"}.get(service, service or "source")
    source = event_source_arn.rsplit(":", 1)[-1].split("/")[-1] if service != "dynamodb" else (
        event_source_arn.split(":table/", 1)[-1].split("/")[0]
    )
    function = function_arn.split(":function:", 1)[-1].split(":")[0]
    return f"{kind}/{source} -> {function}"


class Controlled(Protocol):
    """What the control endpoints need from the backend serving them."""

    endpoint_url: str
    region: str

    def client(self, service: str) -> Any: ...

    def control_reset(self, moto_reset: Callable[[], None]) -> None: ...

    def health(self) -> dict[str, Any]: ...

    def redeploy(self) -> None: ...

    def client_configured(self, section: str) -> None: ...


class ControlApi:
    """WSGI middleware: answers pipemu's paths, passes everything else to moto's ``app``."""

    def __init__(self, app: WsgiApp, backend: Controlled) -> None:
        self._app = app
        self._backend = backend

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        try:
            if path == "/_pipemu/ping" and method in ("GET", "HEAD"):  # cheap: "is this emulator alive?"
                return _json(start_response, "200 OK", {"pid": os.getpid(), "endpoint": self._backend.endpoint_url})
            if path == "/_pipemu/health" and method in ("GET", "HEAD"):
                return _json(start_response, "200 OK", self._backend.health())
            if path == "/_pipemu/reset" and method == "POST":
                reset = dict(environ, PATH_INFO="/moto-api/reset", QUERY_STRING="", CONTENT_LENGTH="0",
                             **{"wsgi.input": io.BytesIO(b"")})

                def moto_reset() -> None:
                    self._forward(reset)

                self._backend.control_reset(moto_reset)
                self._backend.redeploy()
                return _json(start_response, "200 OK", self._backend.health())
            if path == "/moto-api/reset" and method == "POST":
                return self._moto_reset(environ, start_response)
            if path == "/moto-api/config" and method == "POST":
                self._note_config(environ)
            if path.startswith("/_pipemu/"):
                return _json(start_response, "404 Not Found", {"error": f"no such pipemu endpoint: {method} {path}",
                                                               "endpoints": ["GET /_pipemu/ping", "GET /_pipemu/health",
                                                                             "POST /_pipemu/reset"]})
        except Exception as exc:  # shown to the caller; the server keeps serving
            log.exception("pipemu control endpoint %s failed", path)
            return _json(start_response, "500 Internal Server Error", {"error": f"{type(exc).__name__}: {exc}"})
        return self._app(environ, start_response)

    def _note_config(self, environ: dict[str, Any]) -> None:
        """A client sets moto's Step Functions switch itself (moto's interpreter tests do, around each test):
        from then on its choice stands, and resets no longer turn execution back on."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            sections = json.loads(body or b"{}")
        except (ValueError, RecursionError):  # moto answers the malformed body itself
            return
        if isinstance(sections, dict) and "stepfunctions" in sections:
            self._backend.client_configured("stepfunctions")

    def _moto_reset(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer: list[tuple[str, list[tuple[str, str]], bytes]] = []
        self._backend.control_reset(lambda: answer.append(self._forward(environ)))
        status, headers, body = answer[0]
        start_response(status, headers)
        return [body]

    def _forward(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        """Run ``environ`` through moto's app; returns (status, headers, body)."""
        seen: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[..., Any]:
            seen["status"], seen["headers"] = status, list(headers)
            return lambda _data: None

        body = b"".join(self._app(environ, capture))
        if not str(seen.get("status", "500")).startswith("200"):
            raise RuntimeError(f"moto's reset answered {seen.get('status')}: {body[:200]!r}")
        return seen["status"], seen["headers"], body


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body, indent=2, default=str).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def describe_services(client: Callable[[str], Any]) -> dict[str, list[str]]:
    """The resources a pipeline is made of, by service, as the AWS API lists them."""
    out: dict[str, list[str]] = {}
    out["kinesis"] = sorted(client("kinesis").list_streams()["StreamNames"])
    out["sqs"] = sorted(u.rsplit("/", 1)[-1] for u in client("sqs").list_queues().get("QueueUrls", []))
    out["s3"] = sorted(b["Name"] for b in client("s3").list_buckets()["Buckets"])
    out["sns"] = sorted(t["TopicArn"].rsplit(":", 1)[-1] for t in client("sns").list_topics()["Topics"])
    out["lambda"] = sorted(f["FunctionName"] for f in client("lambda").list_functions()["Functions"])
    out["stepfunctions"] = sorted(
        m["name"] for m in client("stepfunctions").list_state_machines()["stateMachines"]
    )
    return out


def describe_mappings(lambda_client: Any, stats: dict[str, dict[str, int]], running: set[str]) -> list[dict[str, Any]]:
    out = []
    for page in lambda_client.get_paginator("list_event_source_mappings").paginate():
        for m in page["EventSourceMappings"]:
            out.append(
                {
                    "name": mapping_label(str(m.get("EventSourceArn", "")), str(m.get("FunctionArn", ""))),
                    "uuid": m["UUID"],
                    "state": m.get("State"),
                    "last_processing_result": m.get("LastProcessingResult"),
                    "state_transition_reason": m.get("StateTransitionReason"),
                    "polling": m["UUID"] in running,
                    "stats": stats.get(m["UUID"], {}),
                }
            )
    return sorted(out, key=lambda m: str(m["name"]))


def health(
    client: Callable[[str], Any],
    *,
    endpoint_url: str,
    region: str,
    pipeline: dict[str, Any],
    functions: dict[str, dict[str, Any]],
    mapping_stats: dict[str, dict[str, int]],
    running: set[str],
    errors: list[str],
) -> dict[str, Any]:
    """The answer of ``GET /_pipemu/health``."""
    services = describe_services(client)
    mappings = describe_mappings(client("lambda"), mapping_stats, running)
    return {
        "status": "degraded" if errors else "running",
        "pid": os.getpid(),
        "endpoint": endpoint_url,
        "region": region,
        "pipeline": pipeline or None,
        "services": services,
        "functions": [{"name": name, **functions.get(name, {})} for name in services["lambda"]],
        "mappings": mappings,
        "errors": errors,
    }
