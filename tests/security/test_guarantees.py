"""The guarantees the README states: handlers sealed off from real AWS and host credentials, loopback-only
listeners, no shell, spec paths inside the project."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from processes import LOOPBACK, listening

from emulator import guard
from emulator.errors import ConfigError
from emulator.spec.pipeline import load_pipeline

ROOT = Path(__file__).resolve().parents[2]


def test_the_harness_refuses_real_aws_hosts_while_the_embedded_backend_runs(pipemu: Any) -> None:
    with pytest.raises(guard.RealAwsRefused, match=r"s3\.amazonaws\.com"):
        socket.getaddrinfo("s3.amazonaws.com", 443)
    with pytest.raises(guard.RealAwsRefused):
        socket.create_connection(("kinesis.us-east-1.amazonaws.com", 443), timeout=1)


@pytest.mark.parametrize(
    "host,real",
    [
        ("s3.amazonaws.com", True),
        ("sqs.eu-west-1.amazonaws.com", True),
        ("lambda.cn-north-1.amazonaws.com.cn", True),
        ("bedrock.us-east-1.api.aws", True),
        ("127.0.0.1", False),
        ("localhost", False),
        ("amazonaws.com.example", False),
    ],
)
def test_real_aws_hosts_are_recognised(host: str, real: bool) -> None:
    assert guard.is_real_aws_host(host) is real


def test_handlers_cannot_reach_real_aws_and_see_only_fake_credentials(pipemu: Any, monkeypatch: Any) -> None:
    # GIVEN host credentials planted in the environment that starts the handler (a host profile is covered by
    # tests/runtime and by test_replay_ignores_the_host_profile in tests/cli)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALHOSTKEY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    from lambda_functions import create_function

    create_function(
        pipemu,
        "spy",
        (
            "import os, socket, boto3\n"
            "def handler(event, context):\n"
            "    creds = boto3.Session().get_credentials()\n"
            "    try:\n"
            "        socket.getaddrinfo('s3.amazonaws.com', 443)\n"
            "        reached = 'yes'\n"
            "    except PermissionError as e:\n"
            "        reached = str(e)\n"
            "    return {'key': creds.access_key, 'profile': os.environ.get('AWS_PROFILE'), 'reached': reached,\n"
            "            'endpoint': os.environ.get('AWS_ENDPOINT_URL'),\n"
            "            'leaked': [k for k, v in os.environ.items()\n"
            "                       if v in ('AKIAREALHOSTKEY00000', 'real-secret')]}\n"
        ),
    )
    response = pipemu.client("lambda").invoke(FunctionName="spy", Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert body["key"] != "AKIAREALHOSTKEY00000" and body["profile"] is None and body["leaked"] == []
    assert body["endpoint"] == pipemu.backend.endpoint_url
    assert "refused" in body["reached"]


def test_every_listener_of_this_process_binds_loopback(pipemu: Any) -> None:
    mine = listening(os.getpid())
    assert mine, "the embedded backend should be listening"
    assert {address for address, _ in mine} <= LOOPBACK, f"listeners not on loopback: {mine}"


def test_no_shell_anywhere_in_the_package() -> None:
    offenders = []
    for path in (ROOT / "emulator").rglob("*.py"):
        text = path.read_text()
        for pattern in ("shell=True", "os.system(", "os.popen(", "commands.getoutput"):
            if pattern in text:
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert offenders == []


def test_pipeline_paths_cannot_leave_the_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "pipelines").mkdir(parents=True)
    (project / "pyproject.toml").write_text("")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    pipeline = project / "pipelines" / "p.yaml"
    pipeline.write_text("pipeline: p\nfunctions:\n  f: {code: ../../secrets, handler: app.handler}\n")
    with pytest.raises(ConfigError) as info:
        load_pipeline(pipeline)
    assert "outside the project directory" in str(info.value)
    assert info.value.key == "functions.f.code" and info.value.line == 3
