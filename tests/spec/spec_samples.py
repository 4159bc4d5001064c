"""The brief's example files, verbatim (comments included): both must load exactly as written."""

PIPELINE_YAML = """\
pipeline: clickstream
streams:
  clicks: {shards: 2}
buckets: [enriched]
queues:
  clicks-dlq: {}
functions:
  enrich:
    code: handlers/            # directory relative to this file; zipped for deploy
    handler: enrich.handler    # module.function, as on AWS
    runtime: python3.12
    timeout: 5
    memory: 256
    environment: {OUTPUT_BUCKET: enriched}
mappings:
  - source: stream/clicks      # or queue/NAME
    function: enrich
    batch_size: 100
    maximum_batching_window_in_seconds: 0
    starting_position: TRIM_HORIZON
    maximum_retry_attempts: 2
    bisect_batch_on_function_error: true
    function_response_types: [ReportBatchItemFailures]
    on_failure: queue/clicks-dlq   # or topic/NAME, bucket/NAME
"""

SCENARIO_YAML = """\
scenario: clickstream-smoke
pipeline: ../fixtures/clickstream/pipeline.yaml   # relative to this file
seed: 42
source: stream/clicks
events:
  count: 1000
  partition_key: user_id          # a field name
  fields:                         # each value: a Faker provider name, or {faker: NAME, ...kwargs}
    event_id: uuid4
    user_id: {faker: pyint, min_value: 1, max_value: 200}
    url: uri
    ts: iso8601
rate: {per_second: 500}
expect:
  delivered: {bucket: enriched, correlate: event_id}   # every event not dead-lettered appears in an output
  dead_letters: {queue: clicks-dlq, count: 0}
  latency: {p99_ms: 2000}
"""
