"""A scenario drives a table directly (source: table/NAME): its events become puts, updates and deletes, the
table's stream triggers the pipeline, and the ledger accounts every event, deletes included."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from emulator.errors import ConfigError
from emulator.replay.generate import generate
from emulator.replay.table_producer import TableWritePlanner, removed_key
from emulator.spec.scenario import load_scenario

COPY = """\
import json, os, boto3
s3 = boto3.client("s3")

def handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        body = {"event_id": image["event_id"]["S"], "change": record["eventName"]}
        s3.put_object(Bucket=os.environ["OUT"], Key=record["dynamodb"]["SequenceNumber"], Body=json.dumps(body))
"""

PIPELINE = """\
pipeline: table-source
tables:
  items: {key: {item_id: S}, stream: NEW_AND_OLD_IMAGES}
buckets: [out]
functions:
  copy: {code: handlers, handler: app.handler, environment: {OUT: out}}
mappings:
  - source: table/items
    function: copy
    starting_position: TRIM_HORIZON
    batch_size: 10
    filters: [{eventName: [INSERT, MODIFY]}]
"""

SCENARIO = """\
scenario: table-source
pipeline: pipeline.yaml
seed: 7
source: table/items
operations: {put: 0.5, update: 0.3, delete: 0.2}
events:
  count: 60
  fields:
    event_id: uuid4
    item_id: uuid4
    amount: {faker: pyint, min_value: 1, max_value: 99}
expect:
  delivered: {bucket: out, correlate: event_id}
  lost: {count: 0}
"""


def _project(tmp_path: Path, scenario: str = SCENARIO) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "handlers").mkdir(exist_ok=True)
    (tmp_path / "handlers" / "app.py").write_text(COPY)
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent(PIPELINE))
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(scenario))
    return path


def test_puts_updates_and_deletes_are_replayed_and_accounted(pipemu, tmp_path: Path) -> None:
    path = _project(tmp_path)
    spec, pipeline = load_scenario(path)
    plans = [w.operation for w in map(TableWritePlanner(pipeline.tables["items"], spec.operations, 7).plan,
                                      generate(spec, seed=7))]
    deletes = plans.count("delete")
    assert plans.count("update") > 5 and deletes > 5  # the ratios were used
    result = pipemu.replay(path)
    # Deletes are REMOVE records the mapping filters out: accounted as filtered, by the keys they removed.
    assert result.events.filtered == deletes, result.summary()
    assert result.events.delivered == 60 - deletes and result.events.lost == 0, result.summary()
    assert result.passed, result.summary()
    assert result.tables["items"]["items"] == plans.count("put") - deletes


def test_the_same_seed_writes_the_same_items(tmp_path: Path) -> None:
    spec, pipeline = load_scenario(_project(tmp_path))

    def planned() -> list[tuple[str, str]]:
        planner = TableWritePlanner(pipeline.tables["items"], spec.operations, 7)
        return [(w.operation, json.dumps(w.keys)) for w in map(planner.plan, generate(spec, seed=7))]

    assert planned() == planned()
    first = planned()
    assert first[0][0] == "put"  # nothing to update or delete yet
    deleted = [keys for op, keys in first if op == "delete"]
    assert len(deleted) == len(set(deleted))  # an item is deleted once


def test_removed_key_is_the_stream_records_keys() -> None:
    from emulator.esm.streams.dynamodb_events import ledger_key, stream_record
    keys = {"item_id": {"S": "x"}, "n": {"N": "3"}}
    record = stream_record({"eventID": "e", "eventName": "REMOVE",
                            "dynamodb": {"Keys": keys, "SequenceNumber": "1", "ApproximateCreationDateTime": 1.0}})
    assert ledger_key(record, "event_id") == removed_key(keys)
    insert = stream_record({"eventID": "e", "eventName": "INSERT", "dynamodb": {
        "Keys": keys, "NewImage": {**keys, "event_id": {"S": "ev-1"}}, "SequenceNumber": "2"}})
    assert ledger_key(insert, "event_id") == "ev-1" and ledger_key(insert, "missing") == ""


@pytest.mark.parametrize(("old", "new", "key", "message"), [
    ("    item_id: uuid4\n", "", "events.fields", "key attribute item_id"),
    ("correlate: event_id", "correlate: item_id", "expect.delivered.correlate", "is a key attribute"),
    ("source: table/items", "source: table/item", "source", "unknown table 'item'"),
    ("{put: 0.5, update: 0.3, delete: 0.2}", "{put: 0, update: 0}", "operations", "at least one"),
])
def test_table_source_errors_name_the_key(tmp_path: Path, old: str, new: str, key: str, message: str) -> None:
    path = _project(tmp_path, SCENARIO.replace(old, new))
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    assert info.value.key == key and message in info.value.message, str(info.value)
    assert info.value.line is not None and info.value.exit_code == 2


def test_operations_need_a_table_source(tmp_path: Path) -> None:
    path = _project(tmp_path, SCENARIO)
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent(PIPELINE) + "streams: {s: {}}\n")
    path.write_text(SCENARIO.replace("source: table/items", "source: stream/s"))
    with pytest.raises(ConfigError, match="operations apply to a table source"):
        load_scenario(path)


PICKY = COPY.replace('    for record in event["Records"]:\n        image = record["dynamodb"]["NewImage"]\n',
                     '    for record in event["Records"]:\n        image = record["dynamodb"]["NewImage"]\n'
                     '        if int(image["amount"]["N"]) > 80:\n            raise ValueError("too expensive")\n')


def test_records_given_up_on_are_dead_lettered_to_their_events(pipemu, tmp_path: Path) -> None:
    path = _project(tmp_path, SCENARIO.replace("operations: {put: 0.5, update: 0.3, delete: 0.2}\n", "")
                    .replace("  lost: {count: 0}\n", "  lost: {count: 0}\n  dead_letters: {queue: dlq, min: 1}\n"))
    (tmp_path / "handlers" / "app.py").write_text(PICKY)
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent(PIPELINE).replace(
        "    filters: [{eventName: [INSERT, MODIFY]}]\n",
        "    batch_size: 1\n    maximum_retry_attempts: 0\n    on_failure: queue/dlq\n").replace(
        "    batch_size: 10\n", "").replace("buckets: [out]\n", "buckets: [out]\nqueues: {dlq: {}}\n"))
    spec, _ = load_scenario(path)
    expensive = {e.fields["event_id"] for e in generate(spec, seed=7) if e.fields["amount"] > 80}
    assert expensive
    result = pipemu.replay(path)
    assert result.passed, result.summary()
    assert result.events.dead_lettered == len(expensive) and result.events.delivered == 60 - len(expensive)
    letters = result.ledger.dead_letters
    assert {result.ledger.keys[i] for d in letters for i in d.event_indexes} == expensive
    assert {d.condition for d in letters} == {"RetryAttemptsExhausted"}


def test_processed_by_knows_table_events_by_what_they_wrote(pipemu, tmp_path: Path) -> None:
    # No correlate field: a put or update is known by the image it wrote, a delete by the keys it removed.
    path = _project(tmp_path, SCENARIO.replace("  delivered: {bucket: out, correlate: event_id}\n",
                                               "  delivered: {processed_by: copy}\n"))
    (tmp_path / "handlers" / "app.py").write_text("def handler(event, context):\n    return None\n")
    (tmp_path / "pipeline.yaml").write_text(textwrap.dedent(PIPELINE).replace(
        "    filters: [{eventName: [INSERT, MODIFY]}]\n", ""))
    result = pipemu.replay(path)
    assert result.passed, result.summary()
    assert result.events.delivered == 60 and result.events.filtered == 0
