"""`POST /moto-api/config` passes through pipemu's control middleware to moto; pipemu only notes whether the client
set the Step Functions switch itself, and a body it cannot read is moto's to answer."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from deep_json import DEEP

from emulator.backends.control_api import ControlApi


class Backend:
    endpoint_url, region = "http://127.0.0.1:1", "us-east-1"

    def __init__(self) -> None:
        self.configured: list[str] = []

    def client_configured(self, section: str) -> None:
        self.configured.append(section)


def post_config(body: bytes) -> tuple[Backend, list[bytes]]:
    backend, seen = Backend(), []

    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ["wsgi.input"].read())
        start_response("200 OK", [])
        return [b"moto"]

    api = ControlApi(moto, backend)  # type: ignore[arg-type]
    environ = {"PATH_INFO": "/moto-api/config", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body)}
    assert api(environ, lambda status, headers: None) == [b"moto"]
    return backend, seen


@pytest.mark.parametrize(
    ("body", "configured"),
    [
        (json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(), ["stepfunctions"]),
        (json.dumps({"batch": {"use_docker": False}}).encode(), []),
        (b"{not json", []),
        (DEEP.encode(), []),  # nested past Python 3.11's parser depth
    ],
    ids=["step functions switch", "another section", "not json", "too deep"],
)
def test_the_body_reaches_moto_whole_and_only_the_step_functions_switch_is_noted(
    body: bytes, configured: list[str]
) -> None:
    backend, seen = post_config(body)

    assert seen == [body]
    assert backend.configured == configured
