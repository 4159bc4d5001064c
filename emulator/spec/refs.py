"""Checks across a parsed pipeline: names follow AWS rules, and every reference names a declared resource."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from emulator.spec.mapping import split_ref
from emulator.spec.yamlsrc import KeyPath, YamlDoc, close_match_hint

if TYPE_CHECKING:
    from emulator.spec.pipeline import PipelineSpec

# What AWS accepts for each resource name (CreateStream, CreateBucket, CreateQueue, CreateTopic,
# CreateFunction, CreateStateMachine).
_NAME_RULES: dict[str, tuple[str, str]] = {
    "streams": (r"[A-Za-z0-9_.-]{1,128}", "1-128 letters, digits, '_', '-' or '.'"),
    "buckets": (r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "3-63 lowercase letters, digits, '-' or '.'"),
    "queues": (r"[A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}\.fifo", "1-80 letters, digits, '-' or '_'"),
    "topics": (r"[A-Za-z0-9_-]{1,256}", "1-256 letters, digits, '-' or '_'"),
    "functions": (r"[A-Za-z0-9_-]{1,64}", "1-64 letters, digits, '-' or '_'"),
    "state_machines": (r"[A-Za-z0-9_-]{1,80}", "1-80 letters, digits, '-' or '_'"),
    "tables": (r"[A-Za-z0-9_.-]{3,255}", "3-255 letters, digits, '_', '-' or '.'"),
}
_KIND_TO_SECTION = {
    "stream": "streams", "queue": "queues", "topic": "topics", "bucket": "buckets", "table": "tables",
}


def check_reference(
    doc: YamlDoc, path: KeyPath, name: str, declared: Mapping[str, Any], section: str, *, where: str = ""
) -> None:
    """Raise a ConfigError at ``path`` unless ``name`` is one of ``declared``."""
    if name in declared:
        return
    singular = section.rstrip("s").replace("_", " ")
    if declared:
        hint = close_match_hint(name, declared, what=f"declared {section.replace('_', ' ')}")
    else:
        hint = f"no {section.replace('_', ' ')} are declared; add one under '{section}:'"
    raise doc.error(f"unknown {singular} '{name}'{where}", path, hint=hint)


def _section_path(doc: YamlDoc, section: str, name: str) -> KeyPath:
    value = doc.data.get(section)
    if isinstance(value, list) and name in value:
        return (section, value.index(name))
    return (section, name)


def check_pipeline_refs(spec: PipelineSpec, doc: YamlDoc) -> None:
    _check_names(spec, doc)
    _check_queues(spec, doc)
    for topic, body in spec.topics.items():
        for index, sub in enumerate(body.subscriptions):
            check_reference(doc, ("topics", topic, "subscriptions", index), split_ref(sub)[1], spec.queues,
                            "queues")
    for bucket, bucket_spec in spec.buckets.items():
        for index, note in enumerate(bucket_spec.notifications):
            check_reference(doc, ("buckets", bucket, "notifications", index, "function"), note.function,
                            spec.functions, "functions")
    for index, mapping in enumerate(spec.mappings):
        at: KeyPath = ("mappings", index)
        kind, name = split_ref(mapping.source)
        section = _KIND_TO_SECTION[kind]
        check_reference(doc, (*at, "source"), name, getattr(spec, section), section)
        check_reference(doc, (*at, "function"), mapping.function, spec.functions, "functions")
        if mapping.on_failure is not None:
            dest_kind, dest = split_ref(mapping.on_failure)
            dest_section = _KIND_TO_SECTION[dest_kind]
            check_reference(doc, (*at, "on_failure"), dest, getattr(spec, dest_section), dest_section)
        if kind == "table" and spec.tables[name].stream is None:
            raise doc.error(f"table '{name}' has no stream to map", (*at, "source"),
                            hint=f"add stream: NEW_AND_OLD_IMAGES (or NEW_IMAGE, OLD_IMAGE, KEYS_ONLY) to "
                            f"tables.{name}")
        if kind == "queue":
            queue = spec.queues[name]
            function = spec.functions[mapping.function]
            if queue.fifo and mapping.batch_size is not None and mapping.batch_size > 10:
                raise doc.error(f"batch_size {mapping.batch_size} is over 10 for FIFO queue '{name}'",
                                (*at, "batch_size"), hint="AWS caps batches from FIFO queues at 10")
            if queue.visibility_timeout < function.timeout:
                raise doc.error(
                    f"queue '{name}' visibility_timeout {queue.visibility_timeout}s is less than function "
                    f"'{mapping.function}' timeout {function.timeout}s", (*at, "source"),
                    hint="AWS rejects this mapping; set the queue's visibility_timeout to at least the "
                    "function timeout (AWS suggests 6x)",
                )


def _check_names(spec: PipelineSpec, doc: YamlDoc) -> None:
    for section, (pattern, rule) in _NAME_RULES.items():
        for name in getattr(spec, section):
            if not re.fullmatch(pattern, name):
                raise doc.error(f"'{name}' is not a valid name for {section.replace('_', ' ')}",
                                _section_path(doc, section, name), hint=f"AWS allows {rule}")


def _check_queues(spec: PipelineSpec, doc: YamlDoc) -> None:
    for name, queue in spec.queues.items():
        at: KeyPath = ("queues", name)
        if queue.fifo != name.endswith(".fifo"):
            hint = f"rename it '{name}.fifo'" if queue.fifo else "add 'fifo: true' or drop the .fifo suffix"
            raise doc.error("a FIFO queue's name must end in '.fifo', and only a FIFO queue's", at, hint=hint)
        if queue.content_based_deduplication and not queue.fifo:
            raise doc.error("content_based_deduplication needs a FIFO queue",
                            (*at, "content_based_deduplication"),
                            hint="set fifo: true (and name the queue NAME.fifo)")
        if queue.redrive is None:
            continue
        dlq = queue.redrive.dead_letter
        where = (*at, "redrive", "dead_letter")
        check_reference(doc, where, dlq, spec.queues, "queues")
        if dlq == name:
            raise doc.error("a queue cannot be its own dead-letter queue", where)
        if spec.queues[dlq].fifo != queue.fifo:
            raise doc.error(f"dead-letter queue '{dlq}' must be {'FIFO' if queue.fifo else 'standard'} like "
                            f"'{name}'", where, hint="AWS requires a queue and its DLQ to be the same type")
