"""Every lint rule: a pipeline that triggers it and one that does not; silencing; the CLI's exit codes.

GIVEN a pipeline written into tmp_path, WHEN it is linted, THEN exactly the expected rule ids are active.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from emulator.cli import app
from emulator.lint import RULES, lint
from emulator.spec.pipeline import load_pipeline
from emulator.spec.scenario import load_scenario

# Clean: no rule fires on it.
BASE: dict[str, Any] = {
    "pipeline": "p",
    "streams": {"clicks": {"shards": 1}},
    "buckets": ["out"],
    "queues": {
        "dlq": {},
        "orders": {"visibility_timeout": 60, "redrive": {"dead_letter": "dlq", "max_receive_count": 3}},
    },
    "functions": {
        "enrich": {"code": "handlers/", "handler": "app.handler", "timeout": 10,
                   "policies": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "${bucket:out}/*"}]},
    },
    "mappings": [
        {"source": "stream/clicks", "function": "enrich", "batch_size": 100, "starting_position": "TRIM_HORIZON",
         "maximum_retry_attempts": 2, "bisect_batch_on_function_error": True, "on_failure": "queue/dlq"},
        {"source": "queue/orders", "function": "enrich", "batch_size": 10},
    ],
}
LAMBDA_RETRY = ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
                "Lambda.TooManyRequestsException"]


def _write(tmp_path: Path, data: dict[str, Any], definition: dict[str, Any] | None = None) -> Path:
    (tmp_path / "handlers").mkdir(exist_ok=True)
    (tmp_path / "handlers" / "app.py").write_text("def handler(event, context):\n    return None\n")
    if definition is not None:
        (tmp_path / "sm.asl.json").write_text(json.dumps(definition, indent=2))
        data = {**data, "state_machines": {"flow": {"definition": "sm.asl.json"}}}
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def active(tmp_path: Path, data: dict[str, Any], **kwargs: Any) -> list[str]:
    report = lint(load_pipeline(_write(tmp_path, data, kwargs.pop("definition", None))), **kwargs)
    return [f.rule for f in report.active]


def changed(path: str, value: Any) -> dict[str, Any]:
    """BASE with the dotted ``path`` set to ``value`` (None deletes the key)."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is None:
        del node[last]
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


def test_the_clean_pipeline_has_no_finding(tmp_path: Path) -> None:
    assert active(tmp_path, BASE) == []


@pytest.mark.parametrize("path, value", [
    ("mappings.0.on_failure", None),  # retries bounded but record age -1 (the default), nowhere to go
])
def test_pm001_no_destination_with_unbounded_age(tmp_path: Path, path: str, value: Any) -> None:
    assert active(tmp_path, changed(path, value)) == ["PM001"]


def test_pm001_bounded_retries_and_age_without_destination_pass(tmp_path: Path) -> None:
    data = changed("mappings.0.on_failure", None)
    data["mappings"][0]["maximum_record_age_in_seconds"] = 3600
    assert active(tmp_path, data) == []


def test_pm001_unbounded_retries_with_destination_pass(tmp_path: Path) -> None:
    assert active(tmp_path, changed("mappings.0.maximum_retry_attempts", -1)) == []


def test_pm002_whole_batch_retried(tmp_path: Path) -> None:
    assert active(tmp_path, changed("mappings.0.bisect_batch_on_function_error", None)) == ["PM002"]


def test_pm002_partial_batch_response_passes(tmp_path: Path) -> None:
    data = changed("mappings.0.bisect_batch_on_function_error", None)
    data["mappings"][0]["function_response_types"] = ["ReportBatchItemFailures"]
    assert active(tmp_path, data) == []
    data = changed("mappings.0.bisect_batch_on_function_error", None)
    data["mappings"][0]["batch_size"] = 1
    assert active(tmp_path, data) == []


def test_pm003_source_queue_without_redrive(tmp_path: Path) -> None:
    assert active(tmp_path, changed("queues.orders.redrive", None)) == ["PM003"]


def test_pm003_a_queue_no_mapping_reads_needs_no_redrive(tmp_path: Path) -> None:
    assert "PM003" not in active(tmp_path, BASE)  # dlq has no redrive and is not a source


def test_pm004_visibility_below_six_times_timeout(tmp_path: Path) -> None:
    assert active(tmp_path, changed("queues.orders.visibility_timeout", 59)) == ["PM004"]


def test_pm004_counts_the_batching_window(tmp_path: Path) -> None:
    data = changed("mappings.1.maximum_batching_window_in_seconds", 5)
    assert active(tmp_path, data) == ["PM004"]  # 60 < 6 x 10 + 5
    data["queues"]["orders"]["visibility_timeout"] = 65
    assert active(tmp_path, data) == []


