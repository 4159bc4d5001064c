"""`iam: enforce` end to end on the bundled least-privilege fixture (fixtures/clickstream-iam).

GIVEN the fixture's policies, WHEN the scenario replays, THEN it passes and the report holds each call and the
policy the function needs; WHEN one statement is removed, THEN the handler fails with AccessDenied and the report
names the denied call; the generated policy, declared back into the pipeline, passes under enforce.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from emulator.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _project(tmp_path: Path, statements: list[dict[str, Any]] | None = None, *, iam: str = "enforce") -> Path:
    """A copy of the fixture and its scenario, its policies replaced by ``statements`` (None keeps them)."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "fixtures" / "clickstream", project / "fixtures" / "clickstream")
    shutil.copytree(ROOT / "fixtures" / "clickstream-iam", project / "fixtures" / "clickstream-iam")
    (project / "scenarios").mkdir()
    shutil.copy(ROOT / "scenarios" / "clickstream-iam.yaml", project / "scenarios")
    (project / "pyproject.toml").write_text("")
    pipeline_file = project / "fixtures" / "clickstream-iam" / "pipeline.yaml"
    pipeline = yaml.safe_load(pipeline_file.read_text())
    pipeline["iam"] = iam
    if statements is not None:
        pipeline["functions"]["enrich"]["policies"] = statements
    pipeline_file.write_text(yaml.safe_dump(pipeline, sort_keys=False))
    return project / "scenarios" / "clickstream-iam.yaml"


def _bundled_statements() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = yaml.safe_load(
        (ROOT / "fixtures" / "clickstream-iam" / "policies" / "enrich.yaml").read_text())
    return found


def test_the_bundled_policies_pass_under_enforce_and_the_report_has_the_calls(pipemu: Any) -> None:
    result = pipemu.replay(ROOT / "scenarios" / "clickstream-iam.yaml", count=100)

    assert result.passed, result.summary()
    iam = result.to_json()["iam"]
    assert iam["mode"] == "enforce" and iam["denied_total"] == 0
    enrich = iam["functions"]["enrich"]
    puts = [u for u in enrich["used"] if u["action"] == "s3:PutObject"]
    assert puts and all(u["outcome"] == "allowed" and u["resource"].startswith("arn:aws:s3:::enriched/clicks/")
                        for u in puts)
    assert enrich["missing_grants"] == [] and enrich["unused_grants"] == []
    call = iam["calls"][-1]
    assert set(call) == {"time", "function", "action", "resource", "outcome"}


def test_removing_a_statement_fails_the_handler_with_access_denied_named_in_the_report(
        pipemu: Any, tmp_path: Path) -> None:
    without_write = [s for s in _bundled_statements() if s["Sid"] != "WriteEnriched"]
    scenario = _project(tmp_path, without_write)

    result = pipemu.replay(scenario, count=30)

    assert not result.passed
    data = result.report_data()
    logs = [f["logs"] for f in data["failed_invocations"]]
    assert logs and all("An error occurred (AccessDenied) when calling the PutObject operation" in line
                        for line in logs), logs[:1]
    denied = data["iam"]["denied"][0]
    assert (denied["function"], denied["action"], denied["outcome"]) == ("enrich", "s3:PutObject", "denied")
    assert denied["message"].startswith(
        "User: arn:aws:sts::123456789012:assumed-role/pipemu-enrich/enrich is not authorized to perform: "
        "s3:PutObject on resource: arn:aws:s3:::enriched/clicks/")
    assert denied["message"].endswith("because no identity-based policy allows the s3:PutObject action")
    assert "s3:PutObject on arn:aws:s3:::enriched/clicks/" in data["iam"]["functions"]["enrich"]["missing_grants"][0]
    assert "iam: " in result.summary() and "denied" in result.summary()
    result.write(tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text()
    assert 'id="iam"' in html and "is not authorized to perform: s3:PutObject" in html


def test_report_mode_lets_the_call_through_and_records_the_denial(pipemu: Any, tmp_path: Path) -> None:
    without_write = [s for s in _bundled_statements() if s["Sid"] != "WriteEnriched"]
    result = pipemu.replay(_project(tmp_path, without_write, iam="report"), count=30)

    assert result.passed, result.summary()
    iam = result.to_json()["iam"]
    assert iam["denied_total"] > 0 and {d["outcome"] for d in iam["denied"]} == {"would_be_denied"}


@pytest.mark.parametrize("sid, message", [
    ("ReadClicks", "Cannot access stream arn:aws:kinesis:us-east-1:123456789012:stream/clicks. Please ensure the "
                   "role can perform the GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on "
                   "your stream in IAM."),
    ("DeadLetters", "The provided execution role does not have permissions to call SendMessage on SQS"),
])
def test_a_mapping_the_role_cannot_serve_fails_the_deploy(pipemu: Any, tmp_path: Path, sid: str,
                                                          message: str) -> None:
    _project(tmp_path, [s for s in _bundled_statements() if s["Sid"] != sid])
    with pytest.raises(ConfigError) as info:
        pipemu.deploy(tmp_path / "project" / "fixtures" / "clickstream-iam" / "pipeline.yaml")
    assert info.value.message == f"InvalidParameterValueException: {message}"
    assert info.value.key == "mappings[0]" and info.value.exit_code == 2


def test_the_generated_policy_declared_back_passes_under_enforce(pipemu: Any, tmp_path: Path) -> None:
    # GIVEN a run in report mode with no statements at all: every call is recorded, none refused
    first = pipemu.replay(_project(tmp_path / "a", [], iam="report"), count=50)
    generated = first.to_json()["iam"]["functions"]["enrich"]["spec_policies"]
    assert all("${" in json.dumps(s["Resource"]) for s in generated)  # written as the pipeline's references
    # WHEN the generated statements are declared and enforced (on an emptied emulator)
    pipemu.backend.reset()
    second = pipemu.replay(_project(tmp_path / "b", generated), count=50)
    # THEN nothing is denied
    assert second.passed, second.summary()
    assert second.to_json()["iam"]["denied_total"] == 0
