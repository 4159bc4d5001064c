"""The settings ``pipemu tune`` varies: ``--vary KEY=V1,V2,...`` on one mapping of the pipeline, every
combination of the values given.

Keys: the mapping's own (``batch_size``, ``maximum_batching_window_in_seconds``, ``parallelization_factor``,
``maximum_retry_attempts``, ...), ``memory`` and ``architecture`` of the function it invokes, and ``shards`` of
the stream it reads.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from emulator.errors import ConfigError
from emulator.spec.mapping import MappingSpec
from emulator.spec.pipeline import PipelineSpec

FUNCTION_KEYS = ("memory", "architecture")
STREAM_KEYS = ("shards",)
_NOT_VARIED = frozenset({"source", "function", "filters", "on_failure", "scaling_config", "function_response_types",
                         "starting_position_timestamp"})


@dataclass(frozen=True)
class Combination:
    values: dict[str, Any]  # key -> value, in --vary order
    pipeline: PipelineSpec
    mapping_index: int

    @property
    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.values.items())


def _value(text: str) -> Any:
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_vary(items: list[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    keys = sorted(set(MappingSpec.model_fields) - _NOT_VARIED) + list(FUNCTION_KEYS + STREAM_KEYS)
    for item in items:
        key, sep, values = item.partition("=")
        key = key.strip()
        if not sep or not values.strip():
            raise ConfigError(f"--vary '{item}' should be KEY=V1,V2", key="--vary",
                              hint="e.g. --vary batch_size=1,10,100")
        if key not in keys:
            raise ConfigError(f"cannot vary '{key}'", key="--vary", hint=f"keys: {', '.join(keys)}")
        if key in out:
            raise ConfigError(f"'{key}' is varied twice", key="--vary",
                              hint="give each key once, its values comma-separated")
        out[key] = [_value(v) for v in values.split(",") if v.strip()]
    if not out:
        raise ConfigError("nothing to vary", key="--vary", hint="e.g. --vary batch_size=1,10,100")
    return out


def mapping_index(pipeline: PipelineSpec, source: str, chosen: int | None) -> int:
    """The mapping to tune: ``chosen`` (an index), else the first mapping reading the scenario's source."""
    if chosen is not None:
        if not 0 <= chosen < len(pipeline.mappings):
            raise ConfigError(f"the pipeline has {len(pipeline.mappings)} mapping(s), there is no #{chosen}",
                              file=pipeline.source_path, key="--mapping", hint="mappings are counted from 0")
        return chosen
    for i, m in enumerate(pipeline.mappings):
        if m.source == source:
            return i
    if pipeline.mappings:
        return 0
    raise ConfigError("the pipeline has no event source mapping to tune", file=pipeline.source_path,
                      key="mappings", hint="tune varies a mapping's settings")


def _apply(pipeline: PipelineSpec, index: int, values: dict[str, Any]) -> PipelineSpec:
    mapping = pipeline.mappings[index]
    mapping_values = {k: v for k, v in values.items() if k not in FUNCTION_KEYS + STREAM_KEYS}
    try:
        new_mapping = MappingSpec.model_validate({**mapping.model_dump(exclude_unset=True), **mapping_values})
        functions = dict(pipeline.functions)
        fn_values = {k: v for k, v in values.items() if k in FUNCTION_KEYS}
        if fn_values:
            fn = functions[mapping.function]
            functions[mapping.function] = type(fn).model_validate(
                {**fn.model_dump(), **fn_values}, context={"base_dir": pipeline.source_path.parent})
        streams = dict(pipeline.streams)
        if "shards" in values and mapping.source_kind == "stream":
            stream = streams[mapping.source_name]
            streams[mapping.source_name] = stream.model_copy(update={"shards": int(values["shards"])})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"{' '.join(f'{k}={v}' for k, v in values.items())}: {first['msg']}", key="--vary",
                          hint="every combination must be a valid mapping") from None
    mappings = list(pipeline.mappings)
    mappings[index] = new_mapping
    return pipeline.model_copy(update={"mappings": mappings, "functions": functions, "streams": streams})


def combinations(pipeline: PipelineSpec, index: int, vary: dict[str, list[Any]]) -> list[Combination]:
    keys = list(vary)
    return [
        Combination(dict(zip(keys, values, strict=True)), _apply(pipeline, index, dict(zip(keys, values, strict=True))),
                    index)
        for values in itertools.product(*(vary[k] for k in keys))
    ]


def spec_patch(pipeline: PipelineSpec, combo: Combination) -> str:
    """A YAML snippet of the pipeline with the combination applied: the mapping (and function/stream) entries."""
    import yaml

    mapping = combo.pipeline.mappings[combo.mapping_index]
    doc: dict[str, Any] = {"mappings": [mapping.model_dump(mode="json", exclude_unset=True)
                                        | {k: v for k, v in combo.values.items()
                                           if k not in FUNCTION_KEYS + STREAM_KEYS}]}
    fn_values = {k: v for k, v in combo.values.items() if k in FUNCTION_KEYS}
    if fn_values:
        doc["functions"] = {mapping.function: fn_values}
    if "shards" in combo.values and mapping.source_kind == "stream":
        doc["streams"] = {mapping.source_name: {"shards": combo.values["shards"]}}
    header = (f"# {pipeline.source_path.name}: mappings[{combo.mapping_index}] ({mapping.source} -> "
              f"{mapping.function}) as tuned; changed: {', '.join(combo.values)}\n")
    return header + yaml.safe_dump(doc, sort_keys=False)
