"""Whatever a user writes, loading says ConfigError or succeeds: never a traceback from pydantic or PyYAML."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_samples import PIPELINE_YAML, SCENARIO_YAML

from emulator.errors import ConfigError
from emulator.spec import load_pipeline, load_scenario

KEYS = [
    "pipeline", "streams", "buckets", "queues", "topics", "functions", "mappings", "state_machines", "clicks",
    "shards", "notifications", "function", "events", "redrive", "dead_letter", "max_receive_count", "fifo",
    "subscriptions", "code", "handler", "runtime", "timeout", "memory", "environment", "source", "batch_size",
    "starting_position", "on_failure", "filters", "scaling_config", "maximum_concurrency", "definition",
    "type", "source_path", "enrich", "clicks-dlq", "enriched", "x",
]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.sampled_from(["stream/clicks", "queue/clicks-dlq", "topic/t", "handlers", "enrich.handler",
                     "AT_TIMESTAMP", "TRIM_HORIZON", "python3.12", "", "{x}", "s3:ObjectCreated:*",
                     "a.fifo"]),
    st.text(max_size=8), st.datetimes(min_value=dt.datetime(1, 1, 2)), st.dates(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=12,
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load(text: str, loader: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "fixtures/clickstream/handlers").mkdir(parents=True)
        (base / "fixtures/clickstream/pipeline.yaml").write_text(PIPELINE_YAML)
        (base / "scenarios").mkdir()
        path = base / "scenarios/input.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            loader(path)
        except ConfigError as err:
            assert err.file and str(err)


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#%@`,?\n\t 1.")), max_size=60))
def test_random_text_is_only_ever_a_config_error(text: str) -> None:
    _load(text, load_pipeline)


@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6))
def test_random_structures_are_only_ever_a_config_error(data: dict[str, Any]) -> None:
    _load(yaml.safe_dump(data), load_pipeline)


@SETTINGS
@given(st.data())
def test_mutated_example_is_only_ever_a_config_error(data: st.DataObject) -> None:
    doc = yaml.safe_load(PIPELINE_YAML)
    target = doc
    for _ in range(data.draw(st.integers(0, 3))):
        if isinstance(target, dict) and target:
            target = target[data.draw(st.sampled_from(sorted(target)))]
        elif isinstance(target, list) and target:
            target = target[data.draw(st.integers(0, len(target) - 1))]
    if isinstance(target, dict):
        target[data.draw(st.sampled_from(KEYS))] = data.draw(VALUES)
    elif isinstance(target, list):
        target.append(data.draw(VALUES))
    _load(yaml.safe_dump(doc), load_pipeline)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_scenario_is_only_ever_a_config_error(data: st.DataObject) -> None:
    doc = yaml.safe_load(SCENARIO_YAML)
    section = data.draw(st.sampled_from(["events", "expect", "rate", None]))
    target = doc if section is None else doc[section]
    key = data.draw(st.sampled_from([*sorted(target), "fields", "count", "partition_key", "bucket", "zzz"]))
    target[key] = data.draw(VALUES)
    _load(yaml.safe_dump(doc), load_scenario)