def _measured(p50_ms: float, records: int, invocations: int) -> dict[str, Any]:
    return {"functions": {"enrich": {"duration_ms_p50": p50_ms}},
            "mappings": {"stream/clicks -> enrich": {"invocations": invocations, "records_succeeded": records}}}


def test_pm005_measured_batch_over_timeout(tmp_path: Path) -> None:
    # 200 ms for 2 records per invocation: 100 ms a record, 100 records = 10 s > ... 10 s timeout? exactly: not over
    assert active(tmp_path, BASE, measured=_measured(200.0, 20, 10)) == []
    # 202 ms for 2 records: a full batch of 100 takes 10.1 s, over the 10 s timeout
    assert active(tmp_path, BASE, measured=_measured(202.0, 20, 10)) == ["PM005"]


def test_pm005_is_skipped_without_a_report_or_for_another_pipeline(tmp_path: Path) -> None:
    assert active(tmp_path, BASE, measured=None) == []
    other = {"functions": {"other": {"duration_ms_p50": 9e9}},
             "mappings": {"stream/x -> other": {"invocations": 1, "records_succeeded": 1}}}
    assert active(tmp_path, BASE, measured=other) == []


def test_pm006_window_with_batch_of_one(tmp_path: Path) -> None:
    data = changed("mappings.0.batch_size", 1)
    data["mappings"][0]["maximum_batching_window_in_seconds"] = 2
    assert active(tmp_path, data) == ["PM006"]
    data["mappings"][0]["batch_size"] = 2
    assert active(tmp_path, data) == []


def _scenario(tmp_path: Path, order: bool) -> Path:
    path = tmp_path / "scenario.yaml"
    body: dict[str, Any] = {
        "scenario": "s", "pipeline": "pipeline.yaml", "source": "stream/clicks",
        "events": {"count": 1, "partition_key": "user", "fields": {"user": "uuid4"}},
        "expect": {"order": {"per": "partition_key"}} if order else {"lost": {"count": 0}},
    }
    path.write_text(yaml.safe_dump(body))
    return path


def test_pm007_lanes_where_the_scenario_expects_order(tmp_path: Path) -> None:
    data = changed("mappings.0.parallelization_factor", 4)
    _write(tmp_path, data)
    scenario, _ = load_scenario(_scenario(tmp_path, order=True))
    assert active(tmp_path, data, scenario=scenario) == ["PM007"]
    unordered, _ = load_scenario(_scenario(tmp_path, order=False))
    assert active(tmp_path, data, scenario=unordered) == []
    assert active(tmp_path, data) == []  # no scenario: the rule cannot tell


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "*", "Resource": "${bucket:out}/*"},
    {"Effect": "Allow", "Action": "s3:*", "Resource": "${bucket:out}/*"},
    {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"},
    {"Effect": "Allow", "NotAction": "iam:*", "Resource": "${bucket:out}/*"},
])
def test_pm008_wildcards(tmp_path: Path, statement: dict[str, Any]) -> None:
    assert active(tmp_path, changed("functions.enrich.policies", [statement])) == ["PM008"]


def test_pm008_a_broad_deny_is_fine(tmp_path: Path) -> None:
    policies = [*BASE["functions"]["enrich"]["policies"], {"Effect": "Deny", "Action": "*", "Resource": "*"}]
    assert active(tmp_path, changed("functions.enrich.policies", policies)) == []


def test_pm009_unencrypted_when_required(tmp_path: Path) -> None:
    data = {**BASE, "require_encryption": True}
    assert sorted(active(tmp_path, data)) == ["PM009"] * 4  # clicks, out, dlq, orders
    data["streams"] = {"clicks": {"encryption": {"kms": "alias/clicks"}}}
    data["buckets"] = {"out": {"encryption": "AES256"}}
    data["queues"] = copy.deepcopy(BASE["queues"])
    data["queues"]["dlq"]["encryption"] = "SQS"
    data["queues"]["orders"]["encryption"] = "KMS"
    assert active(tmp_path, data) == []
    assert active(tmp_path, BASE) == []  # not required: not checked


def _machine(retry: list[str] | None, *, nested: bool = False) -> dict[str, Any]:
    task: dict[str, Any] = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                            "Parameters": {"FunctionName": "${function:enrich}"}}
    if retry is not None:
        task["Retry"] = [{"ErrorEquals": retry, "MaxAttempts": 2}]
    if nested:
        return {"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Call", "States": {"Call": task}}]}}}
    return {"StartAt": "Call", "States": {"Call": task}}


