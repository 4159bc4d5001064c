"""The field language of a scenario's ``events.fields``: how each field of a generated event is made.

Forms: ``"uuid4"`` (a Faker provider), ``{faker: NAME, unique: bool, **kwargs}``, ``{const: VALUE}``,
``{choice: [..], weights: [..]}``, ``{template: "{a}:{b}"}`` (earlier sibling fields), ``{object: {..}}``,
``{list: FIELD, length: N | [min, max]}``. Everything is checked at load: each Faker call is tried once.
``NAME`` may also be a method of a custom provider from ``events.providers`` (``emulator.spec.providers``).
"""

from __future__ import annotations

import base64
import datetime as dt
import difflib
import functools
import math
import re
import string
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Self

from faker import Faker
from faker.config import AVAILABLE_LOCALES
from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator, model_validator

from emulator.spec.providers import ProviderClass, describe_exception, provider_names
from emulator.spec.validation import RULE, Strict, rule_error
from emulator.spec.yamlsrc import KeyPath, close_match_hint

_FORMS = ("const", "choice", "template", "object", "list")
_DOCS = "https://faker.readthedocs.io/en/master/providers.html"
_PLAIN = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: dates as ISO 8601, Decimal/UUID as str, bytes as base64, sets sorted."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        # Set order follows string hashing, which changes per process; sort so the bytes repeat.
        return [jsonable(v) for v in sorted(value, key=repr)]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Probe:
    """A seeded Faker on which each ``{faker: ...}`` field is tried once at load, and the names it knows."""

    fake: Faker
    names: frozenset[str]  # every provider name, built-in and custom
    custom: frozenset[str]  # the names ``events.providers`` added


def make_probe(locale: str | None, providers: Sequence[ProviderClass] = ()) -> Probe:
    base = _probe(locale)
    if not providers:
        return base
    fake = Faker(locale) if locale else Faker()
    for provider in providers:
        fake.add_provider(provider)
    fake.seed_instance(0)
    custom = frozenset().union(*(provider_names(p) for p in providers))
    return Probe(fake, base.names | custom, custom)


@functools.lru_cache(maxsize=16)
def _probe(locale: str | None) -> Probe:
    fake = Faker(locale) if locale else Faker()
    fake.seed_instance(0)
    names = frozenset(
        name for provider in fake.get_providers() for name in dir(provider)
        if not name.startswith("_") and callable(getattr(provider, name))
    )
    return Probe(fake, names, frozenset())


def check_locale(locale: str | None) -> None:
    try:
        _probe(locale)
    except (AttributeError, ImportError, ValueError):
        raise rule_error(f"unknown Faker locale '{locale}'", path=("locale",),
                         hint=close_match_hint(str(locale), AVAILABLE_LOCALES, what="locales")) from None


class FakerField(Strict):
    faker: str
    unique: bool = False
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_keys(cls, data: Any) -> Any:
        # Every key beside faker/unique is an argument for the provider, so nothing here is "unknown".
        if isinstance(data, str):
            return {"faker": data}
        if isinstance(data, dict) and "faker" in data:
            rest = dict(data)
            out = {"faker": rest.pop("faker")}
            if "unique" in rest:
                out["unique"] = rest.pop("unique")
            # FakerField(faker=..., kwargs={...}) from code; no Faker provider takes an argument named kwargs.
            given = rest.pop("kwargs") if isinstance(rest.get("kwargs"), dict) else {}
            out["kwargs"] = {**given, **rest}
            return out
        return data

    def check(self, probe: Probe, path: KeyPath) -> None:
        if self.faker not in probe.names:
            hint = close_match_hint(self.faker, probe.names, what="providers")
            if hint is None and probe.custom:
                hint = f"providers from events.providers: {', '.join(sorted(probe.custom))}; built-in: {_DOCS}"
            raise rule_error(f"unknown Faker provider '{self.faker}'", path=(*path, "faker"),
                             hint=hint or f"see {_DOCS}")
        try:
            getattr(probe.fake, self.faker)(**self.kwargs)
        except Exception as exc:
            args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
            if self.faker in probe.custom:
                raise rule_error(f"faker {self.faker}({args}) failed: {describe_exception(exc)}", path=path,
                                 hint="the provider comes from events.providers; check its arguments and code"
                                 ) from None
            raise rule_error(f"faker {self.faker}({args}) failed: {type(exc).__name__}: {exc}", path=path,
                             hint=f"see {_DOCS}") from None


