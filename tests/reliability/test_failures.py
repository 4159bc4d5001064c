"""Failures outside the pipeline: the emulator dying mid-run, handlers that cannot load, parallel sessions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from emulator.errors import HandlerError

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "scenarios" / "clickstream-smoke.yaml"


KILL_MID_RUN = """
import sys, threading
from emulator.backends.embedded import EmbeddedBackend
from emulator.errors import PipemuError
from emulator.runner import run_scenario

with EmbeddedBackend() as backend:
    killed = threading.Event()

    def kill_when_sending(progress):
        if progress["sent"] > 50 and not killed.is_set():
            killed.set()
            backend._server._server.shutdown()  # the moto server stops serving, as if it crashed

    try:
        run_scenario(sys.argv[1], backend=backend, count=20000, rate=2000, progress=kill_when_sending, timeout_s=30)
    except PipemuError as error:
        print(f"{type(error).__name__}: {error}")
        sys.exit(error.exit_code)
"""


def test_the_emulator_dying_mid_run_ends_the_replay_with_exit_3_saying_what_died(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILL_MID_RUN, str(SMOKE)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 3, done.stdout + done.stderr[-2000:]
    assert "EmulatorDied" in done.stdout and "moto server" in done.stdout


def test_a_handler_that_cannot_load_fails_at_deploy_before_any_event_is_sent(pipemu: Any, tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "handlers").mkdir(parents=True)
    (project / "handlers" / "app.py").write_text("def handler(event, context):\n    return None\n")
    (project / "pipeline.yaml").write_text(
        "pipeline: p\nstreams: {s: {shards: 1}}\nbuckets: [out]\nfunctions:\n"
        "  f: {code: handlers/, handler: app.no_such_function}\n"
        "mappings:\n  - {source: stream/s, function: f, starting_position: TRIM_HORIZON}\n"
    )
    (project / "scenario.yaml").write_text(
        "scenario: s\npipeline: pipeline.yaml\nsource: stream/s\n"
        "events: {count: 5, fields: {id: uuid4}}\nexpect: {delivered: {bucket: out, correlate: id}}\n"
    )
    with pytest.raises(HandlerError) as info:
        pipemu.replay(project / "scenario.yaml")
    assert "no_such_function" in str(info.value)
    kinesis = pipemu.client("kinesis")
    iterator = kinesis.get_shard_iterator(StreamName="s", ShardId="shardId-000000000000",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert kinesis.get_records(ShardIterator=iterator)["Records"] == []  # nothing was sent


# A user's scenario suite, as two developers (or two CI jobs) run it at once from the same directory. It asserts
# the accounting only: latency budgets on a machine running four pipelines at once are not what this test is about.
PARALLEL_SUITE = """
import pytest

SMOKE = {smoke!r}


@pytest.mark.parametrize("seed", [1, 2])
def test_every_event_is_accounted_once(pipemu, seed):
    result = pipemu.replay(SMOKE, count=150, rate=2000, seed=seed)
    counts = result.events
    assert (counts.sent, counts.delivered, counts.lost, counts.duplicated) == (150, 150, 0, 0), result.summary()
"""


def test_scenario_suites_run_in_parallel_sessions_without_cross_talk(tmp_path: Path) -> None:
    # GIVEN two pytest sessions started at once in the same directory, each with two workers, each worker with its
    # own embedded backend deploying the same pipeline (same stream, bucket and function names)
    (tmp_path / "test_suite.py").write_text(PARALLEL_SUITE.format(smoke=str(SMOKE)))
    command = [sys.executable, "-m", "pytest", "-n", "2", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
               "--rootdir", str(tmp_path), "test_suite.py"]
    sessions = [subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                for _ in range(2)]
    try:
        outputs = [session.communicate(timeout=600)[0] for session in sessions]
    finally:
        for session in sessions:
            session.kill()
            session.wait()

    # THEN every session accounts each of its events exactly once: no event crosses into the other sessions
    for session, output in zip(sessions, outputs, strict=True):
        assert session.returncode == 0, output[-3000:]
        assert "2 passed" in output, output[-3000:]
        assert output.count("sent 150, delivered 150, dead-lettered 0, lost 0") == 2, output[-3000:]
