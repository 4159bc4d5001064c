"""The pipeline spec: resources, functions and event source mappings, as written in ``pipeline.yaml``.

Mappings live in ``emulator.spec.mapping``; checks across resources (references, AWS naming rules) in
``emulator.spec.refs``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from emulator.spec.mapping import MappingSpec, ScalingConfig, split_ref
from emulator.spec.security import (
    Encryption,
    IamMode,
    LintSpec,
    PolicyStatement,
    check_encryption,
    load_policy_file,
)
from emulator.spec.tables import TableSpec
from emulator.spec.validation import Strict, load_document, rule_error

HANDLER_PATTERN = r"^[A-Za-z_][\w./-]*\.[A-Za-z_]\w*$"
Runtime = Literal[
    "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "nodejs18.x", "nodejs20.x", "nodejs22.x"
]

# Lambda refuses to create a function that sets these
# (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
RESERVED_ENV = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
PROJECT_MARKERS = ("pyproject.toml", ".git", "pipemu.toml")


def project_root(start: Path) -> Path:
    """The nearest ancestor of ``start`` that looks like a project (pyproject.toml, .git), else ``start``."""
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            return folder
    return start


def _resolve(value: Path, info: ValidationInfo) -> Path:
    """Resolve a path from the pipeline file; it may not leave the project (a shared pipeline must not zip up,
    say, ~/.aws into a function)."""
    base = Path((info.context or {}).get("base_dir") or Path.cwd()).resolve()
    path = value.expanduser()
    if not path.is_absolute():
        path = base / path
    path = path.resolve()
    root = project_root(base)
    if not path.is_relative_to(root):
        raise rule_error(f"{path} is outside the project directory {root}",
                         hint="keep handler code and definitions inside the project (symlinks are followed)")
    return path


def _relative_hint(info: ValidationInfo) -> str:
    base = (info.context or {}).get("base_dir")
    where = f"the pipeline file's directory ({base})" if base is not None else "the current directory"
    return f"paths are relative to {where}"


class StreamSpec(Strict):
    shards: int = Field(1, ge=1, le=10000)
    # on_demand streams bill per GB and stream-hour instead of shard-hours (emulator.cost) and start with 4 shards,
    # as on AWS (https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html); shards is ignored.
    mode: Literal["provisioned", "on_demand"] = "provisioned"
    retention_hours: int = Field(24, ge=24, le=8760)
    # security and lint keys (emulator.spec.security)
    encryption: Encryption | None = None
    lint: LintSpec | None = None

    @field_validator("encryption")
    @classmethod
    def _stream_sse(cls, value: Encryption | None) -> Encryption | None:
        return check_encryption(value, ("KMS",), "a Kinesis stream")


class NotificationSpec(Strict):
    function: str
    events: list[str] = Field(default_factory=lambda: ["s3:ObjectCreated:*"], min_length=1)
    prefix: str | None = None
    suffix: str | None = None

    @field_validator("events")
    @classmethod
    def _s3_events(cls, events: list[str]) -> list[str]:
        for index, event in enumerate(events):
            if not re.fullmatch(r"s3:[A-Za-z]+(:[A-Za-z*]+)*", event):
                raise rule_error(f"'{event}' is not an S3 event type", path=(index,),
                                 hint="e.g. s3:ObjectCreated:* or s3:ObjectRemoved:Delete")
        return events


class BucketSpec(Strict):
    notifications: list[NotificationSpec] = Field(default_factory=list)
    # security and lint keys (emulator.spec.security)
    encryption: Encryption | None = None
    lint: LintSpec | None = None

    @field_validator("encryption")
    @classmethod
    def _bucket_sse(cls, value: Encryption | None) -> Encryption | None:
        return check_encryption(value, ("AES256", "KMS"), "a bucket")


class RedriveSpec(Strict):
    dead_letter: str
    max_receive_count: int = Field(ge=1, le=1000)


class QueueSpec(Strict):
    fifo: bool = False
    visibility_timeout: int = Field(30, ge=0, le=43200)
    message_retention_seconds: int | None = Field(None, ge=60, le=1209600)
    content_based_deduplication: bool = False
    redrive: RedriveSpec | None = None
    # security and lint keys (emulator.spec.security)
    encryption: Encryption | None = None
    lint: LintSpec | None = None

    @field_validator("encryption")
    @classmethod
    def _queue_sse(cls, value: Encryption | None) -> Encryption | None:
        return check_encryption(value, ("SQS", "KMS"), "a queue")


class TopicSpec(Strict):
    subscriptions: list[str] = Field(default_factory=list)

    @field_validator("subscriptions")
    @classmethod
    def _queue_refs(cls, subs: list[str]) -> list[str]:
        for index, sub in enumerate(subs):
            if not re.fullmatch(r"queue/[^/\s]+", sub):
                raise rule_error(f"subscription '{sub}' should be queue/NAME", path=(index,))
        return subs


class FunctionDef(Strict):
    code: Path
    handler: str = Field(pattern=HANDLER_PATTERN)
    runtime: Runtime = "python3.12"
    timeout: int = Field(3, ge=1, le=900)
    memory: int = Field(128, ge=128, le=10240)
    architecture: Literal["x86_64", "arm64"] = "x86_64"  # what Lambda bills GB-seconds at
    environment: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    # security and lint keys (emulator.spec.security): the execution role's statements, or a file of them
    policies: list[PolicyStatement] | None = None
    lint: LintSpec | None = None

    @field_validator("policies", mode="before")
    @classmethod
    def _policy_file(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        path = _resolve(Path(value), info)
        if not path.is_file():
            raise rule_error(f"policy file {path} {'is not a file' if path.exists() else 'does not exist'}",
                             hint=_relative_hint(info))
        return load_policy_file(path)

    @field_validator("code")
    @classmethod
    def _code_dir(cls, value: Path, info: ValidationInfo) -> Path:
        path = _resolve(value, info)
        if not path.is_dir():
            state = "is not a directory" if path.exists() else "does not exist"
            raise rule_error(f"code directory {path} {state}", hint=_relative_hint(info))
        return path

    @field_validator("environment", mode="before")
    @classmethod
    def _env_strings(cls, env: Any) -> Any:
        if env is None:
            return {}
        if not isinstance(env, dict):
            return env
        out: dict[str, Any] = {}
        for key, value in env.items():
            if key in RESERVED_ENV:
                raise rule_error(f"'{key}' is reserved by Lambda", path=(key,), hint="choose another name")
            if not re.fullmatch(r"[A-Za-z]\w*", key):
                raise rule_error(f"'{key}' is not a valid variable name", path=(key,),
                                 hint="letters, digits and underscores, starting with a letter")
            if isinstance(value, bool):
                out[key] = "true" if value else "false"
            elif isinstance(value, int | float | str):
                out[key] = str(value)
            else:
                raise rule_error(f"environment values must be strings, got {type(value).__name__}",
                                 path=(key,), hint="quote the value")
        return out


class StateMachineSpec(Strict):
    definition: Path
    type: Literal["STANDARD", "EXPRESS"] = "STANDARD"
    lint: LintSpec | None = None

    @field_validator("definition")
    @classmethod
    def _definition_file(cls, value: Path, info: ValidationInfo) -> Path:
        path = _resolve(value, info)
        if not path.is_file():
            state = "is not a file" if path.exists() else "does not exist"
            raise rule_error(f"definition {path} {state}", hint=_relative_hint(info))
        return path

def _none_as_empty(value: Any) -> Any:
    if value is None:
        return {}
    if isinstance(value, dict):
        return {name: ({} if body is None else body) for name, body in value.items()}
    return value


class PipelineSpec(Strict):
    name: str = Field(alias="pipeline", min_length=1)
    streams: dict[str, StreamSpec] = Field(default_factory=dict)
    buckets: dict[str, BucketSpec] = Field(default_factory=dict)
    queues: dict[str, QueueSpec] = Field(default_factory=dict)
    topics: dict[str, TopicSpec] = Field(default_factory=dict)
    tables: dict[str, TableSpec] = Field(default_factory=dict)
    functions: dict[str, FunctionDef] = Field(default_factory=dict)
    mappings: list[MappingSpec] = Field(default_factory=list)
    state_machines: dict[str, StateMachineSpec] = Field(default_factory=dict)
    # security and lint keys (emulator.spec.security)
    iam: IamMode = "off"
    require_encryption: bool = False
    lint: LintSpec | None = None
    source_path: Path = Field(exclude=True)

    @field_validator("streams", "queues", "topics", "tables", "functions", "state_machines", mode="before")
    @classmethod
    def _empty_ok(cls, value: Any) -> Any:
        return _none_as_empty(value)

    @field_validator("buckets", mode="before")
    @classmethod
    def _bucket_names(cls, value: Any) -> Any:
        if value is None or not isinstance(value, list):
            return _none_as_empty(value)
        out: dict[str, Any] = {}
        for index, name in enumerate(value):
            if not isinstance(name, str):
                raise rule_error(f"a bucket name must be a string, got {name!r}", path=(index,))
            if name in out:
                raise rule_error(f"bucket '{name}' is listed twice", path=(index,))
            out[name] = {}
        return out

    @field_validator("mappings", mode="before")
    @classmethod
    def _no_mappings(cls, value: Any) -> Any:
        return [] if value is None else value


def load_pipeline(path: str | Path) -> PipelineSpec:
    """Load and check ``pipeline.yaml``. Every problem is a ``ConfigError`` naming file, line and key."""
    from emulator.spec.refs import check_pipeline_refs

    spec, doc = load_document(path, PipelineSpec, what="pipeline file")
    check_pipeline_refs(spec, doc)
    from emulator.spec.policy_refs import check_policy_refs

    check_policy_refs(spec, doc)
    return spec


__all__ = [
    "BucketSpec", "FunctionDef", "MappingSpec", "NotificationSpec", "PipelineSpec", "QueueSpec",
    "RedriveSpec", "ScalingConfig", "StateMachineSpec", "StreamSpec", "TableSpec", "TopicSpec", "load_pipeline",
    "split_ref",
]
