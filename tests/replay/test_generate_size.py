"""``events.size_bytes``: payloads padded to an exact or seeded size, other fields untouched; and the bundled
scenario that uses it with custom providers."""

from __future__ import annotations

import json
import logging
import random
import re
import textwrap
import types
from pathlib import Path

import pytest

from emulator.errors import ConfigError
from emulator.replay.faults import apply_event_faults
from emulator.replay.generate import GeneratedEvent, generate
from emulator.spec import ScenarioSpec, load_scenario
from emulator.spec.traffic import FaultsSpec

ROOT = Path(__file__).resolve().parents[2]
FIELDS = """\
event_id: uuid4
user_id: {faker: pyint, min_value: 1, max_value: 200}
url: uri
tags: {list: word, length: [0, 5]}
name: name
"""


def scenario(tmp_path: Path, size: str | None, fields: str = FIELDS, *, seed: int = 42,
             partition_key: str | None = "user_id") -> ScenarioSpec:
    (tmp_path / "pipeline.yaml").write_text("pipeline: p\nstreams:\n  clicks: {shards: 1}\n")
    extra = f"  size_bytes: {size}\n" if size is not None else ""
    key = f"  partition_key: {partition_key}\n" if partition_key else ""
    body = textwrap.indent(textwrap.dedent(fields), "    ")
    path = tmp_path / "scenario.yaml"
    path.write_text(f"scenario: s\npipeline: pipeline.yaml\nseed: {seed}\nsource: stream/clicks\nevents:\n"
                    f"  count: 500\n{key}{extra}  fields:\n{body}expect: {{}}\n")
    return load_scenario(path)[0]


def without_pad(event: GeneratedEvent) -> dict[str, object]:
    return {k: v for k, v in event.fields.items() if k != "_pad"}


def test_exact_size(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    plain = list(generate(scenario(tmp_path, None)))
    padded = list(generate(scenario(tmp_path, "1024")))
    assert max(len(e.payload) for e in plain) < 1024
    for before, after in zip(plain, padded, strict=True):
        assert len(after.payload) == 1024
        decoded = json.loads(after.payload)
        assert decoded == after.fields and next(iter(decoded)) == "_pad"
        assert re.fullmatch(r"[A-Za-z0-9+/]*", decoded["_pad"])
        # The declared fields keep their values and order; keys and indexes do not move.
        assert without_pad(after) == before.fields and list(without_pad(after)) == list(before.fields)
        assert (after.index, after.partition_key) == (before.index, before.partition_key)
    assert not caplog.records


def test_range_is_seeded(tmp_path: Path):
    spec = scenario(tmp_path, "[300, 2000]")
    sizes = [len(e.payload) for e in generate(spec)]
    assert all(300 <= n <= 2000 for n in sizes) and len(set(sizes)) > 100
    assert [e.payload for e in generate(spec)] == [e.payload for e in generate(spec)]
    other = [len(e.payload) for e in generate(spec, seed=7)]
    assert other != sizes and all(300 <= n <= 2000 for n in other)
    # Padding draws from its own random source: fields are those of the same scenario without size_bytes.
    plain = [e.fields for e in generate(scenario(tmp_path, None))]
    assert [without_pad(e) for e in generate(spec)] == plain


def test_random_partition_keys_do_not_move(tmp_path: Path):
    plain = [e.partition_key for e in generate(scenario(tmp_path, None, partition_key=None))]
    assert [e.partition_key for e in generate(scenario(tmp_path, "[100, 900]", partition_key=None))] == plain


@pytest.mark.parametrize(("size", "payload"), [
    (11, b'{"a":"xyz"}'),  # already the size: as it is
    (12, b'{ "a":"xyz"}'),  # too close for a _pad field (10 bytes at least): spaces, still the same JSON
    (20, b'{         "a":"xyz"}'),
    (21, b'{"_pad":"","a":"xyz"}'),
    (22, b'{"_pad":"?","a":"xyz"}'),
])
def test_small_gaps(tmp_path: Path, size: int, payload: bytes):
    spec = scenario(tmp_path, str(size), "a: {const: xyz}\n", partition_key=None)
    event = next(generate(spec))
    assert len(event.payload) == size and json.loads(event.payload) == event.fields
    if payload.count(b"?"):
        assert re.fullmatch(rb'\{"_pad":"[A-Za-z0-9+/]","a":"xyz"\}', event.payload)
    else:
        assert event.payload == payload


def test_larger_payloads_stay_as_they_are_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    plain = list(generate(scenario(tmp_path, None)))
    larger = [e.payload for e in plain if len(e.payload) > 180]
    assert 0 < len(larger) < 500
    with caplog.at_level(logging.WARNING, logger="emulator.replay.generate"):
        events = list(generate(scenario(tmp_path, "180")))
    assert [e.payload for e in events if len(e.payload) != 180] == larger
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert message.startswith(f"{tmp_path / 'scenario.yaml'}: events.size_bytes: {len(larger)} of 500 events were "
                              f"already larger than 180 bytes (largest: {max(map(len, larger))} bytes)")


def test_the_warning_comes_once_even_when_the_stream_is_cut_short(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture):
    spec = scenario(tmp_path, "20")
    stream = generate(spec)
    assert isinstance(stream, types.GeneratorType)
    with caplog.at_level(logging.WARNING, logger="emulator.replay.generate"):
        head = [next(stream) for _ in range(3)]
        assert not caplog.records  # streaming: nothing is known until the end
        stream.close()
    assert [e.index for e in head] == [0, 1, 2]
    assert len(caplog.records) == 1 and "3 of 3 events were already larger than 20 bytes" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="emulator.replay.generate"):
        list(generate(scenario(tmp_path, "[15, 20]"), count=4))
    assert "4 of 4 events were already larger than their size drawn from [15, 20]" in caplog.text


