"""Seeded, streaming event generation from a scenario's ``events`` section.

Same seed + same Faker version -> identical payload bytes. Faker draws come from a dedicated ``Faker(locale)``
seeded with ``seed_instance(seed)``; choices, list lengths and random partition keys come from a dedicated
``random.Random(seed)``; the global ``random`` is never touched. Field specs are compiled once into closures.
Custom providers (``events.providers``) join that Faker instance before it is seeded, so they repeat too when
they draw from ``self.generator.random``. ``events.size_bytes`` pads payloads (``Padder``).

Faker date providers read the wall clock ("now") and the machine's time zone. So that dates repeat from run to
run and machine to machine, a provider's ``end_datetime`` argument, when the scenario leaves it unset, is
``REFERENCE_TIME``, and its ``tzinfo`` is UTC. Providers that take relative strings (``date_between``,
``past_datetime``, ``date_time_this_month``, ...) still follow the clock unless the scenario passes dates.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import inspect
import itertools
import json
import logging
import random
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faker import Faker
from faker.exceptions import UniquenessException
from faker.providers import BaseProvider

from emulator.errors import ConfigError
from emulator.spec.fields import (
    ChoiceField,
    ConstField,
    FakerField,
    FieldSpec,
    ListField,
    ObjectField,
    TemplateField,
    jsonable,
)
from emulator.spec.scenario import PAD_FIELD, ScenarioSpec
from emulator.spec.yamlsrc import KeyPath, format_path

REFERENCE_TIME = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
# Faker accepts an epoch timestamp wherever it accepts a datetime, and skips a conversion per call.
_REFERENCE_TS = int(REFERENCE_TIME.timestamp())

Obj = dict[str, Any]
Gen = Callable[[Obj], Any]  # makes one field's value, given the (partly built) object it belongs to
_PLAIN = frozenset({str, int, float, bool, type(None)})
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GeneratedEvent:
    index: int  # 0-based
    partition_key: str
    payload: bytes  # compact JSON, keys in declared order (see Padder for what size_bytes adds)
    fields: dict[str, Any]  # the decoded object ('_pad' included)
    offset: float | None = None  # seconds into the schedule (recordings)
    fault: str | None = None  # the fault injected into this event (faults.py), if any


def generate(
    scenario: ScenarioSpec, *, seed: int | None = None, count: int | None = None
) -> Iterator[GeneratedEvent]:
    """Stream ``count`` (default: the scenario's) events; memory does not grow with ``count``."""
    seed = scenario.seed if seed is None else seed
    count = scenario.events.count if count is None else count
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    events = scenario.events
    fake = Faker(events.locale) if events.locale else Faker()
    for provider in events.provider_classes:
        fake.add_provider(provider)
    fake.seed_instance(seed)
    _speed_up_weighted_draws(fake)
    rng = random.Random(seed)
    compiler = _Compiler(fake, rng, scenario)
    build = compiler.object(events.fields, ("events", "fields"))
    padder = None if events.size_bytes is None else Padder(events.size_bytes, seed, scenario.source_path)
    return _events(build, count, events.partition_key, rng, padder)


def _events(
    build: Callable[[], Obj], count: int, key_field: str | None, rng: random.Random, padder: Padder | None
) -> Iterator[GeneratedEvent]:
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    getrandbits = rng.getrandbits
    pad = None if padder is None else padder.pad
    index = -1
    try:  # no try/finally: a run that fails half way has a better message to show than this warning
        for index in range(count):
            obj = build()
            if key_field is None:
                key = f"{getrandbits(128):032x}"
            else:
                value = obj[key_field]
                key = value if type(value) is str else str(value)
            payload = encode(obj).encode()
            if pad is not None:
                payload, obj = pad(payload, obj)
            yield GeneratedEvent(index, key, payload, obj)
    except GeneratorExit:  # the consumer stopped early: event `index` was the last one it took
        if padder is not None:
            padder.report(index + 1)
        raise
    if padder is not None:
        padder.report(count)


class Padder:
    """Pads payloads to ``size_bytes`` (N, or a seeded draw from [min, max] per event).

    The filler goes in a ``_pad`` field, first in the object, so the declared fields keep their values and
    order, and a fault that drops "the last field" still drops a real one. The filler is seeded base64 text,
    not one repeated character, so a record compressed on its own stays near its size (one block per run,
    sliced: records side by side in one compressed file still shrink against each other). ``_pad`` costs 10
    bytes before any filler; a payload 1-9 bytes short is padded with spaces after its ``{`` (still JSON,
    same fields). A payload already larger than the target is left as it is, counted, and reported once.

    Sizes come from their own ``random.Random``: adding ``size_bytes`` does not change any field's value.
    """

    def __init__(self, size: int | tuple[int, int], seed: int, source: Path) -> None:
        self.low, self.high = (size, size) if isinstance(size, int) else size
        self.source = source
        self.unpadded = 0  # payloads already larger than their target
        self.largest = 0
        rng = random.Random(f"{seed}:size_bytes")  # a str seed hashes with SHA-512: the same in every process
        self.pad = self._padder(rng)

    def _padder(self, rng: random.Random) -> Callable[[bytes, Obj], tuple[bytes, Obj]]:
        # A closure over locals: this runs once per event.
        low, high = self.low, self.high
        filler = base64.b64encode(rng.randbytes(high * 3 // 4 + 3))[:high]
        text = filler.decode("ascii")
        head, tail = b'{"' + PAD_FIELD.encode() + b'":"', b'",'
        overhead = len(head) + len(tail) - 1  # the payload's own '{' is reused
        span, draw = high - low + 1, rng.random
        join = b"".join

        def pad(payload: bytes, obj: Obj) -> tuple[bytes, Obj]:
            target = low if span == 1 else low + int(draw() * span)
            gap = target - len(payload)
            if gap >= overhead:
                n = gap - overhead
                padded: Obj = {PAD_FIELD: text[:n]}
                padded.update(obj)
                return join((head, filler[:n], tail, memoryview(payload)[1:])), padded
            if gap > 0:
                return b"{" + b" " * gap + payload[1:], obj
            if gap < 0:
                self.unpadded += 1
                self.largest = max(self.largest, len(payload))
            return payload, obj

        return pad

    def report(self, total: int) -> None:
        if not self.unpadded:
            return
        low, high = self.low, self.high
        size = f"{low} bytes" if low == high else f"their size drawn from [{low}, {high}]"
        log.warning(
            "%s: events.size_bytes: %d of %d events were already larger than %s (largest: %d bytes) and were "
            "left unpadded; raise size_bytes or make the fields smaller",
            self.source, self.unpadded, total, size, self.largest,
        )


class _Compiler:
    def __init__(self, fake: Faker, rng: random.Random, scenario: ScenarioSpec) -> None:
        self.fake = fake
        self.rng = rng
        self.scenario = scenario

    def object(self, fields: dict[str, FieldSpec], path: KeyPath) -> Callable[[], Obj]:
        steps = [(name, self.field(spec, (*path, name))) for name, spec in fields.items()]

        def build() -> Obj:
            obj: Obj = {}
            for name, gen in steps:
                obj[name] = gen(obj)
            return obj

        return build

    def field(self, spec: FieldSpec, path: KeyPath) -> Gen:
        if isinstance(spec, FakerField):
            return self._faker(spec, path)
        if isinstance(spec, ConstField):
            return _constant(spec.const)
        if isinstance(spec, ChoiceField):
            return self._choice(spec.choice, spec.weights)
        if isinstance(spec, TemplateField):
            return self._template(spec.template, path)
        if isinstance(spec, ObjectField):
            build = self.object(spec.fields, (*path, "object"))
            return lambda obj: build()
        if isinstance(spec, ListField):
            return self._list(spec, path)
        raise TypeError(f"unknown field spec {type(spec).__name__}")

    def _faker(self, spec: FakerField, path: KeyPath) -> Gen:
        source: Any = self.fake.unique if spec.unique else self.fake
        plain = getattr(self.fake, spec.faker)
        kwargs = dict(spec.kwargs)
        parameters = _parameters(plain)
        if "end_datetime" in parameters and "end_datetime" not in kwargs:
            kwargs["end_datetime"] = _REFERENCE_TS
        if "tzinfo" in parameters and "tzinfo" not in kwargs:
            kwargs["tzinfo"] = dt.UTC
        if spec.unique:
            # .unique remembers calls by their arguments, so they must be hashable.
            kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        method = getattr(source, spec.faker)
        where = format_path(path)
        file = self.scenario.source_path

        def gen(obj: Obj) -> Any:
            try:
                value = method(**kwargs)
            except UniquenessException:
                raise ConfigError(
                    f"faker {spec.faker} ran out of unique values", file=file, key=where,
                    hint="widen the provider's range, lower events.count, or drop unique",
                ) from None
            return value if type(value) in _PLAIN else jsonable(value)

        return gen

    def _template(self, template: str, path: KeyPath) -> Gen:
        fill = template.format_map
        file, where = self.scenario.source_path, format_path((*path, "template"))

        def gen(obj: Obj) -> str:
            try:
                return fill(obj)
            except (KeyError, IndexError, AttributeError, ValueError, TypeError) as exc:
                # Names are checked at load; a format spec that does not fit the value shows up only here.
                raise ConfigError(
                    f"template {template!r} failed: {type(exc).__name__}: {exc}", file=file, key=where,
                    hint="a format spec such as {n:04d} must fit the field's value type",
                ) from None

        return gen

    def _choice(self, values: list[Any], weights: list[float] | None) -> Gen:
        nested = any(isinstance(v, dict | list) for v in values)
        if weights is None:
            choice = self.rng.choice
            pick: Gen = lambda obj: choice(values)  # noqa: E731
        else:
            cumulative = list(itertools.accumulate(weights))
            choices = self.rng.choices
            pick = lambda obj: choices(values, cum_weights=cumulative)[0]  # noqa: E731
        if nested:
            return lambda obj: copy.deepcopy(pick(obj))
        return pick

    def _list(self, spec: ListField, path: KeyPath) -> Gen:
        item = self.field(spec.item, (*path, "list"))
        if isinstance(spec.length, int):
            repeat = range(spec.length)
            return lambda obj: [item(obj) for _ in repeat]
        low, high = spec.length
        randint = self.rng.randint
        return lambda obj: [item(obj) for _ in range(randint(low, high))]


def _constant(value: Any) -> Gen:
    if isinstance(value, dict | list):
        # Each event gets its own copy: a consumer editing one event must not edit the next.
        return lambda obj: copy.deepcopy(value)
    return lambda obj: value


def _parameters(method: Callable[..., Any]) -> Sequence[str]:
    try:
        return list(inspect.signature(method).parameters)
    except (TypeError, ValueError):
        return []


def _speed_up_weighted_draws(fake: Faker) -> None:
    """Make single weighted draws O(log n) on this Faker instance only, with the same results.

    ``BaseProvider.random_elements`` rebuilds the weights of an OrderedDict (about a thousand last names for
    en_US) on every call, and ``random.choices(weights=...)`` sums them again: most of the cost of ``uri`` or
    ``name``. ``random.choices`` with precomputed ``cum_weights`` consumes the same random numbers and returns
    the same element, so the output is byte-identical (a test compares it with a plain Faker). Anything but a
    single draw falls through to Faker's own code.
    """
    if list(inspect.signature(BaseProvider.random_elements).parameters) != [
        "self", "elements", "length", "unique", "use_weighting"
    ]:
        return  # a Faker whose internals differ from the ones this was written against: leave it alone
    cache: dict[int, tuple[Any, tuple[Any, ...], list[float]]] = {}
    for provider in fake.get_providers():
        provider.random_elements = _fast_random_elements(provider, cache)


def _fast_random_elements(
    provider: BaseProvider, cache: dict[int, tuple[Any, tuple[Any, ...], list[float]]]
) -> Callable[..., Any]:
    original = provider.random_elements
    rng = provider.generator.random

    def random_elements(
        elements: Any = ("a", "b", "c"), length: int | None = None, unique: bool = False,
        use_weighting: bool | None = None,
    ) -> Any:
        if length == 1 and not unique:
            kind = type(elements)
            if kind is tuple or kind is list or kind is str:
                return [rng.choice(elements)]
            weighted = provider.__use_weighting__ if use_weighting is None else use_weighting
            if kind is OrderedDict and weighted:
                entry = cache.get(id(elements))
                if entry is None or entry[0] is not elements:
                    entry = (elements, tuple(elements), list(itertools.accumulate(elements.values())))
                    cache[id(elements)] = entry
                return rng.choices(entry[1], cum_weights=entry[2], k=1)
        return original(elements, length, unique, use_weighting)

    return random_elements