class ConstField(Strict):
    const: Any

    @field_validator("const")
    @classmethod
    def _json(cls, value: Any) -> Any:
        return jsonable(value)


class ChoiceField(Strict):
    choice: list[Any] = Field(min_length=1)
    weights: list[float] | None = None

    @field_validator("choice")
    @classmethod
    def _json(cls, value: list[Any]) -> list[Any]:
        return [jsonable(v) for v in value]

    @model_validator(mode="after")
    def _weights(self) -> Self:
        if self.weights is None:
            return self
        if len(self.weights) != len(self.choice):
            raise rule_error(f"{len(self.weights)} weights for {len(self.choice)} choices", path=("weights",),
                             hint="give one weight per choice, or none")
        if any(w < 0 or not math.isfinite(w) for w in self.weights) or sum(self.weights) <= 0:
            raise rule_error("weights must be >= 0 and add up to more than 0", path=("weights",))
        return self


class TemplateField(Strict):
    template: str

    @field_validator("template")
    @classmethod
    def _syntax(cls, value: str) -> str:
        names = template_names(value)
        if "" in names:
            raise rule_error("template placeholders must name a field, e.g. {user_id}")
        return value


MAX_TEMPLATE_WIDTH = 1000  # widths and precisions in a template's format specs; '{id:>999999999999}' is a bomb
_NUMBER = re.compile(r"\d+")


