"""The field language: every form, and load-time errors at the field's file/line/key."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from spec_samples import SCENARIO_YAML

from emulator.spec import (
    ChoiceField,
    ConstField,
    EventsSpec,
    FakerField,
    ListField,
    ObjectField,
    TemplateField,
    jsonable,
    load_scenario,
)


def events(fields: dict[str, Any], **extra: Any) -> EventsSpec:
    return EventsSpec.model_validate({"count": 1, "fields": fields, **extra})


def test_every_form_is_accepted():
    spec = events({
        "id": "uuid4",
        "user": {"faker": "pyint", "min_value": 1, "max_value": 9, "unique": True},
        "kind": {"const": "click"},
        "meta": {"const": {"v": [1, 2]}},
        "color": {"choice": ["red", "green"], "weights": [3, 1]},
        "size": {"choice": [1, 2, 3]},
        "key": {"template": "{user}:{kind}"},
        "device": {"object": {"os": {"choice": ["ios", "android"]}, "label": {"template": "{os}!"}}},
        "tags": {"list": "word", "length": [0, 3]},
        "pair": {"list": {"const": 1}, "length": 2},
        "ids": {"list": {"template": "{id}"}, "length": 1},
    })
    f = spec.fields
    assert f["id"] == FakerField(faker="uuid4")
    assert f["user"] == FakerField(faker="pyint", unique=True, kwargs={"min_value": 1, "max_value": 9})
    assert f["kind"] == ConstField(const="click") and f["meta"] == ConstField(const={"v": [1, 2]})
    assert f["color"] == ChoiceField(choice=["red", "green"], weights=[3, 1])
    assert isinstance(f["size"], ChoiceField) and f["size"].weights is None
    assert f["key"] == TemplateField(template="{user}:{kind}")
    device = f["device"]
    assert isinstance(device, ObjectField) and list(device.fields) == ["os", "label"]
    tags = f["tags"]
    assert isinstance(tags, ListField) and tags.item == FakerField(faker="word") and tags.length == (0, 3)
    assert isinstance(f["pair"], ListField) and f["pair"].length == 2


def test_const_values_become_json():
    spec = events({"when": {"const": dt.date(2024, 1, 2)}, "none": {"const": None}})
    assert spec.fields["when"] == ConstField(const="2024-01-02")
    assert spec.fields["none"] == ConstField(const=None)


def test_jsonable_is_deterministic():
    assert jsonable(dt.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05"
    assert jsonable(dt.date(2024, 1, 2)) == "2024-01-02"
    assert jsonable(dt.time(1, 2)) == "01:02:00"
    assert jsonable(Decimal("1.50")) == "1.50"
    assert jsonable(b"\x00\xff") == "AP8="
    assert jsonable(uuid.UUID(int=1)) == "00000000-0000-0000-0000-000000000001"
    assert jsonable({"b", "a", "c"}) == ["a", "b", "c"]
    assert jsonable((1, {2: dt.date(2024, 1, 1)})) == [1, {"2": "2024-01-01"}]
    assert jsonable(dt.timedelta(seconds=5)) == "0:00:05"


def test_locale_is_checked():
    assert events({"city": "city"}, locale="fr_FR").locale == "fr_FR"


def field_error(scenario_file, expect_error, field_yaml: str, **check: Any) -> None:
    text = SCENARIO_YAML.replace("    url: uri\n", f"    url: {field_yaml}\n")
    path = scenario_file(text)
    expect_error(lambda: load_scenario(path), file=path, **check)


@pytest.mark.parametrize(("field_yaml", "key", "message", "hint"), [
    ("urii", "events.fields.url", "unknown Faker provider 'urii'", "did you mean 'uri'?"),
    ("{faker: pyintt, min_value: 1}", "events.fields.url.faker", "unknown Faker provider 'pyintt'",
     "did you mean 'pyint'?"),
    ("{faker: pyint, min: 1}", "events.fields.url", "faker pyint(min=1) failed: TypeError",
     "faker.readthedocs"),
    ("{faker: pyint, min_value: 9, max_value: 1}", "events.fields.url", "failed: ValueError", None),
    ("{faker: uri, unique: maybe}", "events.fields.url.unique", "valid boolean", None),
    ("{const: 1, choice: [1]}", "events.fields.url", "has const and choice", None),
    ("{cosnt: 1}", "events.fields.url", "needs one of faker, const", "did you mean 'const'?"),
    ("{const: 1, weights: [1]}", "events.fields.url.weights", "unknown key 'weights'", None),
    ("5", "events.fields.url", "a Faker provider name or a mapping, got int 5", "e.g. uuid4"),
    ("{choice: []}", "events.fields.url.choice", "at least 1 item", None),
    ("{choice: [a, b], weights: [1]}", "events.fields.url.weights", "1 weights for 2 choices", None),
    ("{choice: [a, b], weights: [0, -1]}", "events.fields.url.weights", "must be >= 0", None),
    ("{template: '{ts}'}", "events.fields.url.template", "'ts', which is declared after it",
     "move 'ts' above"),
    ("{template: '{usr_id}'}", "events.fields.url.template", "unknown field 'usr_id'",
     "did you mean 'user_id'?"),
    ("{template: '{}'}", "events.fields.url.template", "must name a field", None),
    ("{template: '{url}'}", "events.fields.url.template", "its own field 'url'", None),
    ("{template: '{user_id:{width}}'}", "events.fields.url.template", "inside its format spec", "write the"),
    ("{template: '{user_id:>999999999999}'}", "events.fields.url.template", "wider than 1000", "up to 1000"),
    ("{template: '{user_id:.5000f}'}", "events.fields.url.template", "wider than 1000", "up to 1000"),
    ("{template: '{user_id.__class__}'}", "events.fields.url.template", "reads an attribute", "names a field"),
    ("{template: '{user_id[0]}'}", "events.fields.url.template", "reads an attribute or an item", None),
    ("{template: '{user_id'}", "events.fields.url.template", "bad template", "'{{'"),
    ("{object: {}}", "events.fields.url.object", "at least 1 item", None),
    ("{object: {a: {template: '{b}'}, b: uuid4}}", "events.fields.url.object.a.template",
     "'b', which is declared after it", None),
    ("{object: {a: {template: '{user_id}'}}}", "events.fields.url.object.a.template",
     "unknown field 'user_id'", None),
    ("{object: {a: nope_provider}}", "events.fields.url.object.a", "unknown Faker provider", None),
    ("{list: uuid4}", "events.fields.url.length", "missing required key 'length'", None),
    ("{list: uuid4, length: [3, 1]}", "events.fields.url.length", "0 <= min <= max", None),
    ("{list: uuid4, length: -1}", "events.fields.url.length", "0 <= min <= max", None),
    ("{list: {template: '{ts}'}, length: 1}", "events.fields.url.list.template", "declared after it", None),
    ("{list: {objectt: {a: uuid4}}, length: 2}", "events.fields.url.list", "needs one of",
     "did you mean 'object'?"),
])
def test_field_errors(scenario_file, expect_error, field_yaml, key, message, hint):
    field_error(scenario_file, expect_error, field_yaml, line=11, key=key, message=message, hint=hint or "")


def test_template_may_use_earlier_fields_from_a_list(scenario_file):
    ids = "    ids: {list: {template: '{user_id}'}, length: 2}\n"
    text = SCENARIO_YAML.replace("    ts: iso8601\n", "    ts: iso8601\n" + ids)
    spec, _ = load_scenario(scenario_file(text))
    assert isinstance(spec.events.fields["ids"], ListField)


def test_unknown_locale(scenario_file, expect_error):
    text = SCENARIO_YAML.replace("  count: 1000\n", "  count: 1000\n  locale: de_DX\n")
    expect_error(lambda: load_scenario(scenario_file(text)), line=7, key="events.locale",
                 message="unknown Faker locale 'de_DX'", hint="did you mean 'de_DE'?")


def test_fields_must_not_be_empty(scenario_file, expect_error):
    text = SCENARIO_YAML.split("  fields:")[0] + "  fields: {}\n" + "expect: {}\n"
    text = text.replace("  partition_key: user_id          # a field name\n", "")
    expect_error(lambda: load_scenario(scenario_file(text)), key="events.fields", message="at least 1 item")
