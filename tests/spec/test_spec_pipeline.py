"""Pipeline spec: the brief's YAML as written, every accepted form, errors pointing at file/line/key."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from spec_samples import PIPELINE_YAML

from emulator.spec import MappingSpec, PipelineSpec, load_pipeline


def test_brief_example_is_accepted_as_written(pipeline_file):
    path = pipeline_file()
    spec = load_pipeline(path)
    assert isinstance(spec, PipelineSpec)
    assert spec.name == "clickstream"
    assert spec.source_path == path.resolve()
    assert spec.streams["clicks"].shards == 2 and spec.streams["clicks"].retention_hours == 24
    assert list(spec.buckets) == ["enriched"] and spec.buckets["enriched"].notifications == []
    assert spec.queues["clicks-dlq"].visibility_timeout == 30 and spec.queues["clicks-dlq"].redrive is None
    fn = spec.functions["enrich"]
    assert fn.code == (path.parent / "handlers").resolve() and fn.code.is_absolute()
    assert (fn.handler, fn.runtime, fn.timeout, fn.memory) == ("enrich.handler", "python3.12", 5, 256)
    assert fn.environment == {"OUTPUT_BUCKET": "enriched"} and fn.description is None
    [m] = spec.mappings
    assert (m.source, m.function) == ("stream/clicks", "enrich")
    assert (m.source_kind, m.source_name) == ("stream", "clicks")
    assert m.enabled is True and m.batch_size == 100 and m.maximum_batching_window_in_seconds == 0
    assert m.starting_position == "TRIM_HORIZON" and m.maximum_retry_attempts == 2
    assert m.bisect_batch_on_function_error is True
    assert m.function_response_types == ["ReportBatchItemFailures"]
    assert m.on_failure == "queue/clicks-dlq"
    assert m.maximum_record_age_in_seconds is None and m.filters is None and m.scaling_config is None
    assert "source_path" not in spec.model_dump()


def test_models_are_frozen(pipeline_file):
    spec = load_pipeline(pipeline_file())
    with pytest.raises(ValueError):
        spec.name = "other"  # type: ignore[misc]


def test_minimal_pipeline_defaults(write):
    spec = load_pipeline(write("p.yaml", "pipeline: tiny\n"))
    assert spec.streams == {} and spec.buckets == {} and spec.queues == {} and spec.topics == {}
    assert spec.functions == {} and spec.mappings == [] and spec.state_machines == {}


def test_every_resource_form(write, tmp_path: Path):
    (tmp_path / "src").mkdir()
    write("flows/etl.asl.json", '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}')
    spec = load_pipeline(write("p.yaml", """\
        pipeline: full
        streams:
          clicks:
          orders: {shards: 4, retention_hours: 48}
        buckets:
          raw:
            notifications:
              - function: ingest
              - {function: ingest, events: ["s3:ObjectRemoved:*"], prefix: in/, suffix: .json}
          out: {}
        queues:
          work:
            visibility_timeout: 60
            message_retention_seconds: 3600
            redrive: {dead_letter: dlq, max_receive_count: 3}
          dlq:
          jobs.fifo: {fifo: true, content_based_deduplication: true}
        topics:
          alerts: {subscriptions: [queue/work]}
        functions:
          ingest:
            code: src
            handler: pkg.mod.handler
            runtime: python3.9
            environment: {RETRIES: 3, RATIO: 0.5, DEBUG: true, NAME: x}
            description: reads raw files
        mappings:
          - {source: queue/work, function: ingest, batch_size: 50, maximum_batching_window_in_seconds: 2,
             scaling_config: {maximum_concurrency: 5}, filters: [{body: {type: [click]}}]}
        state_machines:
          etl: {definition: flows/etl.asl.json}
          fast: {definition: flows/etl.asl.json, type: EXPRESS}
        """))
    assert spec.streams["clicks"].shards == 1 and spec.streams["orders"].retention_hours == 48
    notes = spec.buckets["raw"].notifications
    assert notes[0].events == ["s3:ObjectCreated:*"] and notes[0].prefix is None
    assert (notes[1].events, notes[1].prefix, notes[1].suffix) == (["s3:ObjectRemoved:*"], "in/", ".json")
    assert spec.buckets["out"].notifications == []
    work = spec.queues["work"]
    assert work.redrive is not None
    assert (work.redrive.dead_letter, work.redrive.max_receive_count) == ("dlq", 3)
    assert spec.queues["jobs.fifo"].fifo and spec.queues["jobs.fifo"].content_based_deduplication
    assert spec.topics["alerts"].subscriptions == ["queue/work"]
    fn = spec.functions["ingest"]
    assert fn.timeout == 3 and fn.memory == 128 and fn.runtime == "python3.9"
    assert fn.environment == {"RETRIES": "3", "RATIO": "0.5", "DEBUG": "true", "NAME": "x"}
    scaling = spec.mappings[0].scaling_config
    assert scaling is not None and scaling.maximum_concurrency == 5
    assert spec.state_machines["etl"].type == "STANDARD" and spec.state_machines["fast"].type == "EXPRESS"
    assert spec.state_machines["etl"].definition == (tmp_path / "flows/etl.asl.json").resolve()


def test_to_create_esm_kwargs_for_the_brief_example(pipeline_file):
    mapping = load_pipeline(pipeline_file()).mappings[0]
    kwargs = mapping.to_create_esm_kwargs(
        function_name="enrich", event_source_arn="arn:aws:kinesis:us-east-1:000000000000:stream/clicks",
        destination_arn="arn:aws:sqs:us-east-1:000000000000:clicks-dlq",
    )
    assert kwargs == {
        "FunctionName": "enrich",
        "EventSourceArn": "arn:aws:kinesis:us-east-1:000000000000:stream/clicks",
        "Enabled": True,
        "BatchSize": 100,
        "MaximumBatchingWindowInSeconds": 0,
        "StartingPosition": "TRIM_HORIZON",
        "MaximumRetryAttempts": 2,
        "BisectBatchOnFunctionError": True,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:clicks-dlq"}},
    }


def test_to_create_esm_kwargs_every_key():
    when = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    mapping = MappingSpec.model_validate({
        "source": "stream/s", "function": "f", "enabled": False, "batch_size": 10,
        "maximum_batching_window_in_seconds": 5, "starting_position": "AT_TIMESTAMP",
        "starting_position_timestamp": when, "maximum_retry_attempts": -1,
        "maximum_record_age_in_seconds": 60, "bisect_batch_on_function_error": False,
        "parallelization_factor": 10, "tumbling_window_in_seconds": 30,
        "function_response_types": ["ReportBatchItemFailures"], "on_failure": "topic/t",
        "filters": [{"data": {"kind": ["a", {"prefix": "b"}]}}, {"data": {"n": [{"numeric": [">", 1]}]}}],
    })
    kwargs = mapping.to_create_esm_kwargs(
        function_name="f", event_source_arn="arn:s", destination_arn="arn:t"
    )
    assert kwargs == {
        "FunctionName": "f", "EventSourceArn": "arn:s", "Enabled": False, "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 5, "StartingPosition": "AT_TIMESTAMP",
        "StartingPositionTimestamp": when,
        "MaximumRetryAttempts": -1, "MaximumRecordAgeInSeconds": 60, "BisectBatchOnFunctionError": False,
        "ParallelizationFactor": 10, "TumblingWindowInSeconds": 30,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "DestinationConfig": {"OnFailure": {"Destination": "arn:t"}},
        "FilterCriteria": {"Filters": [
            {"Pattern": json.dumps({"data": {"kind": ["a", {"prefix": "b"}]}})},
            {"Pattern": json.dumps({"data": {"n": [{"numeric": [">", 1]}]}})},
        ]},
    }


def test_to_create_esm_kwargs_minimal_sqs():
    mapping = MappingSpec.model_validate(
        {"source": "queue/q", "function": "f", "scaling_config": {"maximum_concurrency": 2}}
    )
    kwargs = mapping.to_create_esm_kwargs(function_name="f", event_source_arn="arn:q", destination_arn=None)
    assert kwargs == {"FunctionName": "f", "EventSourceArn": "arn:q", "Enabled": True,
                      "ScalingConfig": {"MaximumConcurrency": 2}}


def test_to_create_esm_kwargs_needs_destination_for_on_failure():
    mapping = MappingSpec.model_validate(
        {"source": "stream/s", "function": "f", "starting_position": "LATEST", "on_failure": "queue/q"}
    )
    with pytest.raises(ValueError, match="destination_arn"):
        mapping.to_create_esm_kwargs(function_name="f", event_source_arn="arn:s", destination_arn=None)


def test_at_timestamp_is_accepted_with_a_timestamp(pipeline_file):
    text = PIPELINE_YAML.replace(
        "starting_position: TRIM_HORIZON",
        "starting_position: AT_TIMESTAMP\n    starting_position_timestamp: 2024-03-01T12:00:00Z",
    )
    mapping = load_pipeline(pipeline_file(text)).mappings[0]
    assert mapping.starting_position_timestamp == dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)


def test_at_timestamp_without_timestamp(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.replace("TRIM_HORIZON", "AT_TIMESTAMP"))
    expect_error(lambda: load_pipeline(path), file=path, line=20, key="mappings[0].starting_position",
                 message="AT_TIMESTAMP needs starting_position_timestamp",
                 hint="starting_position_timestamp:")


def test_timestamp_without_at_timestamp(pipeline_file, expect_error):
    text = PIPELINE_YAML.replace(
        "starting_position: TRIM_HORIZON",
        "starting_position: TRIM_HORIZON\n    starting_position_timestamp: 2024-03-01T12:00:00Z",
    )
    expect_error(lambda: load_pipeline(pipeline_file(text)), line=21,
                 key="mappings[0].starting_position_timestamp", message="only used with AT_TIMESTAMP")


def test_stream_mapping_needs_starting_position(pipeline_file, expect_error):
    path = pipeline_file(PIPELINE_YAML.replace("    starting_position: TRIM_HORIZON\n", ""))
    expect_error(lambda: load_pipeline(path), line=16, key="mappings[0].starting_position",
                 message="needs starting_position", hint="AWS requires it")


SQS_PIPELINE = """\
pipeline: orders
queues:
  orders: {visibility_timeout: 30}
  dlq: {}
