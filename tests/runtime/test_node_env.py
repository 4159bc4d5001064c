"""What a Node.js handler's process sees: its declared environment, Lambda's reserved variables, fake
credentials and the emulator's endpoint, and nothing of the host's AWS settings; and the Node.js it runs on."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest
from lambda_helpers import ENDPOINT
from node_helpers import body, node_fn

from emulator.runtime import LambdaRuntime, interpreters

HOST_SECRETS = {
    "AWS_ACCESS_KEY_ID": "AKIAHOSTHOSTHOSTHOST",
    "AWS_SECRET_ACCESS_KEY": "host-secret-key",
    "AWS_SESSION_TOKEN": "host-session-token",
    "AWS_PROFILE": "production",
    "AWS_REGION": "eu-west-3",
    "AWS_ENDPOINT_URL": "https://s3.amazonaws.com",
    "AWS_CONFIG_FILE": "/host/.aws/config",
    "NODE_OPTIONS": "--require /host/preload.js",
    "NODE_EXTRA_CA_CERTS": "/host/ca.pem",
    "PIPEMU_HOST_ONLY": "host",
}


def test_node_process_sees_only_the_declared_environment(
    runtime: LambdaRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a host whose environment carries real-looking AWS settings and Node.js options
    for key, value in HOST_SECRETS.items():
        monkeypatch.setenv(key, value)
    fn = node_fn("commonjs.env", environment={"TABLE": "orders", "LOG_LEVEL": "debug"}, region="eu-central-1")

    # WHEN the handler reports its environment
    seen = body(runtime.invoke(fn, b"{}"))
    env: dict[str, str] = seen["env"]

    # THEN no host value reached it, and the credentials and endpoint are the emulator's
    leaked = {k: v for k, v in env.items() if v in HOST_SECRETS.values()}
    assert leaked == {}
    assert "AWS_PROFILE" not in env and "NODE_OPTIONS" not in env and "PIPEMU_HOST_ONLY" not in env
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("testing", "testing")
    assert env["AWS_ENDPOINT_URL"] == ENDPOINT
    assert (env["AWS_REGION"], env["AWS_DEFAULT_REGION"]) == ("eu-central-1", "eu-central-1")
    assert (env["TABLE"], env["LOG_LEVEL"]) == ("orders", "debug")
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    assert env["_HANDLER"] == "commonjs.env"
    assert env["LAMBDA_TASK_ROOT"] == seen["cwd"] == env["NODE_PATH"]
    assert not Path(env["AWS_CONFIG_FILE"]).exists()
    assert "PYTHONPATH" not in env
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", env["_X_AMZN_TRACE_ID"])
    # every variable is one Lambda sets, one the function declares, or one a process needs to run
    declared = {"TABLE", "LOG_LEVEL"}
    host_needed = {"PATH", "LANG", "LANGUAGE", "TMPDIR"}
    unexpected = {
        k for k in env
        if k not in declared | host_needed and not k.startswith(("AWS_", "LAMBDA_", "LC_", "_HANDLER", "_X_AMZN"))
        and k not in ("TZ", "HOME", "NODE_PATH")
    }
    assert unexpected == set()


def test_nodejs_functions_run_on_the_node_their_runtime_names_or_say_what_runs_instead(
    runtime: LambdaRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    for runtime_name in interpreters.NODE_RUNTIMES:
        chosen = interpreters.resolve(runtime_name)
        with caplog.at_level(logging.WARNING, logger="emulator.runtime.runtime"):
            seen = body(runtime.invoke(node_fn("commonjs.env", name=runtime_name.replace(".", "-"),
                                                runtime=runtime_name), b"{}"))

        version = seen["env"]["AWS_EXECUTION_ENV"], chosen.version
        assert version[0] == f"AWS_Lambda_{runtime_name}"
        assert seen["argv"][0].endswith("node_worker.mjs")
        wanted = int(runtime_name.removeprefix("nodejs").removesuffix(".x"))
        if chosen.version[0] == wanted:
            assert chosen.note == ""
        else:
            assert chosen.note.startswith(f"{runtime_name} runs on Node.js {'.'.join(map(str, chosen.version))}")
            assert chosen.note in caplog.text
    # the version the handler's process reports is the one resolve() announced
    node_version = body(runtime.invoke(node_fn("commonjs.version", name="v"), b"{}"))
    assert node_version == ".".join(map(str, interpreters.resolve("nodejs20.x").version))


def test_a_function_declared_node_options_is_kept(runtime: LambdaRuntime) -> None:
    fn = node_fn("commonjs.env", environment={"NODE_OPTIONS": "--max-old-space-size=200"})

    env = body(runtime.invoke(fn, b"{}"))["env"]

    assert env["NODE_OPTIONS"] == "--max-old-space-size=200"
    assert os.environ.get("NODE_OPTIONS") != env["NODE_OPTIONS"]


def test_real_aws_hosts_are_refused_from_a_node_handler(runtime: LambdaRuntime) -> None:
    seen = body(runtime.invoke(node_fn("commonjs.realAws"), b"{}"))

    assert seen["viaHttps"].startswith("pipemu refused a connection to s3.us-east-1.amazonaws.com: real AWS")
    assert seen["viaFetch"].startswith("pipemu refused a connection to sqs.us-east-1.amazonaws.com: real AWS")
