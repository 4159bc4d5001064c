"""Recordings: the exact events of a run (payload bytes, partition key, schedule offset, fault), as JSON lines.

A recording replays without calling Faker, so it survives Faker upgrades (the same seed is not stable across
Faker releases). The first line is a header; every other line is one event:

    {"pipemu_recording": 1, "scenario": "clickstream-smoke", "seed": 42, "count": 1000, "faker": "40.63.0"}
    {"i": 0, "pk": "17", "offset": 0.0, "key": "5b1c...", "data": "{\\"event_id\\": ...}"}
    {"i": 1, "pk": "3", "offset": 0.002, "key": "9e0a...", "b64": "AAEC...", "fault": "poison:malformed_json"}
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from emulator.errors import ConfigError
from emulator.replay.generate import GeneratedEvent
from emulator.replay.rates import Schedule

FORMAT = 1


def write_recording(
    events: Iterable[GeneratedEvent], out: IO[str], *, scenario: str, seed: int, schedule: Schedule,
    correlate: str | None,
) -> int:
    header = {"pipemu_recording": FORMAT, "scenario": scenario, "seed": seed, "faker": metadata.version("faker"),
              "schedule": schedule.describe()}
    out.write(json.dumps(header) + "\n")
    n = 0
    for event in events:
        line: dict[str, Any] = {"i": event.index, "pk": event.partition_key,
                                "offset": schedule.offset(event.index, event.offset)}
        if correlate is not None and correlate in event.fields:
            line["key"] = str(event.fields[correlate])
        try:
            line["data"] = event.payload.decode("utf-8")
        except UnicodeDecodeError:
            line["b64"] = base64.b64encode(event.payload).decode()
        if event.fault is not None:
            line["fault"] = event.fault
        out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        n += 1
    return n


def read_recording(path: Path, *, correlate: str | None) -> Iterator[GeneratedEvent]:
    """Stream a recording's events; a bad line is a ConfigError naming the file and line."""
    if not path.is_file():
        raise ConfigError("recording not found", file=path, hint="make one with `pipemu record SCENARIO -o FILE`")
    return _read(path, correlate)


def _read(path: Path, correlate: str | None) -> Iterator[GeneratedEvent]:
    with path.open(encoding="utf-8") as f:
        first = f.readline()
        try:
            header = json.loads(first)
            if header.get("pipemu_recording") != FORMAT:
                raise ValueError
        except (ValueError, AttributeError, RecursionError):
            raise ConfigError("not a pipemu recording (bad header line)", file=path, line=1,
                              hint="make one with `pipemu record SCENARIO -o FILE`") from None
        for lineno, text in enumerate(f, start=2):
            if not text.strip():
                continue
            try:
                line = json.loads(text)
                payload = line["data"].encode("utf-8") if "data" in line else base64.b64decode(line["b64"])
                index, pk = int(line["i"]), str(line["pk"])
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise ConfigError(f"bad event line: {exc!r}", file=path, line=lineno,
                                  hint="each line needs i, pk and data (or b64)") from None
            try:
                decoded = json.loads(payload)
            except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth: sent as it is
                decoded = None
            fields: dict[str, Any] = dict(decoded) if isinstance(decoded, dict) else {}
            if correlate is not None and "key" in line:
                fields[correlate] = line["key"]
            yield GeneratedEvent(index=index, partition_key=pk, payload=payload, fields=fields,
                                 offset=line.get("offset"), fault=line.get("fault"))
