"""Pipeline errors: unknown keys, wrong types, bad references, bad files. Each names file, line, key, hint."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_samples import PIPELINE_YAML

from emulator.spec import load_pipeline


@pytest.mark.parametrize(("old", "new", "line", "key", "hint"), [
    ("pipeline: clickstream", "pipeline: clickstream\nstreamz: {}", 2, "streamz", "did you mean 'streams'?"),
    ("{shards: 2}", "{shards: 2, retention: 48}", 3, "streams.clicks.retention", "'retention_hours'"),
    ("    memory: 256", "    memory: 256\n    tmeout: 4", 14, "functions.enrich.tmeout",
     "did you mean 'timeout'?"),
    ("    batch_size: 100", "    batchsize: 100", 18, "mappings[0].batchsize", "did you mean 'batch_size'?"),
    ("clicks-dlq: {}", "clicks-dlq: {redrive: {dead_letter: x, max_recieve_count: 2}}", 6,
     "queues.clicks-dlq.redrive.max_recieve_count", "did you mean 'max_receive_count'?"),
])
def test_unknown_key_at_any_depth(pipeline_file, expect_error, old, new, line, key, hint):
    path = pipeline_file(PIPELINE_YAML.replace(old, new))
    err = expect_error(lambda: load_pipeline(path), file=path, line=line, key=key, message="unknown key",
                       hint=hint)
    assert "allowed keys" not in str(err.hint)


def test_unknown_key_without_close_match_lists_allowed_keys(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.replace("{shards: 2}", "{zzz: 1}"))
    expect_error(lambda: load_pipeline(path), line=3, key="streams.clicks.zzz",
                 hint="allowed keys: encryption, lint, mode, retention_hours, shards")


def test_unknown_key_in_bucket_notification(write, tmp_path: Path, expect_error):
    (tmp_path / "h").mkdir()
    path = write("p.yaml", """\
        pipeline: p
        functions: {f: {code: h, handler: a.b}}
        buckets:
          raw:
            notifications:
              - function: f
                sufix: .json
        """)
    expect_error(lambda: load_pipeline(path), line=7, key="buckets.raw.notifications[0].sufix",
                 hint="did you mean 'suffix'?")


def test_source_path_is_not_an_input(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML + "source_path: /etc/passwd\n")
    expect_error(lambda: load_pipeline(path), line=25, key="source_path", message="unknown key")


@pytest.mark.parametrize(("old", "new", "line", "key", "message"), [
    ("{shards: 2}", "{shards: two}", 3, "streams.clicks.shards", "got a string 'two'"),
    ("{shards: 2}", "{shards: 0}", 3, "streams.clicks.shards", "greater than or equal to 1"),
    ("clicks: {shards: 2}", "clicks: 5", 3, "streams.clicks", "expected a mapping, got an integer 5"),
    ("timeout: 5", "timeout: 901", 12, "functions.enrich.timeout", "less than or equal to 900"),
    ("memory: 256", "memory: 64", 13, "functions.enrich.memory", "greater than or equal to 128"),
    ("runtime: python3.12", "runtime: python2.7", 11, "functions.enrich.runtime", "'python3.9'"),
    ("handler: enrich.handler", "handler: enrich", 10, "functions.enrich.handler", "should match pattern"),
    ("batch_size: 100", "batch_size: [1]", 18, "mappings[0].batch_size", "valid integer, got a list"),
    ("starting_position: TRIM_HORIZON", "starting_position: OLDEST", 20, "mappings[0].starting_position",
     "'TRIM_HORIZON', 'LATEST' or 'AT_TIMESTAMP'"),
    ("maximum_retry_attempts: 2", "maximum_retry_attempts: -2", 21, "mappings[0].maximum_retry_attempts",
     "greater than or equal to -1"),
    ("bisect_batch_on_function_error: true", "bisect_batch_on_function_error: maybe", 22,
     "mappings[0].bisect_batch_on_function_error", "valid boolean"),
    ("[ReportBatchItemFailures]", "[ReportFailures]", 23, "mappings[0].function_response_types[0]",
     "'ReportBatchItemFailures'"),
    ("on_failure: queue/clicks-dlq", "on_failure: lambda/x", 24, "mappings[0].on_failure",
     "should match pattern"),
    ("source: stream/clicks", "source: topic/clicks", 16, "mappings[0].source", "should match pattern"),
    ("{OUTPUT_BUCKET: enriched}", "{OUTPUT_BUCKET: [a]}", 14, "functions.enrich.environment.OUTPUT_BUCKET",
     "must be strings"),
    ("pipeline: clickstream", "pipeline: ''", 1, "pipeline", "at least 1 character"),
])
def test_wrong_types_are_readable(pipeline_file, expect_error, old, new, line, key, message):
    path = pipeline_file(PIPELINE_YAML.replace(old, new))
    err = expect_error(lambda: load_pipeline(path), file=path, line=line, key=key, message=message)
    assert "validation error" not in str(err) and "pydantic" not in str(err)


def test_literal_close_match(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.replace("python3.12", "python3.14"))
    expect_error(lambda: load_pipeline(path), line=11, message="got a string 'python3.14'",
                 hint="did you mean 'python3.13'?")


def test_mappings_must_be_a_list(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.split("mappings:")[0] + "mappings: 3\n")
    expect_error(lambda: load_pipeline(path), line=15, key="mappings",
                 message="expected a list, got an integer 3")


def test_missing_required_key(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.replace("    function: enrich\n", ""))
    expect_error(lambda: load_pipeline(path), line=16, key="mappings[0].function",
                 message="missing required key 'function'")


def test_missing_pipeline_name(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.replace("pipeline: clickstream\n", ""))
    expect_error(lambda: load_pipeline(path), line=1, key="pipeline", message="missing required key")


def test_first_problem_by_line_and_count_of_the_rest(pipeline_file, expect_error):
    text = PIPELINE_YAML.replace("{shards: 2}", "{shards: x}").replace("timeout: 5", "timeout: y")
    text = text.replace("batch_size: 100", "batch_size: z")
    err = expect_error(lambda: load_pipeline(pipeline_file(text)), line=3, key="streams.clicks.shards")
    assert err.message.endswith("(and 2 more problems)")


@pytest.mark.parametrize(("old", "new", "line", "key", "message", "hint"), [
    ("source: stream/clicks", "source: stream/clics", 16, "mappings[0].source", "unknown stream 'clics'",
     "did you mean 'clicks'? (declared streams: clicks)"),
    ("    function: enrich", "    function: enrch", 17, "mappings[0].function", "unknown function 'enrch'",
     "did you mean 'enrich'? (declared functions: enrich)"),
    ("on_failure: queue/clicks-dlq", "on_failure: queue/dlq", 24, "mappings[0].on_failure",
     "unknown queue 'dlq'", "declared queues: clicks-dlq"),
    ("on_failure: queue/clicks-dlq", "on_failure: topic/alerts", 24, "mappings[0].on_failure",
     "unknown topic 'alerts'", "no topics are declared; add one under 'topics:'"),
    ("on_failure: queue/clicks-dlq", "on_failure: bucket/enrichd", 24, "mappings[0].on_failure",
     "unknown bucket 'enrichd'", "did you mean 'enriched'?"),
    ("clicks-dlq: {}", "clicks-dlq: {redrive: {dead_letter: clicks-dql, max_receive_count: 1}}", 6,
     "queues.clicks-dlq.redrive.dead_letter", "unknown queue 'clicks-dql'", "did you mean 'clicks-dlq'?"),
])
def test_bad_references(pipeline_file, expect_error, old, new, line, key, message, hint):
    path = pipeline_file(PIPELINE_YAML.replace(old, new))
    expect_error(lambda: load_pipeline(path), file=path, line=line, key=key, message=message, hint=hint)


def test_bad_references_in_topics_and_notifications(pipeline_file, expect_error):
    text = PIPELINE_YAML.replace("buckets: [enriched]", "buckets:\n  enriched:\n    notifications:\n"
                                 "      - {function: enrichh}")
    expect_error(lambda: load_pipeline(pipeline_file(text)), line=7,
                 key="buckets.enriched.notifications[0].function", hint="did you mean 'enrich'?")
    text = PIPELINE_YAML + "topics:\n  alerts:\n    subscriptions: [queue/clicks-dlq, queue/nope]\n"
    expect_error(lambda: load_pipeline(pipeline_file(text)), line=27, key="topics.alerts.subscriptions[1]",
                 message="unknown queue 'nope'")


def test_code_directory_must_exist(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.replace("code: handlers/", "code: src/"))
    expect_error(lambda: load_pipeline(path), line=9, key="functions.enrich.code",
                 message=f"code directory {path.parent.resolve() / 'src'} does not exist",
                 hint=f"relative to the pipeline file's directory ({path.parent.resolve()})")


def test_code_must_be_a_directory(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.replace("code: handlers/", "code: pipeline.yaml"))
    expect_error(lambda: load_pipeline(path), line=9, message="is not a directory")


def test_state_machine_definition_must_exist(pipeline_file, expect_error):
    text = PIPELINE_YAML + "state_machines:\n  etl: {definition: flows/etl.json, type: STANDARD}\n"
    expect_error(lambda: load_pipeline(pipeline_file(text)), line=26, key="state_machines.etl.definition",
                 message="does not exist")


def test_state_machine_type(pipeline_file, expect_error, write):
    write("fixtures/clickstream/etl.json", "{}")
    text = PIPELINE_YAML + "state_machines:\n  etl: {definition: etl.json, type: FAST}\n"
    expect_error(lambda: load_pipeline(pipeline_file(text)), line=26, key="state_machines.etl.type",
                 message="'STANDARD' or 'EXPRESS'")


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("environment: {OUTPUT_BUCKET: enriched}", "environment: {AWS_REGION: x}", 14, "reserved by Lambda"),
    ("environment: {OUTPUT_BUCKET: enriched}", "environment: {1BAD: x}", 14, "not a valid variable name"),
    ("buckets: [enriched]", "buckets: [Enriched_Data]", 4, "not a valid name for buckets"),
    ("buckets: [enriched]", "buckets: [enriched, enriched]", 4, "listed twice"),
    ("clicks-dlq: {}", "clicks-dlq: {fifo: true}", 6, "must end in '.fifo'"),
    ("clicks-dlq: {}", "clicks-dlq: {content_based_deduplication: true}", 6, "needs a FIFO queue"),
    ("maximum_retry_attempts: 2", "maximum_record_age_in_seconds: 30", 21, "-1 (no limit) or 60..604800"),
    ("maximum_retry_attempts: 2", "filters: [{data: {kind: click}}]", 21, "filter values must be lists"),
    ("maximum_retry_attempts: 2", "filters: [[1]]", 21, "expected a mapping, got a list"),
    # Shaped like a pattern, but Lambda refuses it at create time: refused at validate, with Event Ruler's reason
    ("maximum_retry_attempts: 2", "filters: [{data: {kind: [{prefix: 1}]}}]", 21,
     "Lambda refuses this filter pattern: prefix match pattern must be a string"),
    ("maximum_retry_attempts: 2", "filters: [{data: {n: [{numeric: ['>', 5, '<']}]}}]", 21,
     "Lambda refuses this filter pattern"),
])
def test_aws_rules(pipeline_file, expect_error, old, new, line, message):
    path = pipeline_file(PIPELINE_YAML.replace(old, new))
    expect_error(lambda: load_pipeline(path), line=line, message=message)


def test_dead_letter_queue_rules(write, tmp_path: Path, expect_error):
    base = "pipeline: p\nqueues:\n  a: {redrive: {dead_letter: %s, max_receive_count: 1}}\n  b: {}\n"
    expect_error(lambda: load_pipeline(write("self.yaml", base % "a")), line=3, message="its own")
    fifo = ("pipeline: p\nqueues:\n  a.fifo: {fifo: true, redrive: {dead_letter: b, max_receive_count: 1}}\n"
            "  b: {}\n")
    expect_error(lambda: load_pipeline(write("fifo.yaml", fifo)), line=3, message="must be FIFO",
                 hint="same type")


def test_missing_pipeline_file(tmp_path: Path, expect_error):
    missing = tmp_path / "none.yaml"
    expect_error(lambda: load_pipeline(missing), file=missing, message="pipeline file not found")


def test_malformed_pipeline_yaml(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.replace("clicks: {shards: 2}", "clicks: {shards: 2"))
    expect_error(lambda: load_pipeline(path), file=path, message="invalid YAML")


def test_str_of_error_is_complete(pipeline_file):
    path = pipeline_file(PIPELINE_YAML.replace("batch_size: 100", "batchsize: 100"))
    with pytest.raises(Exception) as info:
        load_pipeline(path)
    assert str(info.value) == (
        f"{path}:18: mappings[0].batchsize: unknown key 'batchsize'\n  hint: did you mean 'batch_size'?"
    )
