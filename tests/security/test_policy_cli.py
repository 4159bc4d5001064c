"""`pipemu policy FUNCTION`: the policy JSON on stdout, the difference from the declared one on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from emulator.cli import app
from emulator.security.audit import CallRecord
from emulator.security.least_privilege import summarize

BUCKET = "arn:aws:s3:::out"


def _report(tmp_path: Path) -> Path:
    calls = [CallRecord(1.0, "enrich", "s3:PutObject", f"{BUCKET}/clicks/a", "denied", "User: ... not authorized"),
             CallRecord(2.0, "enrich", "s3:PutObject", f"{BUCKET}/clicks/b", "denied")]
    declared = {"enrich": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"}]}
    iam = summarize(calls, mode="enforce", declared=declared, references={BUCKET: "${bucket:out}"})
    (tmp_path / "report.json").write_text(json.dumps({"scenario": "s", "iam": iam}))
    return tmp_path


def test_policy_prints_what_the_run_needs_and_the_difference(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["policy", "enrich", "--report-dir", str(_report(tmp_path))])
    assert result.exit_code == 0, result.output
    policy = json.loads(result.stdout)
    assert policy == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET}/clicks/*"}]}
    assert f"#   s3:PutObject on {BUCKET}/clicks/*" in result.stderr  # missing (object keys generalised)
    assert f"#   s3:GetObject on {BUCKET}/*" in result.stderr  # unused


def test_policy_in_spec_form_uses_references(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["policy", "enrich", "--spec", "--report-dir", str(_report(tmp_path))])
    assert json.loads(result.stdout) == [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "${bucket:out}/clicks/*"}]


def test_policy_without_a_run_or_for_an_unknown_function_is_bad_input(tmp_path: Path) -> None:
    empty = CliRunner().invoke(app, ["policy", "enrich", "--report-dir", str(tmp_path)])
    assert empty.exit_code == 2 and "pipemu replay" in empty.output
    unknown = CliRunner().invoke(app, ["policy", "enrih", "--report-dir", str(_report(tmp_path))])
    assert unknown.exit_code == 2 and "did you mean 'enrich'" in unknown.output
