"""`pipemu up` as the emulator kept open all day: live logs, `pipemu logs`/`env`/`reset`/`health` from any
subdirectory, one emulator per project, /_pipemu/health and /_pipemu/reset, moto's reset and data dump."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "fixtures" / "clickstream" / "pipeline.yaml"
CLICK = {"event_id": "e1", "user_id": 7, "url": "https://example.com/a", "source": "web", "ts": 1}


class Up:
    """A `pipemu up` subprocess; its stdout lines are collected in the background."""

    def __init__(self, cwd: Path, *args: str, pipeline: Path = PIPELINE, env: dict[str, str] | None = None) -> None:
        self.env = {"PATH": os.environ["PATH"], "NO_COLOR": "1", "PYTHONUNBUFFERED": "1",
                    "PYTHONPATH": os.environ.get("PYTHONPATH", ""), **(env or {})}
        self.proc = subprocess.Popen([sys.executable, "-m", "emulator.cli", "up", str(pipeline), *args], cwd=cwd,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.exports = self._exports()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def _next(self, deadline: float) -> str | None:
        try:
            line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            return None
        self.seen.append(line)
        return line

    def _exports(self, timeout: float = 90.0) -> dict[str, str]:
        exports: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            line = self._next(deadline)
            if line is None:
                continue
            if line.startswith("export "):
                key, _, value = line[len("export "):].strip().partition("=")
                exports[key] = value
            elif line.startswith("#") and exports:
                return exports
        stderr = self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
        raise AssertionError(f"no exports within {timeout}s; got {exports}; stderr: {stderr}")

    def wait_line(self, predicate: Any, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        for line in self.seen:
            if predicate(line):
                return line
        while time.monotonic() < deadline:
            line = self._next(deadline)
            if line is not None and predicate(line):
                return line
        raise AssertionError(f"no matching line within {timeout}s; last lines: {self.seen[-10:]}")

    @property
    def url(self) -> str:
        return self.exports["AWS_ENDPOINT_URL"]

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=self.exports["AWS_REGION"],
                            aws_access_key_id=self.exports["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=self.exports["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=self.exports["AWS_SESSION_TOKEN"])

    def pipemu(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "emulator.cli", *args], cwd=cwd, env=self.env,
                              capture_output=True, text=True, timeout=120)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait(10)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "src" / "deep").mkdir(parents=True)
    return tmp_path


@pytest.fixture
def up(project: Path) -> Iterator[Up]:
    running = Up(project, "--region", "eu-west-1")
    try:
        yield running
    finally:
        running.stop()


def _http(url: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(response.status), response.read()


def _put_click(up: Up) -> None:
    up.client("kinesis").put_record(StreamName="clicks", Data=json.dumps(CLICK).encode(), PartitionKey="u7")


def test_logs_live_and_from_a_subdirectory(up: Up, project: Path) -> None:
    assert up.exports["AWS_REGION"] == "eu-west-1"
    assert ":eu-west-1:" in up.client("kinesis").describe_stream_summary(StreamName="clicks")[
        "StreamDescriptionSummary"]["StreamARN"]
    _put_click(up)
    up.wait_line(lambda line: line.startswith("enrich | REPORT RequestId:"), timeout=60)

    deep = project / "src" / "deep"
    env = up.pipemu("env", cwd=deep)
    assert env.returncode == 0, env.stderr
    assert f"export AWS_ENDPOINT_URL={up.url}" in env.stdout

    logs = up.pipemu("logs", "enrich", "--since", "1h", cwd=deep)
    assert logs.returncode == 0, logs.stderr
    kinds = [line.split(" | ", 1)[1].split(" ", 1)[0] for line in logs.stdout.splitlines()]
    assert kinds[0] == "START" and kinds[-2:] == ["END", "REPORT"]
    assert up.pipemu("logs", "--since", "1m", cwd=project).stdout == logs.stdout  # every function: one here
    bad = up.pipemu("logs", "--since", "yesterday", cwd=deep)
    assert bad.returncode == 2 and "--since" in bad.stderr

    # The AWS CLI with nothing but the exports (no profile, no config file) reads the same log group.
    cli_env = {"PATH": os.environ["PATH"], "HOME": str(project), **up.exports}
    cli = subprocess.run(["aws", "logs", "filter-log-events", "--log-group-name", "/aws/lambda/enrich"],
                         env=cli_env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert [e["message"].split(" ", 1)[0] for e in json.loads(cli.stdout)["events"]][-1] == "REPORT"


def test_logs_follow_prints_new_lines_until_ctrl_c(up: Up, project: Path) -> None:
    follow = subprocess.Popen([sys.executable, "-m", "emulator.cli", "logs", "--follow"], cwd=project / "src",
                              env=up.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x) for x in follow.stdout], daemon=True).start()  # type: ignore[union-attr]
        _put_click(up)
        deadline = time.monotonic() + 60
        seen = []
        while not any(x.startswith("enrich | REPORT") for x in seen) and time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                continue
        assert any(x.startswith("enrich | REPORT") for x in seen), seen
        follow.send_signal(signal.SIGINT)
        assert follow.wait(timeout=15) == 0
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait(10)


def test_a_second_up_for_the_same_project_refuses_and_names_the_first(up: Up, project: Path) -> None:
    second = subprocess.run([sys.executable, "-m", "emulator.cli", "up", str(PIPELINE)], cwd=project / "src",
                            env=up.env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2
    assert up.url in second.stderr and "already running" in second.stderr
    assert json.loads((project / ".pipemu" / "endpoint.json").read_text())["env"]["AWS_ENDPOINT_URL"] == up.url


def test_reset_health_and_moto_endpoints_keep_up_serving(up: Up, project: Path) -> None:
    s3 = up.client("s3")
    s3.put_object(Bucket="enriched", Key="old", Body=b"x")
    status, body = _http(f"{up.url}/_pipemu/health")
    health = json.loads(body)
    assert status == 200 and health["status"] == "running" and health["pipeline"]["name"] == "clickstream"
    assert health["services"]["kinesis"] == ["clicks"] and health["services"]["lambda"] == ["enrich"]
    assert [(m["name"], m["state"], m["polling"]) for m in health["mappings"]] == [
        ("stream/clicks -> enrich", "Enabled", True)]

    status, _ = _http(f"{up.url}/moto-api/data.json")
    assert status == 200  # no Docker engine here: moto's dump must still answer

    status, _ = _http(f"{up.url}/moto-api/reset", "POST")  # what moto's own test suite does before every test
    assert status == 200
    assert up.client("kinesis").list_streams()["StreamNames"] == []
    assert up.client("lambda").list_event_source_mappings()["EventSourceMappings"] == []
    assert up.proc.poll() is None

    reset = up.pipemu("reset", cwd=project / "src")  # clears data and deploys the pipeline again
    assert reset.returncode == 0, reset.stderr
    assert "stream/clicks -> enrich" in reset.stdout
    assert s3.list_objects_v2(Bucket="enriched").get("KeyCount") == 0
    _put_click(up)
    wait_for("the enriched output after the reset", lambda: s3.list_objects_v2(Bucket="enriched").get("KeyCount"),
             lambda n: n == 1, timeout=60)
    printed = up.pipemu("health", cwd=project)
    assert printed.returncode == 0 and "mapping stream/clicks -> enrich: Enabled, OK" in printed.stdout
    assert up.proc.poll() is None
    assert up.stop() == 0
    assert not (project / ".pipemu" / "endpoint.json").exists()


def test_quiet_prints_no_invocation_logs_and_a_stale_record_is_replaced(project: Path) -> None:
    state = project / ".pipemu" / "endpoint.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"pid": 2**22 + 12345, "env": {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
                                 "pipeline": "old"}))
    quiet = Up(project, "--quiet")
    try:
        assert json.loads(state.read_text())["pid"] == quiet.proc.pid
        _put_click(quiet)
        wait_for("the enriched output", lambda: quiet.client("s3").list_objects_v2(Bucket="enriched")["KeyCount"],
                 lambda n: n == 1, timeout=60)
        logs = quiet.pipemu("logs", "enrich", cwd=project)
        assert "REPORT RequestId:" in logs.stdout  # written to CloudWatch Logs, only not printed
        assert quiet.stop() == 0
        assert not any(" | " in line for line in quiet.seen)
    finally:
        quiet.stop()


ROLLUP = ROOT / "fixtures" / "orders-rollup" / "pipeline.yaml"
MOCKS = {"StateMachines": {"rollup": {"TestCases": {"Priced": {"PriceOrder": "Priced"}}}},
         "MockedResponses": {"Priced": {"0": {"Return": {"StatusCode": 200,
                                                         "Payload": {"order_id": "o1", "total": 9}}}}}}


@pytest.mark.parametrize("how", ["--mock-config", "SFN_MOCK_CONFIG"])
def test_a_mock_config_given_to_up_answers_arn_hash_test_case(project: Path, how: str) -> None:
    path = project / "MockConfigFile.json"
    path.write_text(json.dumps(MOCKS))
    args, env = (("--mock-config", str(path)), {}) if how == "--mock-config" else ((), {"SFN_MOCK_CONFIG": str(path)})
    running = Up(project, "--time-scale", "1000", "--quiet", *args, pipeline=ROLLUP, env=env)
    try:
        sfn = running.client("stepfunctions")
        [machine] = sfn.list_state_machines()["stateMachines"]
        arn = sfn.start_execution(stateMachineArn=f"{machine['stateMachineArn']}#Priced",
                                  input=json.dumps({"bucket": "b", "key": "k"}))["executionArn"]
        done = wait_for("the mocked execution", lambda: sfn.describe_execution(executionArn=arn),
                        lambda d: d["status"] != "RUNNING", timeout=60)
        assert done["status"] == "SUCCEEDED", done
        assert json.loads(done["output"]) == {"status": "priced", "order_id": "o1", "total": 9}
        with pytest.raises(ClientError) as info:
            sfn.start_execution(stateMachineArn=f"{machine['stateMachineArn']}#Nope")
        assert "Nope" in str(info.value) and "emulator." not in str(info.value)
    finally:
        running.stop()
