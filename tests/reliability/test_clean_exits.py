"""Every exit path of `pipemu replay` ends clean: bounded by timeout_s, the verdict before the reports, an
unwritable report named (exit 3), user text printed as text, SIGTERM like Ctrl-C with a partial report, and
nothing a handler spawned (double-forked, setsid) outliving the run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from processes import alive, children
from waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]

HANDLERS = {
    "ok.py": """
        import base64, json, boto3
        s3 = boto3.client("s3")
        def handler(event, context):
            for r in event["Records"]:
                d = json.loads(base64.b64decode(r["kinesis"]["data"]))
                s3.put_object(Bucket="out", Key=f"o/{d['id']}.json", Body=json.dumps(d).encode())
            return {}
    """,
    "hang.py": """
        import os, pathlib, subprocess, time
        def handler(event, context):
            env = dict(os.environ, PIPEMU_TEST_TOKEN=os.environ["TOKEN"])
            subprocess.Popen(["setsid", "sh", "-c", "sleep 300 & sleep 300"], env=env, start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            pathlib.Path(os.environ["MARK"]).write_text("running")
            while True:
                time.sleep(1)
    """,
}


def project(tmp_path: Path, *, handler: str, name: str = "s", count: int = 20, rate: float = 200,
            extra: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "handlers").mkdir()
    for file, source in HANDLERS.items():
        (tmp_path / "handlers" / file).write_text(textwrap.dedent(source))
    token = f"tok-{tmp_path.name}"
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent(f"""\
        pipeline: p
        streams: {{s: {{shards: 1}}}}
        buckets: [out]
        queues: {{dlq: {{}}}}
        functions:
          f:
            code: handlers/
            handler: {handler}.handler
            timeout: 300
            environment: {{MARK: {tmp_path / 'mark'}, TOKEN: {token}}}
        mappings:
          - {{source: stream/s, function: f, batch_size: 10, starting_position: TRIM_HORIZON,
              maximum_retry_attempts: 0, on_failure: queue/dlq}}
        """))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(textwrap.dedent(f"""\
        scenario: {json.dumps(name)}
        pipeline: pipeline.yaml
        source: stream/s
        events: {{count: {count}, fields: {{id: uuid4}}}}
        rate: {{per_second: {rate}}}
        expect: {{delivered: {{bucket: out, correlate: id}}}}
        """) + extra)
    return scenario


def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "300", "PYTHONPATH": str(ROOT),
            "TMPDIR": str(tmp_path / "tmp")}


def pipemu(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "emulator.cli", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env=env(tmp_path))


def test_user_text_is_printed_as_text_not_markup_or_emoji(tmp_path: Path) -> None:
    scenario = project(tmp_path, handler="ok", name=":x: [/] [bold]b")
    done = pipemu(tmp_path, "replay", str(scenario), "--report-dir", "out")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ":x: [/] [bold]b: PASSED" in done.stdout and "\u274c" not in done.stdout


def test_an_unwritable_report_dir_is_exit_3_naming_it_after_the_verdict(tmp_path: Path) -> None:
    scenario = project(tmp_path, handler="ok")
    (tmp_path / "afile").write_text("")
    done = pipemu(tmp_path, "replay", str(scenario), "--report-dir", "afile/reports")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "s: PASSED" in done.stdout
    assert "could not write the report to afile/reports" in done.stderr and "Traceback" not in done.stderr


def test_timeout_s_bounds_the_whole_run_and_validate_warns(tmp_path: Path) -> None:
    scenario = project(tmp_path, handler="ok", count=1_000_000_000, rate=1000, extra="timeout_s: 3\n")
    checked = pipemu(tmp_path, "validate", str(scenario))
    assert checked.returncode == 0 and "more than timeout_s 3s" in checked.stderr, checked.stderr
    done = pipemu(tmp_path, "replay", str(scenario), "--report-dir", "out")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "timeout_s: expected run finishes within 3s" in done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert 0 < report["events"]["sent"] < 1_000_000_000


def test_timeout_s_bounds_additional_sources_and_slow_rates_too(tmp_path: Path) -> None:
    """A billion events from an additional source, and a main source whose next event is due after the deadline:
    both stop, and the run fails naming why (a run that ignored the deadline would outlast this test's wait)."""
    scenario = project(tmp_path, handler="ok", count=5, rate=0.02, extra=textwrap.dedent("""\
        timeout_s: 3
        additional_sources:
          - {source: stream/s, events: {count: 1000000000, fields: {id: uuid4}}, rate: {per_second: 500}}
        """))
    done = pipemu(tmp_path, "replay", str(scenario), "--report-dir", "out")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "timeout_s: expected run finishes within 3s" in done.stderr, done.stderr
    assert "then stopped: stream/s: at its rate the next event was due" in done.stderr, done.stderr
    # the additional source: its time ran out, or its next event was due just after it did
    assert re.search(r"; stream/s: (the time ran out|at its rate[^;]*); the rest were never sent", done.stderr)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert 1 < report["events"]["sent"] < 1_000_000_000


def token_holders(token: str) -> list[int]:
    """Processes whose environment carries ``token`` (what the handler's double fork started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f"PIPEMU_TEST_TOKEN={token}".encode() in (entry / "environ").read_bytes():
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def interrupt(tmp_path: Path, sig: signal.Signals) -> None:
    scenario = project(tmp_path, handler="hang", count=50, rate=50)
    proc = subprocess.Popen([sys.executable, "-m", "emulator.cli", "replay", str(scenario), "--report-dir", "out"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env(tmp_path))
    token = f"tok-{tmp_path.name}"
    try:
        wait_for("the hanging handler to start its double-forked children",
                 lambda: (tmp_path / "mark").exists() and token_holders(token), bool, timeout=120)
        started = children(proc.pid, recursive=True)  # its workers and what the handler spawned
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, out + err
        # Only the interruption is told: no traceback from a poller whose invocation the release ended.
        assert "pipemu: interrupted" in err and "Traceback" not in err and "Error" not in err, err
        report = json.loads((tmp_path / "out" / "report.json").read_text())
        assert report["interrupted"] is True and report["events"]["sent"] > 0
        assert not token_holders(token), "processes the handler spawned outlived the run"
        assert not [pid for pid in started if alive(pid)], "worker processes outlived the run"
        assert list((tmp_path / "tmp").iterdir()) == [], "temporary handler copies were left behind"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pid in token_holders(token):
            os.kill(pid, signal.SIGKILL)


def test_sigterm_with_a_hanging_double_forking_handler_ends_clean_with_a_partial_report(tmp_path: Path) -> None:
    interrupt(tmp_path, signal.SIGTERM)


def test_sigint_with_a_hanging_double_forking_handler_ends_clean_with_a_partial_report(tmp_path: Path) -> None:
    interrupt(tmp_path, signal.SIGINT)