@pytest.mark.parametrize("retry, nested, fires", [
    (None, False, True),
    (["Lambda.ServiceException"], False, True),
    (None, True, True),
    (LAMBDA_RETRY, False, False),
    (["States.ALL"], True, False),
    (["States.TaskFailed"], False, False),
])
def test_pm010_lambda_task_retries(tmp_path: Path, retry: list[str] | None, nested: bool, fires: bool) -> None:
    rules = active(tmp_path, BASE, definition=_machine(retry, nested=nested))
    assert rules == (["PM010"] if fires else [])


def test_pm010_points_at_the_state_in_the_definition(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE, _machine(None))
    (finding,) = lint(load_pipeline(path)).active
    assert finding.file.endswith("sm.asl.json") and finding.line == 4  # the "Call" state's line


def test_silenced_at_pipeline_level_and_on_the_resource(tmp_path: Path) -> None:
    data = changed("queues.orders.redrive", None)
    data["lint"] = {"ignore": ["PM003"]}
    assert active(tmp_path, data) == []
    data = changed("queues.orders.redrive", None)
    data["queues"]["orders"]["lint"] = {"ignore": ["PM003"]}
    assert active(tmp_path, data) == []
    data = changed("queues.orders.redrive", None)
    data["mappings"][1]["lint"] = {"ignore": ["PM003"]}
    assert active(tmp_path, data) == []
    data["mappings"][1]["lint"] = {"ignore": ["PM004"]}  # another rule: still reported
    report = lint(load_pipeline(_write(tmp_path, data)))
    assert [f.rule for f in report.active] == ["PM003"]


def test_every_rule_has_an_aws_page_and_a_hint() -> None:
    assert [r.id for r in RULES] == [f"PM{n:03d}" for n in range(1, 12)]
    for rule in RULES:
        assert rule.doc.startswith("https://docs.aws.amazon.com/") and rule.hint and rule.severity in (
            "error", "warning")


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    clean = _write(tmp_path, BASE)
    assert runner.invoke(app, ["lint", str(clean), "--report-dir", str(tmp_path)]).exit_code == 0
    warn = _write(tmp_path, changed("queues.orders.redrive", None))
    result = runner.invoke(app, ["lint", str(warn), "--report-dir", str(tmp_path)])
    assert result.exit_code == 0 and "PM003 warning" in result.output
    error = _write(tmp_path, changed("mappings.0.on_failure", None))
    result = runner.invoke(app, ["lint", str(error), "--json", "--report-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert json.loads(result.output)[0]["rule"] == "PM001"
    data = changed("mappings.0.on_failure", None)
    data["lint"] = {"ignore": ["PM999", "bogus"]}
    result = runner.invoke(app, ["lint", str(_write(tmp_path, data))])
    assert result.exit_code == 2 and "'bogus' is not a lint rule id" in result.output


def test_cli_reads_the_last_report_for_pm005(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    (tmp_path / "rep").mkdir()
    (tmp_path / "rep" / "report.json").write_text(json.dumps(_measured(5000.0, 10, 10)))
    result = CliRunner().invoke(app, ["lint", str(path), "--report-dir", str(tmp_path / "rep")])
    assert result.exit_code == 0 and "PM005 warning" in result.output


@pytest.mark.parametrize("filters, source, fires", [
    ([{"data": {"type": ["click"]}}], "stream/clicks", False),
    ([{"partitionKey": ["k1"]}], "stream/clicks", True),
    ([{"data": {"type": ["click"]}}, {"eventName": ["aws:kinesis:record"]}], "stream/clicks", True),
    ([{"$or": [{"data": {"type": ["click"]}}, {"sequenceNumber": [{"exists": True}]}]}], "stream/clicks", True),
    ([{"$or": [{"data": {"type": ["click"]}}, {"data": {"type": ["view"]}}]}], "stream/clicks", False),
    ([{"body": {"type": ["order"]}}], "queue/orders", False),  # SQS filters on body and attributes alike
])
def test_pm011_kinesis_filters_beyond_data(tmp_path: Path, filters: list[dict[str, Any]], source: str,
                                           fires: bool) -> None:
    data = copy.deepcopy(BASE)
    index = 0 if source.startswith("stream/") else 1
    data["mappings"][index]["filters"] = filters

    report = lint(load_pipeline(_write(tmp_path, data)))

    assert [f.rule for f in report.active] == (["PM011"] if fires else [])
    if fires:
        (finding,) = report.active
        assert finding.key == f"mappings[0].filters[{len(filters) - 1}]"
        assert finding.message.startswith(f"filter {len(filters)} of the mapping of stream/clicks names ")
        assert finding.message.endswith(("partitionKey", "eventName", "sequenceNumber"))
