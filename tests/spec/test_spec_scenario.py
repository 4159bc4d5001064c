"""Scenario spec: the brief's YAML as written, its defaults, and errors at the scenario's file/line/key."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_samples import PIPELINE_YAML, SCENARIO_YAML

from emulator.spec import FakerField, PipelineSpec, ScenarioSpec, load_scenario


def test_brief_example_is_accepted_as_written(scenario_file, tmp_path: Path):
    path = scenario_file()
    spec, pipeline = load_scenario(path)
    assert isinstance(spec, ScenarioSpec) and isinstance(pipeline, PipelineSpec)
    assert spec.name == "clickstream-smoke" and spec.seed == 42 and spec.source == "stream/clicks"
    assert spec.pipeline == (tmp_path / "fixtures/clickstream/pipeline.yaml").resolve()
    assert pipeline.source_path == spec.pipeline and pipeline.name == "clickstream"
    assert spec.source_path == path.resolve()
    events = spec.events
    assert events.count == 1000 and events.partition_key == "user_id" and events.locale is None
    assert list(events.fields) == ["event_id", "user_id", "url", "ts"]
    assert events.fields["event_id"] == FakerField(faker="uuid4")
    assert events.fields["user_id"] == FakerField(faker="pyint", kwargs={"min_value": 1, "max_value": 200})
    assert spec.rate is not None and spec.rate.per_second == 500.0
    expect = spec.expect
    assert expect.delivered is not None and [e.label for e in expect.delivered.ends] == ["bucket/enriched"]
    [end] = expect.delivered.ends
    assert end.correlate == "event_id" and end.prefix is None and expect.delivered.mode == "all"
    assert expect.dead_letters is not None and expect.dead_letters.queue == "clicks-dlq"
    assert expect.dead_letters.count == 0 and expect.dead_letters.min is None
    assert expect.latency is not None and expect.latency.p99_ms == 2000 and expect.latency.p50_ms is None
    assert expect.lost is None and expect.filtered is None
    assert spec.timeout_s == 60 and spec.time_scale is None


def test_optional_sections(scenario_file):
    text = SCENARIO_YAML.replace("rate: {per_second: 500}\n", "timeout_s: 5\ntime_scale: 10\n")
    text = text.replace("  partition_key: user_id          # a field name\n", "  locale: de_DE\n")
    text += "  lost: {}\n  filtered: {count: 3}\n"
    spec, _ = load_scenario(scenario_file(text))
    assert spec.rate is None and spec.timeout_s == 5 and spec.time_scale == 10
    assert spec.events.partition_key is None and spec.events.locale == "de_DE"
    assert spec.expect.lost is not None and spec.expect.lost.count == 0
    assert spec.expect.filtered is not None and spec.expect.filtered.count == 3


def test_dead_letter_bounds(scenario_file, expect_error):
    text = SCENARIO_YAML.replace("{queue: clicks-dlq, count: 0}", "{queue: clicks-dlq, min: 1, max: 5}")
    spec, _ = load_scenario(scenario_file(text))
    assert spec.expect.dead_letters is not None and spec.expect.dead_letters.max == 5
    text = SCENARIO_YAML.replace("{queue: clicks-dlq, count: 0}", "{queue: clicks-dlq, count: 0, max: 1}")
    expect_error(lambda: load_scenario(scenario_file(text)), line=16, key="expect.dead_letters.count",
                 message="either count or min/max")
    text = SCENARIO_YAML.replace("{queue: clicks-dlq, count: 0}", "{queue: clicks-dlq, min: 5, max: 1}")
    expect_error(lambda: load_scenario(scenario_file(text)), line=16, key="expect.dead_letters.min",
                 message="more than max")


@pytest.mark.parametrize(("old", "new", "line", "key", "message", "hint"), [
    ("source: stream/clicks", "source: stream/click", 4, "source", "unknown stream 'click' in pipeline",
     "did you mean 'clicks'?"),
    ("source: stream/clicks", "source: queue/clicks-dl", 4, "source", "unknown queue 'clicks-dl'",
     "did you mean 'clicks-dlq'?"),
    ("{bucket: enriched,", "{bucket: enrich,", 15, "expect.delivered.bucket", "unknown bucket 'enrich'",
     "declared buckets: enriched"),
    ("{queue: clicks-dlq,", "{queue: dlq,", 16, "expect.dead_letters.queue", "unknown queue 'dlq'",
     "declared queues: clicks-dlq"),
    ("correlate: event_id", "correlate: eventid", 15, "expect.delivered.correlate",
     "'eventid' is not a top-level event field", "did you mean 'event_id'?"),
    ("partition_key: user_id", "partition_key: user", 7, "events.partition_key", "'user' is not a field",
     "did you mean 'user_id'?"),
    ("latency: {p99_ms: 2000}", "latency: {p99: 2000}", 17, "expect.latency.p99",
     "unknown key 'p99'", "did you mean 'p99_ms'?"),
    ("{bucket: enriched,", "{bucket: enriched, prefixx: out/,", 15, "expect.delivered.prefixx",
     "unknown key", "did you mean 'prefix'?"),
    ("seed: 42", "seeds: 42", 3, "seeds", "unknown key", "did you mean 'seed'?"),
    ("  count: 1000", "  count: 0", 6, "events.count", "greater than or equal to 1", None),
    ("per_second: 500", "per_second: fast", 13, "rate.per_second", "valid number", None),
    ("source: stream/clicks", "source: clicks", 4, "source", "should match pattern", None),
])
def test_scenario_errors(scenario_file, expect_error, old, new, line, key, message, hint):
    path = scenario_file(SCENARIO_YAML.replace(old, new))
    expect_error(lambda: load_scenario(path), file=path, line=line, key=key, message=message, hint=hint)


def test_missing_expect(scenario_file, expect_error):
    path = scenario_file(SCENARIO_YAML.split("expect:")[0])
    expect_error(lambda: load_scenario(path), line=1, key="expect", message="missing required key 'expect'")


def test_pipeline_path_is_relative_to_scenario(scenario_file, expect_error, tmp_path: Path):
    path = scenario_file(SCENARIO_YAML.replace("../fixtures", "fixtures"))
    expect_error(lambda: load_scenario(path), file=path, line=2, key="pipeline",
                 message=f"{tmp_path.resolve() / 'scenarios/fixtures/clickstream/pipeline.yaml'}",
                 hint="relative to the scenario file's directory")


def test_pipeline_error_names_the_pipeline_file(scenario_file, expect_error, tmp_path: Path):
    path = scenario_file(pipeline=PIPELINE_YAML.replace("batch_size: 100", "batchsize: 100"))
    expect_error(lambda: load_scenario(path), file=tmp_path / "fixtures/clickstream/pipeline.yaml", line=18,
                 key="mappings[0].batchsize", hint="did you mean 'batch_size'?")


def test_missing_scenario_file(tmp_path: Path, expect_error):
    expect_error(lambda: load_scenario(tmp_path / "x.yaml"), message="scenario file not found")


def test_malformed_scenario(scenario_file, expect_error):
    path = scenario_file(SCENARIO_YAML.replace("seed: 42", "seed: [42"))
    expect_error(lambda: load_scenario(path), file=path, message="invalid YAML")


def test_scenario_source_path_is_not_an_input(scenario_file, expect_error):
    expect_error(lambda: load_scenario(scenario_file(SCENARIO_YAML + "source_path: x\n")), line=18,
                 key="source_path", message="unknown key")
