"""Sealing against the ways out a handler has that are not a hard-coded endpoint: the harness's own environment
file under /proc, the guard's switch, and host names that only look different."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from emulator import guard

ROOT = Path(__file__).resolve().parents[2]
HOST_KEY, HOST_SECRET = "AKIAHOSTKEY000000000", "host-secret-value-0000"

SPY = '''
import os, socket

def handler(event, context):
    seen = {}
    for pid in (os.getppid(), int(event["harness"])):
        try:
            seen[pid] = open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace")
        except OSError as e:
            seen[pid] = f"unreadable: {e}"
    try:
        from emulator import guard
        guard.allow_real_aws(True)
        switch = "turned off"
    except PermissionError as e:
        switch = f"refused: {e}"
    try:
        import emulator.guard as g
        g._state["armed"] = False
        g.is_real_aws_host = lambda host: False
    except Exception:
        pass
    reached = {}
    for host in ("s3.amazonaws.com", "s3\\u3002amazonaws\\u3002com", "\\uff33\\uff31\\uff33.us-east-1.amazonaws.com"):
        try:
            socket.getaddrinfo(host, 443)
            reached[host] = "resolved"
        except PermissionError as e:
            reached[host] = "refused"
        except OSError as e:
            reached[host] = f"lookup failed: {type(e).__name__}"
    return {"environ": seen, "switch": switch, "reached": reached}
'''

HARNESS = '''
import json, os, sys
sys.path.insert(0, {support!r})
from lambda_functions import create_function
from emulator.backends.embedded import EmbeddedBackend

class Session:
    def __init__(self, backend):
        self.backend = backend
    def client(self, name):
        return self.backend.client(name)

with EmbeddedBackend() as backend:
    create_function(Session(backend), "spy", {source!r})
    out = backend.client("lambda").invoke(FunctionName="spy", Payload=json.dumps({{"harness": os.getpid()}}))
    print(out["Payload"].read().decode())
    print(json.dumps({{"harness_still_has_key": os.environ.get("AWS_ACCESS_KEY_ID")}}))
'''


@pytest.fixture(scope="module")
def spied() -> dict[str, object]:
    """A harness process started with host AWS keys in its environment runs the spy handler once."""
    script = HARNESS.format(support=str(ROOT / "tests" / "support"), source=textwrap.dedent(SPY))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": HOST_KEY,
           "AWS_SECRET_ACCESS_KEY": HOST_SECRET}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    result: dict[str, object] = json.loads(lines[-2])
    result.update(json.loads(lines[-1]))
    return result


def test_a_handler_cannot_read_the_host_keys_from_the_harness_proc_environ(spied: dict[str, object]) -> None:
    environ = spied["environ"]
    assert isinstance(environ, dict) and len(environ) >= 1
    for pid, text in environ.items():
        assert HOST_KEY not in text and HOST_SECRET not in text, f"/proc/{pid}/environ: {text[:300]}"
    # the harness still has them itself (the AWS backend needs them)
    assert spied["harness_still_has_key"] == HOST_KEY


def test_a_handler_cannot_turn_the_guard_off(spied: dict[str, object]) -> None:
    assert str(spied["switch"]).startswith("refused")
    reached = spied["reached"]
    assert isinstance(reached, dict) and reached["s3.amazonaws.com"] == "refused"


def test_look_alike_host_names_are_refused_in_a_handler(spied: dict[str, object]) -> None:
    reached = spied["reached"]
    assert isinstance(reached, dict)
    assert reached["s3\u3002amazonaws\u3002com"] == "refused"
    assert reached["\uff33\uff31\uff33.us-east-1.amazonaws.com"] == "refused"


LOOK_ALIKES = ["s3\u3002amazonaws\u3002com", "s3\uff0eamazonaws\uff0ecom", "\uff33\uff13.amazonaws.com",
               "S3.AMAZONAWS.COM.",
               b"s3.amazonaws.com"]


@pytest.mark.parametrize("host", LOOK_ALIKES)
def test_look_alike_hosts_are_recognised(host: str | bytes) -> None:
    assert guard.is_real_aws_host(host)


def test_sealing_blanks_the_start_up_block_and_keeps_the_values(tmp_path: Path) -> None:
    script = (
        "import os\nfrom emulator import guard\n"
        "print(guard.seal_host_environ())\n"
        "print('AWS_SECRET_ACCESS_KEY' in open('/proc/self/environ', 'rb').read().decode(errors='replace'))\n"
        "print(os.environ['AWS_SECRET_ACCESS_KEY'], os.environ['OTHER'])\n"
        "import subprocess\n"
        "print(subprocess.run(['sh', '-c', 'echo $AWS_SECRET_ACCESS_KEY'], capture_output=True, text=True).stdout)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "AWS_SECRET_ACCESS_KEY": HOST_SECRET, "OTHER": "x"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    lines = done.stdout.splitlines()
    assert lines[0] == "['AWS_SECRET_ACCESS_KEY']" and lines[1] == "False", done.stdout + done.stderr
    assert lines[2] == f"{HOST_SECRET} x" and lines[3] == HOST_SECRET  # a child started without env= still gets it


def test_the_harness_can_still_turn_the_guard_off_for_the_aws_backend() -> None:
    assert not guard._state["locked"]
    guard.allow_real_aws(True)
    try:
        assert not guard._state["armed"]
    finally:
        guard.allow_real_aws(False)
