"""A latency budget missed while the host stalled says so end to end: in the expectation, the CLI summary,
report.json (``host_stall_ms``) and report.html, with the figure the harness measured."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path
from typing import Any

from rich.console import Console

from emulator.cli_output import show_result

HANDLER = """
import base64, json, boto3
s3 = boto3.client("s3")
def handler(event, context):
    for r in event["Records"]:
        d = json.loads(base64.b64decode(r["kinesis"]["data"]))
        s3.put_object(Bucket="out", Key=f"o/{d['id']}.json", Body=json.dumps(d).encode())
    return {}
"""


def scenario(tmp_path: Path) -> Path:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "ok.py").write_text(HANDLER)
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent("""\
        pipeline: stall
        streams: {s: {shards: 1}}
        buckets: [out]
        functions: {f: {code: handlers/, handler: ok.handler}}
        mappings: [{source: stream/s, function: f, batch_size: 10, starting_position: TRIM_HORIZON}]
        """))
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent("""\
        scenario: stall
        pipeline: pipeline.yaml
        source: stream/s
        events: {count: 20, fields: {id: uuid4}}
        rate: {per_second: 200}
        expect:
          delivered: {bucket: out, correlate: id}
          latency: {p99_ms: 1}   # no pipeline meets it: the check is what the miss says
        """))
    return path


def test_a_latency_budget_missed_during_a_stall_says_so_in_the_summary_and_both_reports(
    pipemu: Any, tmp_path: Path
) -> None:
    data = [random.random() for _ in range(2_000_000)]
    stalled: list[bool] = []

    def hold_the_interpreter(_: dict[str, int]) -> None:
        if not stalled:  # one C call that keeps the GIL: the harness's threads cannot run meanwhile
            stalled.append(True)
            sorted(data)

    result = pipemu.replay(scenario(tmp_path), progress=hold_the_interpreter)
    stall = result.host_stall_ms
    missed = next(e for e in result.expectations if e.name == "latency.p99")
    assert stalled and not missed.passed and stall["max_ms"] >= 50, (stall, result.summary())
    note = f"the host stalled during the run: the harness's 10 ms sleeps overslept by up to {stall['max_ms']:g} ms"
    assert note in (missed.detail or "")

    out, err = Console(record=True, width=400), Console(record=True, width=400)
    show_result(result, tmp_path / "out" / "report.json", out, err, quiet=False, json_out=False)
    assert note in out.export_text() and note in err.export_text()  # the table, and the failures listed

    result.write(tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["host_stall_ms"]["max_ms"] == stall["max_ms"]
    assert note in next(e["detail"] for e in report["expectations"] if e["name"] == "latency.p99")
    assert note.replace("'", "&#x27;") in (tmp_path / "out" / "report.html").read_text()
