"""The pytest plugin: inside a test using `pipemu`, plain boto3 clients and the AWS CLI reach the emulator, the
environment comes back afterwards; the scenario summary also appears under pytest-xdist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROJECT_TEST = '''
import os, boto3

def test_plain_boto3_reaches_the_emulator(pipemu):
    boto3.client("s3").create_bucket(Bucket="plain")
    assert [b["Name"] for b in pipemu.client("s3").list_buckets()["Buckets"]] == ["plain"]
    assert os.environ["AWS_ENDPOINT_URL"] == pipemu.backend.endpoint_url
    assert "AWS_PROFILE" not in os.environ

def test_the_environment_is_restored_after_the_test():
    assert os.environ.get("AWS_ENDPOINT_URL") is None
    assert os.environ["AWS_ACCESS_KEY_ID"] == "HOSTKEY"
    assert "AWS_SESSION_TOKEN" not in os.environ
'''

SCENARIO_TEST = '''
def test_smoke_a(pipemu):
    assert pipemu.replay("{root}/scenarios/clickstream-smoke.yaml", count=20).passed

def test_smoke_b(pipemu):
    assert pipemu.replay("{root}/scenarios/clickstream-smoke.yaml", count=20, seed=3).passed
'''


def _pytest(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "test_project.py"
    path.write_text(source)
    env = {**os.environ, "AWS_PROFILE": "host-profile", "AWS_ACCESS_KEY_ID": "HOSTKEY", "PYTHONPATH": str(ROOT)}
    for key in ("AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        env.pop(key, None)
    return subprocess.run([sys.executable, "-m", "pytest", str(path), "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly", *args], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env=env)


def test_plain_clients_reach_the_emulator_and_the_environment_is_restored(tmp_path: Path) -> None:
    done = _pytest(tmp_path, PROJECT_TEST)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_scenario_summary_is_shown_under_xdist(tmp_path: Path) -> None:
    done = _pytest(tmp_path, SCENARIO_TEST.format(root=ROOT), "-n", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.split("pipemu scenarios", 1)[1]
    assert "PASS clickstream-smoke (test_project.py::test_smoke_a)" in summary
    assert "PASS clickstream-smoke (test_project.py::test_smoke_b)" in summary
