"""The worker's environment: AWS's reserved variables, fake credentials, nothing from the host's AWS setup."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from lambda_helpers import ENDPOINT

from emulator.runtime import FunctionSpec, LambdaRuntime

MakeFn = Callable[..., FunctionSpec]

HOST_KEY_ID = "AKIAHOSTLEAKLEAKLEAK"
HOST_SECRET = "host-secret-must-not-leak"


def test_handler_cannot_see_host_credentials_or_profile(
    make_fn: MakeFn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN a host with real-looking credentials, a profile and a credentials file
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", HOST_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", HOST_SECRET)
    monkeypatch.setenv("AWS_PROFILE", "host-profile")
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text(
        f"[default]\naws_access_key_id = {HOST_KEY_ID}\naws_secret_access_key = {HOST_SECRET}\n"
    )
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("SOME_HOST_SETTING", "host-only")
    fn = make_fn("env_probe.handler", "env_probe.py")

    # WHEN the handler inspects its environment and asks boto3 for credentials
    with LambdaRuntime(endpoint_url=ENDPOINT) as runtime:
        result = runtime.invoke(fn, b"{}")

    # THEN none of the host's values are visible
    assert result.function_error is None, result.payload
    probe = json.loads(result.payload)
    environ = probe["environ"]
    leaked = [k for k, v in environ.items() if HOST_KEY_ID in v or HOST_SECRET in v or v == "host-profile"]
    assert leaked == []
    assert "AWS_PROFILE" not in environ
    assert "SOME_HOST_SETTING" not in environ
    assert environ["HOME"] != str(tmp_path)
    assert probe["home_listing"] == []
    # AND boto3 resolves the fake credentials from the environment
    # fake keys; the session token names the function, so the embedded backend knows whose role it runs under
    assert probe["credentials"] == ["testing", "testing", "pipemu-function/fn"]
    assert probe["credential_method"] == "env"
    assert probe["profile"] == "default"


def test_reserved_variables_endpoint_and_declared_environment(
    make_fn: MakeFn, runtime: LambdaRuntime
) -> None:
    fn = make_fn(
        "env_probe.handler",
        "env_probe.py",
        name="loader",
        memory_mb=512,
        region="eu-west-1",
        environment={"TABLE_NAME": "orders", "LOG_LEVEL": "DEBUG"},
    )

    environ = json.loads(runtime.invoke(fn, b"{}").payload)["environ"]

    assert environ["TABLE_NAME"] == "orders"
    assert environ["LOG_LEVEL"] == "DEBUG"
    assert environ["AWS_ENDPOINT_URL"] == ENDPOINT
    assert environ["_HANDLER"] == "env_probe.handler"
    assert environ["AWS_REGION"] == environ["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert environ["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert environ["AWS_LAMBDA_FUNCTION_NAME"] == "loader"
    assert environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert environ["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert environ["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/loader"
    assert "[$LATEST]" in environ["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert environ["TZ"] == ":UTC"
    assert Path(environ["LAMBDA_RUNTIME_DIR"]).is_dir()
    assert not Path(environ["AWS_CONFIG_FILE"]).exists()
    assert not Path(environ["AWS_SHARED_CREDENTIALS_FILE"]).exists()
    assert "PYTHONPATH" not in environ


def test_code_dir_is_task_root_cwd_and_first_on_sys_path(make_fn: MakeFn, runtime: LambdaRuntime) -> None:
    probe = json.loads(runtime.invoke(make_fn("env_probe.handler", "env_probe.py"), b"{}").payload)

    task_root = probe["environ"]["LAMBDA_TASK_ROOT"]
    assert (Path(task_root) / "env_probe.py").is_file()
    assert probe["cwd"] == task_root
    assert probe["sys_path"][0] == task_root
    # the repo pipemu runs from is not importable by the handler (it is not on AWS either)
    repo_root = str(Path(__file__).resolve().parents[2])
    assert repo_root not in probe["sys_path"]
    assert os.path.dirname(sys.executable) not in probe["sys_path"][:1]


def test_boto3_in_the_handler_reaches_the_emulator_endpoint(make_fn: MakeFn) -> None:
    # GIVEN an emulator (moto) serving S3, with a bucket
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="landing")
        fn = make_fn("s3_writer.handler", "s3_writer.py")

        # WHEN a handler with a default boto3 client writes an object
        with LambdaRuntime(endpoint_url=endpoint) as runtime:
            result = runtime.invoke(fn, b'{"bucket": "landing"}')

        # THEN the object is in the emulator
        assert result.function_error is None, result.payload
        assert s3.get_object(Bucket="landing", Key="hello.txt")["Body"].read() == b"from the handler"
    finally:
        server.stop()
