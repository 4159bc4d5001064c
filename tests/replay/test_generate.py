"""Event generation: deterministic bytes, every field form, streaming, and no use of the global random."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from faker import Faker

from emulator.errors import ConfigError
from emulator.replay.generate import GeneratedEvent, _speed_up_weighted_draws, generate
from emulator.spec import ScenarioSpec, load_scenario

PIPELINE = """\
pipeline: clickstream
streams:
  clicks: {shards: 2}
buckets: [enriched]
queues:
  clicks-dlq: {}
"""

SMOKE_FIELDS = """\
event_id: uuid4
user_id: {faker: pyint, min_value: 1, max_value: 200}
url: uri
ts: iso8601
"""


def scenario(tmp_path: Path, fields: str = SMOKE_FIELDS, *, count: int = 1000, extra: str = "",
             partition_key: str | None = "user_id", seed: int = 42) -> ScenarioSpec:
    (tmp_path / "pipeline.yaml").write_text(PIPELINE)
    key = f"  partition_key: {partition_key}\n" if partition_key else ""
    body = textwrap.indent(textwrap.dedent(fields), "    ")
    text = (
        f"scenario: gen\npipeline: pipeline.yaml\nseed: {seed}\nsource: stream/clicks\n"
        f"events:\n  count: {count}\n{key}{extra}  fields:\n{body}expect: {{}}\n"
    )
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return load_scenario(path)[0]


def payloads(spec: ScenarioSpec, **kw: int) -> list[bytes]:
    return [event.payload for event in generate(spec, **kw)]


def test_smoke_events_shape(tmp_path: Path):
    events = list(generate(scenario(tmp_path), count=50))
    assert [e.index for e in events] == list(range(50))
    for event in events:
        assert isinstance(event, GeneratedEvent)
        assert list(event.fields) == ["event_id", "user_id", "url", "ts"]
        assert json.loads(event.payload) == event.fields
        assert event.payload == json.dumps(event.fields, separators=(",", ":")).encode()
        assert event.partition_key == str(event.fields["user_id"])
        assert 1 <= event.fields["user_id"] <= 200 and event.fields["url"].startswith("http")
        assert event.fields["ts"].endswith("+00:00")  # UTC, whatever the machine's zone


def test_same_seed_same_bytes_different_seed_different_bytes(tmp_path: Path):
    spec = scenario(tmp_path)
    first = payloads(spec, count=300)
    assert payloads(spec, count=300) == first
    assert payloads(spec, count=300, seed=43) != first
    assert payloads(spec, count=300, seed=42) == first
    assert payloads(scenario(tmp_path, seed=7), count=300) == payloads(spec, count=300, seed=7)


def test_count_defaults_to_the_scenario(tmp_path: Path):
    spec = scenario(tmp_path, count=17)
    assert len(list(generate(spec))) == 17 and len(list(generate(spec, count=3))) == 3
    assert payloads(spec, count=3) == payloads(spec)[:3]
    with pytest.raises(ValueError):
        generate(spec, count=-1)


def test_global_random_is_untouched(tmp_path: Path):
    spec = scenario(tmp_path, "a: uuid4\nb: {choice: [x, y]}\nc: {list: word, length: [1, 3]}\n",
                    partition_key=None)
    random.seed(1234)
    state = random.getstate()
    list(generate(spec, count=100))
    assert random.getstate() == state


def test_bytes_do_not_depend_on_time_zone(tmp_path: Path):
    spec = scenario(tmp_path, SMOKE_FIELDS + "d: date_time\nday: date\n")
    code = (
        "import sys; from emulator.spec import load_scenario; from emulator.replay.generate import generate\n"
        "spec = load_scenario(sys.argv[1])[0]\n"
        "sys.stdout.buffer.write(b'\\n'.join(e.payload for e in generate(spec, count=50)))\n"
    )
    outputs = set()
    for zone in ("UTC", "America/New_York", "Asia/Kolkata"):
        env = {**os.environ, "TZ": zone}
        done = subprocess.run([sys.executable, "-c", code, str(spec.source_path)], env=env, check=True,
                              capture_output=True, cwd=Path(__file__).resolve().parents[2])
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert outputs.pop() == b"\n".join(payloads(spec, count=50))


def test_random_partition_keys_are_seeded_hex(tmp_path: Path):
    spec = scenario(tmp_path, "a: {const: 1}\n", partition_key=None)
    keys = [e.partition_key for e in generate(spec, count=100)]
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys) and len(set(keys)) == 100
    assert keys == [e.partition_key for e in generate(spec, count=100)]


def test_field_forms_generate(tmp_path: Path):
    spec = scenario(tmp_path, """\
        id: {faker: pyint, min_value: 0, max_value: 999, unique: true}
        kind: {const: click}
        meta: {const: {v: [1, 2]}}
        color: {choice: [red, green], weights: [1, 0]}
        size: {choice: [1, 2, 3]}
        key: {template: "{kind}-{id:04d}"}
        device: {object: {os: {choice: [ios, android]}, label: {template: "{os}!"}}}
        tags: {list: word, length: [0, 3]}
        pair: {list: {template: "{kind}"}, length: 2}
        """, partition_key="kind")
    events = list(generate(spec, count=200))
    ids = [e.fields["id"] for e in events]
    assert len(set(ids)) == 200
    for e in events:
        f = e.fields
        assert f["kind"] == "click" and f["meta"] == {"v": [1, 2]} and f["color"] == "red"
        assert f["size"] in (1, 2, 3) and f["key"] == f"click-{f['id']:04d}"
        assert f["device"]["label"] == f["device"]["os"] + "!" and list(f["device"]) == ["os", "label"]
        assert 0 <= len(f["tags"]) <= 3 and f["pair"] == ["click", "click"]
        assert e.partition_key == "click" and json.loads(e.payload) == f
    assert {e.fields["size"] for e in events} == {1, 2, 3}
    assert {len(e.fields["tags"]) for e in events} == {0, 1, 2, 3}
    events[0].fields["meta"]["v"].append(3)
    assert events[1].fields["meta"] == {"v": [1, 2]}  # each event owns its copy


def test_non_json_faker_values_become_strings(tmp_path: Path):
    spec = scenario(tmp_path, """\
        price: {faker: pydecimal, left_digits: 3, right_digits: 2}
        day: date_object
        blob: {faker: binary, length: 4}
        uid: {faker: uuid4, cast_to: null}
        tup: {faker: pytuple, nb_elements: 2, value_types: [int]}
        """, partition_key=None)
    event = next(generate(spec))
    f = event.fields
    assert all(isinstance(f[k], str) for k in ("price", "day", "blob", "uid"))
    assert isinstance(f["tup"], list) and json.loads(event.payload) == f


def test_unique_exhaustion_is_a_config_error(tmp_path: Path):
    spec = scenario(tmp_path, "n: {faker: pyint, min_value: 1, max_value: 3, unique: true}\n",
                    partition_key=None)
    with pytest.raises(ConfigError) as info:
        list(generate(spec, count=10))
    assert info.value.key == "events.fields.n" and "unique" in str(info.value)


def test_locale_and_non_ascii_payloads(tmp_path: Path):
    spec = scenario(tmp_path, "name: name\ncity: city\n", extra="  locale: ja_JP\n", partition_key="city")
    events = list(generate(spec, count=20))
    assert any(any(ord(ch) > 127 for ch in e.fields["name"]) for e in events)
    assert all(json.loads(e.payload.decode("utf-8")) == e.fields for e in events)


def test_generate_streams_lazily(tmp_path: Path):
    spec = scenario(tmp_path, count=200_000)
    stream = generate(spec)
    assert isinstance(stream, types.GeneratorType)
    head = list(itertools.islice(stream, 5))
    assert [e.index for e in head] == [0, 1, 2, 3, 4]
    assert next(stream).index == 5
    stream.close()


def test_fast_weighted_draws_match_plain_faker():
    for locale in (None, "de_DE", "ja_JP"):
        plain, fast = (Faker(locale) if locale else Faker() for _ in range(2))
        plain.seed_instance(99)
        fast.seed_instance(99)
        _speed_up_weighted_draws(fast)
        for provider in ("name", "uri", "email", "address", "company", "user_name", "city", "sentence",
                         "phone_number", "job", "first_name", "last_name", "word", "random_element"):
            for _ in range(50):
                assert getattr(fast, provider)() == getattr(plain, provider)(), (locale, provider)


def test_template_that_does_not_fit_its_value_is_a_config_error(tmp_path: Path):
    spec = scenario(tmp_path, "name: word\nkey: {template: '{name:04d}'}\n", partition_key=None)
    with pytest.raises(ConfigError) as info:
        next(generate(spec))
    assert info.value.key == "events.fields.key.template" and "ValueError" in info.value.message