def test_global_random_is_untouched(tmp_path: Path):
    spec = scenario(tmp_path, "[200, 800]")
    random.seed(5)
    state = random.getstate()
    list(generate(spec))
    assert random.getstate() == state


@pytest.mark.parametrize(("size", "message"), [
    ("0", "1 <= min <= max <= 1048576, got 0"),
    ("[500, 100]", "got [500, 100]"),
    ("2000000", "got 2000000"),
    ("[1, 2, 3]", "size_bytes"),
    ("big", "size_bytes"),
])
def test_bad_sizes_are_config_errors(tmp_path: Path, size: str, message: str):
    with pytest.raises(ConfigError) as info:
        scenario(tmp_path, size)
    assert info.value.key is not None and info.value.key.startswith("events.size_bytes"), str(info.value)
    assert info.value.line == 8 and message in str(info.value)


def test_a_field_named_pad_is_refused_only_with_size_bytes(tmp_path: Path):
    fields = "_pad: word\nb: word\n"
    assert list(next(generate(scenario(tmp_path, None, fields, partition_key=None))).fields) == ["_pad", "b"]
    with pytest.raises(ConfigError) as info:
        scenario(tmp_path, "100", fields, partition_key=None)
    assert info.value.key == "events.fields._pad" and info.value.line == 9
    assert "rename this field" in str(info.value)


def test_a_missing_field_fault_drops_a_real_field_not_the_pad(tmp_path: Path):
    spec = scenario(tmp_path, "800")
    faults = FaultsSpec.model_validate({"poison": {"ratio": 1.0, "kinds": ["missing_field"]}})
    for event in apply_event_faults(generate(spec, count=20), faults, 1):
        assert "_pad" in event.fields and "name" not in event.fields


def test_the_bundled_scenario_loads_and_generates():
    spec, pipeline = load_scenario(ROOT / "scenarios" / "clickstream-custom-data.yaml")
    assert pipeline.name == "clickstream" and spec.events.size_bytes == (512, 4096)
    assert [cls.__name__ for cls in spec.events.provider_classes] == ["ClickstreamProvider"]
    events = list(generate(spec, count=300))
    assert [e.payload for e in generate(spec, count=300)] == [e.payload for e in events]
    sizes = [len(e.payload) for e in events]
    assert all(512 <= n <= 4096 for n in sizes) and len(set(sizes)) > 100
    for event in events:
        f = event.fields
        assert re.fullmatch(r"s-[0-9a-f]{16}", f["session"]) and f["device"] in ("desktop", "mobile", "tablet")
        assert f["url"].startswith("https://shop.example.com/") and json.loads(event.payload) == f
        assert event.partition_key == str(f["user_id"])
    assert {e.fields["url"].split("/")[3].split("?")[0] for e in events} >= {"products", "search", "cart"}