def template_names(template: str) -> list[str]:
    """The sibling fields ``template`` refers to: ``"{user}:{ts}"`` -> ``["user", "ts"]``.

    A placeholder is a field name with an optional conversion and a literal format spec: no attribute or index
    access (``{a.__class__}`` reaches Python internals), no fields inside the spec, widths up to
    ``MAX_TEMPLATE_WIDTH``, so filling a template never costs more than the text it makes."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise rule_error(f"bad template: {exc}", hint="write a literal brace as '{{' or '}}'") from None
    names: list[str] = []
    for _, field, spec, _ in parts:
        if field is None:
            continue
        if "." in field or "[" in field:
            raise rule_error(f"template placeholder {{{field}}} reads an attribute or an item",
                             hint="a placeholder names a field only, e.g. {user_id}; build nested values with "
                             "{object: ...} instead")
        names.append("" if field.isdigit() else field)
        if spec and "{" in spec:
            raise rule_error(f"template placeholder {{{field}:{spec}}} reads a field inside its format spec",
                             hint="write the format spec out, e.g. {amount:>8}")
        if spec and any(int(n) > MAX_TEMPLATE_WIDTH for n in _NUMBER.findall(spec)):
            raise rule_error(f"template format spec '{spec}' is wider than {MAX_TEMPLATE_WIDTH}",
                             hint=f"widths and precisions go up to {MAX_TEMPLATE_WIDTH}")
    return names


class ObjectField(Strict):
    fields: dict[str, FieldSpec] = Field(alias="object", min_length=1)

    @model_validator(mode="after")
    def _template_order(self) -> Self:
        check_template_order(self.fields, ("object",))
        return self


class ListField(Strict):
    item: FieldSpec = Field(alias="list")
    length: int | tuple[int, int]

    @field_validator("length")
    @classmethod
    def _bounds(cls, value: int | tuple[int, int]) -> int | tuple[int, int]:
        low, high = (value, value) if isinstance(value, int) else value
        if not 0 <= low <= high <= 100_000:
            raise rule_error(f"length must be N or [min, max] with 0 <= min <= max <= 100000, got {value}")
        return value


def _field_form(value: Any) -> str | None:
    if isinstance(value, str):
        return "<faker>"
    if isinstance(value, dict):
        if "faker" in value:
            return "<faker>"
        present = [form for form in _FORMS if form in value]
        return f"<{present[0]}>" if len(present) == 1 else None
    if isinstance(value, Strict):
        tags = {FakerField: "<faker>", ConstField: "<const>", ChoiceField: "<choice>",
                TemplateField: "<template>", ObjectField: "<object>", ListField: "<list>"}
        return tags.get(type(value))
    return None


def _check_form(value: Any) -> Any:
    """Say exactly what is wrong with a field's shape, before the union's generic complaint."""
    if isinstance(value, dict) and "faker" not in value:
        present = [form for form in _FORMS if form in value]
        if len(present) > 1:
            raise rule_error(f"a field takes one form, this one has {' and '.join(present)}",
                             hint=_FORMS_HINT)
        if not present:
            keys = ", ".join(map(str, value)) or "nothing"
            forms = ("faker", *_FORMS)
            guesses = [m for key in value for m in difflib.get_close_matches(str(key), forms, n=1)]
            hint = f"did you mean '{guesses[0]}'?" if guesses else _FORMS_HINT
            raise rule_error(f"a field mapping needs one of faker, {', '.join(_FORMS)}; it has {keys}",
                             hint=hint)
    elif not isinstance(value, dict | str | Strict):
        got = f"{type(value).__name__} {value!r:.40}"
        raise rule_error(f"a field is a Faker provider name or a mapping, got {got}", hint=_FORMS_HINT)
    return value


_FORMS_HINT = (
    "e.g. uuid4, {faker: pyint, min_value: 1}, {const: 1}, {choice: [a, b]}, {template: '{a}-{b}'}, "
    "{object: {...}}, {list: uuid4, length: 3}"
)
_FORMS_MESSAGE = "a field is a Faker provider name or a mapping with exactly one of: faker, " + ", ".join(
    _FORMS
)

FieldSpec = Annotated[
    Annotated[FakerField, Tag("<faker>")]
    | Annotated[ConstField, Tag("<const>")]
    | Annotated[ChoiceField, Tag("<choice>")]
    | Annotated[TemplateField, Tag("<template>")]
    | Annotated[ObjectField, Tag("<object>")]
    | Annotated[ListField, Tag("<list>")],
    Discriminator(
        _field_form,
        custom_error_type=RULE,
        custom_error_message=_FORMS_MESSAGE,
        custom_error_context={"message": _FORMS_MESSAGE, "hint": _FORMS_HINT},
    ),
    BeforeValidator(_check_form),
]
ObjectField.model_rebuild()
ListField.model_rebuild()


def check_template_order(fields: dict[str, FieldSpec], path: KeyPath) -> None:
    """A template may use only sibling fields declared before it (they are generated in order)."""
    names = list(fields)
    for index, (name, spec) in enumerate(fields.items()):
        _check_template(spec, name, names[:index], names, (*path, name))


def _check_template(spec: FieldSpec, own: str, earlier: list[str], siblings: list[str], path: KeyPath) -> None:
    if isinstance(spec, ListField):
        _check_template(spec.item, own, earlier, siblings, (*path, "list"))
    elif isinstance(spec, TemplateField):
        for ref in template_names(spec.template):
            if ref in earlier:
                continue
            if ref == own:
                message = f"template uses its own field '{ref}'"
                hint = "a template can use only the fields declared before it"
            elif ref in siblings:
                message = f"template uses '{ref}', which is declared after it"
                hint = f"move '{ref}' above this field; fields are generated in order"
            else:
                message = f"template uses unknown field '{ref}'"
                hint = close_match_hint(ref, earlier, what="fields declared before it") or (
                    "no fields are declared before it"
                )
            raise rule_error(message, path=(*path, "template"), hint=hint)


def walk_fields(fields: dict[str, FieldSpec], path: KeyPath = ()) -> Iterator[tuple[KeyPath, FieldSpec]]:
    """Every field spec, nested ones included, with its key path relative to ``fields``."""
    for name, spec in fields.items():
        yield from _walk(spec, (*path, name))


def _walk(spec: FieldSpec, path: KeyPath) -> Iterator[tuple[KeyPath, FieldSpec]]:
    yield path, spec
    if isinstance(spec, ObjectField):
        yield from walk_fields(spec.fields, (*path, "object"))
    elif isinstance(spec, ListField):
        yield from _walk(spec.item, (*path, "list"))
