"""Seeded fault injection: what a scenario's ``faults:`` does to events, handlers, the producer and S3.

Every draw comes from a ``random.Random`` seeded from the scenario (never the global one), so the same seed
makes the same events faulty, and every faulty event carries its fault's name into the ledger.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import threading
from collections.abc import Iterator
from typing import Any

from emulator.replay.generate import REFERENCE_TIME, GeneratedEvent
from emulator.runtime import InjectedFault
from emulator.spec.traffic import FaultsSpec, HandlerFaultSpec, PoisonSpec

_SALT = {"events": 0x5EED, "handler": 0xFA17, "producer": 0x7407, "s3": 0x53}


def rng(seed: int, what: str) -> random.Random:
    return random.Random((seed * 1_000_003) ^ _SALT[what])


def _poison(event: GeneratedEvent, spec: PoisonSpec, r: random.Random) -> GeneratedEvent:
    kind = r.choice(spec.kinds)
    if kind == "malformed_json":
        payload = event.payload[: max(1, len(event.payload) // 2)] + b"\x00<not json"
    elif kind == "missing_field":
        field = spec.field or list(event.fields)[-1]
        fields = {k: v for k, v in event.fields.items() if k != field}
        payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
        return dataclasses.replace(event, payload=payload, fields=fields, fault=f"poison:{kind}")
    else:  # oversize: over Kinesis's 1 MiB record limit, so the put itself is refused
        fields = {**event.fields, "padding": "x" * spec.oversize_bytes}
        payload = json.dumps(fields, separators=(",", ":")).encode()
        return dataclasses.replace(event, payload=payload, fields=fields, fault=f"poison:{kind}")
    return dataclasses.replace(event, payload=payload, fault=f"poison:{kind}")


def _late(event: GeneratedEvent, field: str, age_s: float) -> GeneratedEvent:
    fields = {**event.fields, field: (REFERENCE_TIME - dt.timedelta(seconds=age_s)).isoformat()}
    payload = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
    return dataclasses.replace(event, payload=payload, fields=fields, fault="late")


def apply_event_faults(
    events: Iterator[GeneratedEvent], faults: FaultsSpec | None, seed: int
) -> Iterator[GeneratedEvent]:
    """Poison, delay and duplicate events as the scenario says; streaming, like the generator."""
    if faults is None or not (faults.poison or faults.late or faults.duplicates):
        yield from events
        return
    r = rng(faults.seed if faults.seed is not None else seed, "events")
    index = 0
    for event in events:
        event = dataclasses.replace(event, index=index)
        if faults.poison is not None and r.random() < faults.poison.ratio:
            event = _poison(event, faults.poison, r)
        elif faults.late is not None and r.random() < faults.late.ratio:
            event = _late(event, faults.late.field, faults.late.age_s)
        yield event
        index += 1
        if faults.duplicates is not None and r.random() < faults.duplicates.ratio:
            yield dataclasses.replace(event, index=index, fault="duplicate")
            index += 1


class HandlerFaults:
    """Decides, invocation by invocation, which fault (if any) to inject into a function."""

    def __init__(self, specs: list[HandlerFaultSpec], seed: int) -> None:
        self._specs = {s.function: s for s in specs}
        self._rngs = {s.function: rng(seed + i, "handler") for i, s in enumerate(specs)}
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def __call__(self, function_name: str) -> InjectedFault | None:
        spec = self._specs.get(function_name)
        if spec is None:
            return None
        with self._lock:
            draw = self._rngs[function_name].random()
        kind: Any = None
        edge = spec.error_ratio
        if draw < edge:
            kind = "error"
        elif draw < (edge := edge + spec.timeout_ratio):
            kind = "timeout"
        elif draw < edge + spec.crash_ratio:
            kind = "crash"
        if kind is None and not spec.latency_ms:
            return None
        if kind is not None:
            with self._lock:
                self.injected[kind] = self.injected.get(kind, 0) + 1
        return InjectedFault(kind=kind, latency_ms=spec.latency_ms)


class ThrottlingKinesis:
    """Wraps a Kinesis client: a seeded share of PutRecords entries come back as
    ProvisionedThroughputExceededException, exactly as AWS reports a throttled record, so the producer's
    SDK-style retry path is exercised."""

    def __init__(self, client: Any, ratio: float, seed: int) -> None:
        self._client = client
        self._ratio = ratio
        self._rng = rng(seed, "producer")
        self.throttled = 0

    def put_records(self, **kwargs: Any) -> dict[str, Any]:
        records = kwargs["Records"]
        throttle = [self._rng.random() < self._ratio for _ in records]
        if not any(throttle):
            return dict(self._client.put_records(**kwargs))
        passed = [r for r, t in zip(records, throttle, strict=True) if not t]
        answered = iter(self._client.put_records(**{**kwargs, "Records": passed})["Records"] if passed else [])
        out = []
        for t in throttle:
            if t:
                self.throttled += 1
                out.append({"ErrorCode": "ProvisionedThroughputExceededException",
                            "ErrorMessage": "Rate exceeded for shard in stream (injected by pipemu)."})
            else:
                out.append(next(answered))
        return {"FailedRecordCount": sum(1 for r in out if "ErrorCode" in r), "Records": out}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class S3WriteFaults:
    """Decides which S3 writes to a bucket fail (503 SlowDown, as S3 answers an overloaded prefix)."""

    def __init__(self, bucket: str, ratio: float, seed: int) -> None:
        self.bucket = bucket
        self._ratio = ratio
        self._rng = rng(seed, "s3")
        self._lock = threading.Lock()
        self.failed = 0

    def __call__(self, bucket: str, key: str) -> bool:
        if bucket != self.bucket:
            return False
        with self._lock:
            fail = self._rng.random() < self._ratio
            self.failed += int(fail)
        return fail
