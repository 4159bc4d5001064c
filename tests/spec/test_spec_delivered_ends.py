"""expect.delivered's forms (one end, a list, {ends, mode}), each end kind's rules, references to the pipeline, and
the refusal of a scenario with no way to judge delivery: errors at the scenario's file/line/key with a hint."""

from __future__ import annotations

import pytest
from spec_samples import PIPELINE_YAML, SCENARIO_YAML

from emulator.spec import load_scenario
from emulator.spec.scenario import check_judgeable

ONE = "  delivered: {bucket: enriched, correlate: event_id}   # every event not dead-lettered appears in an output\n"


def with_delivered(text: str) -> str:
    assert ONE in SCENARIO_YAML
    return SCENARIO_YAML.replace(ONE, text)


@pytest.mark.parametrize(("delivered", "labels", "mode"), [
    ("  delivered: {processed_by: enrich}\n", ["processed_by/enrich"], "all"),
    ("  delivered:\n    - {bucket: enriched, correlate: event_id, prefix: out/}\n    - {processed_by: enrich}\n",
     ["bucket/enriched", "processed_by/enrich"], "all"),
    ("  delivered:\n    mode: any\n    ends: [{queue: clicks-dlq, correlate: event_id}, {stream: clicks, "
     "correlate: event_id}]\n", ["queue/clicks-dlq", "stream/clicks"], "any"),
])
def test_forms_of_delivered(scenario_file, delivered: str, labels: list[str], mode: str) -> None:
    spec, _ = load_scenario(scenario_file(with_delivered(delivered)))
    assert spec.expect.delivered is not None
    assert [e.label for e in spec.expect.delivered.ends] == labels and spec.expect.delivered.mode == mode
    assert spec.expect.delivered.correlate == ("event_id" if "correlate" in delivered else None)


def test_end_properties() -> None:
    from emulator.spec.scenario import DeliveredSpec

    spec = DeliveredSpec.model_validate([{"table": "t", "key": "id"}, {"processed_by": "f"}])
    table, fn = spec.ends
    assert (table.kind, table.name, table.field, table.label) == ("table", "t", "id", "table/t")
    assert (fn.kind, fn.name, fn.field, fn.label) == ("processed_by", "f", None, "processed_by/f")
    assert spec.correlate == "id" and spec.first("processed_by") is fn and spec.first("bucket") is None


@pytest.mark.parametrize(("delivered", "line", "key", "message", "hint"), [
    ("  delivered: {processed_by: enrch}\n", 15, "expect.delivered.processed_by", "unknown function 'enrch'",
     "did you mean 'enrich'?"),
    ("  delivered: [{processed_by: enrich}, {queue: nope, correlate: event_id}]\n", 15,
     "expect.delivered[1].queue", "unknown queue 'nope'", "declared queues: clicks-dlq"),
    ("  delivered:\n    ends: [{topic: alerts, correlate: event_id}]\n", 16, "expect.delivered.ends[0].topic",
     "unknown topic 'alerts'", "no topics are declared"),
    ("  delivered: {table: orders, key: event_id}\n", 15, "expect.delivered.table", "unknown table 'orders'",
     "no tables are declared"),
    ("  delivered: {bucket: enriched}\n", 15, "expect.delivered.bucket", "a bucket end needs correlate",
     "e.g. {bucket: enriched, correlate: event_id}"),
    ("  delivered: {table: t}\n", 15, "expect.delivered.table", "a table end needs key", "e.g. {table: t, key"),
    ("  delivered: {processed_by: enrich, key: event_id}\n", 15, "expect.delivered.key", "key is for table ends",
     "other ends take correlate"),
    ("  delivered: {table: t, key: event_id, correlate: event_id}\n", 15, "expect.delivered.correlate",
     "a table end matches by key", "write key: FIELD"),
    ("  delivered: {queue: clicks-dlq, correlate: event_id, prefix: x}\n", 15, "expect.delivered.prefix",
     "prefix is for bucket ends", None),
    ("  delivered: {correlate: event_id}\n", 15, "expect.delivered", "an end names one place: nothing given",
     "{processed_by: FUNCTION}"),
    ("  delivered: {processed_by: enrich, bucket: enriched, correlate: event_id}\n", 15, "expect.delivered",
     "got bucket, processed_by", "{processed_by: FUNCTION}"),
    ("  delivered: [{bucket: enriched, correlate: event_id}, {table: t, key: user_id}]\n", 15, "expect.delivered",
     "ends match by different event fields (event_id, user_id)", "same event field"),
    ("  delivered: [{processed_by: enrich}, {processed_by: enrich}]\n", 15, "expect.delivered",
     "an end is listed twice", "processed_by/enrich, processed_by/enrich"),
    ("  delivered: []\n", 15, "expect.delivered", "at least 1 item", None),
    ("  delivered: {ends: [{processed_by: enrich}], mode: some}\n", 15, "expect.delivered.mode", "'all' or 'any'",
     None),
    ("  delivered: [{processed_by: enrich}, {table: t, key: eventid}]\n", 15, "expect.delivered[1].key",
     "key field 'eventid' is not a top-level event field", "did you mean 'event_id'?"),
])
def test_delivered_errors(scenario_file, expect_error, delivered, line, key, message, hint) -> None:
    path = scenario_file(with_delivered(delivered))
    expect_error(lambda: load_scenario(path), file=path, line=line, key=key, message=message, hint=hint)


def test_a_scenario_with_no_way_to_judge_delivery_is_refused(scenario_file, expect_error) -> None:
    path = scenario_file(with_delivered(""))
    spec, pipeline = load_scenario(path)  # loading alone (to generate events) does not refuse
    expect_error(lambda: check_judgeable(spec, pipeline), file=path, line=14, key="expect",
                 message="no way to judge delivery", hint="add 'delivered: {processed_by: enrich}' under expect")


@pytest.mark.parametrize("instead", [
    "  counts: {delivered: 0}\n",
    "  fates: {clean: [filtered, dead_lettered]}\n",
    "  lost: {count: 1000}\n",
])
def test_a_scenario_that_expects_no_delivery_needs_no_end(scenario_file, instead: str) -> None:
    spec, pipeline = load_scenario(scenario_file(with_delivered(instead)))
    check_judgeable(spec, pipeline)
    assert spec.expect.delivered is None


@pytest.mark.parametrize("instead", [
    "  counts: {delivered: 1}\n",
    "  fates: {clean: delivered}\n",
    "  lost: {count: 999}\n",
])
def test_expecting_some_delivery_still_needs_an_end(scenario_file, expect_error, instead: str) -> None:
    spec, pipeline = load_scenario(scenario_file(with_delivered(instead)))
    expect_error(lambda: check_judgeable(spec, pipeline), key="expect", message="no way to judge delivery")


def test_processed_by_needs_a_function_a_mapping_invokes(scenario_file, expect_error) -> None:
    text = with_delivered("  delivered: {processed_by: other}\n")
    path = scenario_file(text, pipeline=PIPELINE_YAML.replace(
        "mappings:", "  other: {code: handlers/, handler: enrich.handler}\nmappings:"))
    expect_error(lambda: load_scenario(path), file=path, line=15, key="expect.delivered.processed_by",
                 message="function 'other' has no event source mapping", hint="S3 notifications")