functions:
  work: {code: handlers, handler: app.handler}
mappings:
  - source: queue/orders
    function: work
"""


@pytest.mark.parametrize(("extra", "hint"), [
    ("starting_position: LATEST", "applies to streams"),
    ("starting_position_timestamp: 2024-01-01T00:00:00Z", "applies to streams"),
    ("maximum_retry_attempts: 2", "redrive"),
    ("maximum_record_age_in_seconds: 60", "redrive"),
    ("bisect_batch_on_function_error: false", "redrive"),
    ("on_failure: queue/dlq", "redrive"),
    ("parallelization_factor: 2", "maximum_concurrency"),
    ("tumbling_window_in_seconds: 10", "streams only"),
])
def test_stream_only_keys_on_sqs_mapping(pipeline_file, expect_error, extra, hint):
    path = pipeline_file(SQS_PIPELINE + f"    {extra}\n")
    key = extra.split(":")[0]
    expect_error(lambda: load_pipeline(path), line=10, key=f"mappings[0].{key}",
                 message="does not apply to an SQS mapping", hint=hint)


def test_sqs_retry_hint_names_redrive(pipeline_file, expect_error):
    path = pipeline_file(SQS_PIPELINE + "    maximum_retry_attempts: 2\n")
    err = expect_error(lambda: load_pipeline(path))
    assert err.hint == "SQS mappings retry through the queue's redrive policy; set redrive on the queue"


def test_sqs_mapping_accepted(pipeline_file):
    text = SQS_PIPELINE + "    batch_size: 100\n    maximum_batching_window_in_seconds: 1\n"
    mapping = load_pipeline(pipeline_file(text)).mappings[0]
    assert mapping.source_kind == "queue" and mapping.starting_position is None and mapping.batch_size == 100


def test_sqs_big_batch_needs_a_window(pipeline_file, expect_error):
    path = pipeline_file(SQS_PIPELINE + "    batch_size: 100\n")
    expect_error(lambda: load_pipeline(path), line=10, key="mappings[0].batch_size",
                 message="needs maximum_batching_window_in_seconds", hint="10")


def test_fifo_queue_batch_over_ten(pipeline_file, expect_error):
    text = SQS_PIPELINE.replace("orders: {visibility_timeout: 30}", "orders.fifo: {fifo: true}")
    text = text.replace("queue/orders", "queue/orders.fifo")
    text += "    batch_size: 20\n    maximum_batching_window_in_seconds: 1\n"
    expect_error(lambda: load_pipeline(pipeline_file(text)), line=10, key="mappings[0].batch_size",
                 message="FIFO")


def test_visibility_timeout_below_function_timeout(pipeline_file, expect_error):
    text = SQS_PIPELINE.replace("handler: app.handler}", "handler: app.handler, timeout: 60}")
    expect_error(lambda: load_pipeline(pipeline_file(text)), line=8, key="mappings[0].source",
                 message="visibility_timeout 30s is less than function 'work' timeout 60s", hint="6x")


def test_scaling_config_on_stream_mapping(pipeline_file, expect_error):
    text = PIPELINE_YAML + "    scaling_config: {maximum_concurrency: 5}\n"
    expect_error(lambda: load_pipeline(pipeline_file(text)), line=25, key="mappings[0].scaling_config",
                 message="SQS mappings only", hint="parallelization_factor")
