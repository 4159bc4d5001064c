"""Spec keys for security and static checks: lint silencing, encryption at rest, IAM policy statements.

    iam: enforce                     # enforce | report | off (default): see emulator.iam
    require_encryption: true         # lint PM009: every stream, bucket, queue and table declares encryption
    lint: {ignore: [PM003]}          # at pipeline level, or on any stream, bucket, queue, function, mapping...
    streams:
      clicks: {encryption: {kms: alias/clicks}}     # or KMS (AWS's managed key alias/aws/kinesis)
    buckets:
      out: {encryption: AES256}                      # SSE-S3; KMS (aws/s3) or {kms: alias/NAME}
    queues:
      dlq: {encryption: SQS}                         # SqsManagedSseEnabled; KMS (alias/aws/sqs) or {kms: ...}
    functions:
      enrich:
        policies:                                    # IAM statements, or a JSON/YAML file of them
          - {Effect: Allow, Action: s3:PutObject, Resource: "${bucket:out}/*"}

Statements use IAM's own spelling (``Effect``, ``Action``...) so they paste to and from templates unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from emulator.errors import ConfigError
from emulator.spec.validation import Strict, rule_error, to_config_error

RULE_ID = r"^PM\d{3}$"
KMS_KEY = r"alias/[A-Za-z0-9/_-]{1,250}|arn:aws[\w-]*:kms:\S+|[0-9a-f-]{36}"


def _yaml_off(value: Any) -> Any:
    return "off" if value is False else value  # YAML 1.1 reads a bare `off` as false


IamMode = Annotated[Literal["enforce", "report", "off"], BeforeValidator(_yaml_off)]
# ${kind:name} in a policy's Resource resolves to that resource's ARN at deploy.
POLICY_REFERENCE = re.compile(r"\$\{\s*(?P<kind>[a-z_]+)\s*:\s*(?P<name>[^}]*?)\s*\}")
POLICY_REFERENCE_KINDS = {
    "stream": "streams", "queue": "queues", "bucket": "buckets", "topic": "topics", "function": "functions",
    "state_machine": "state_machines", "table": "tables",
}


class LintSpec(Strict):
    ignore: list[str] = Field(default_factory=list)

    @field_validator("ignore")
    @classmethod
    def _ids(cls, ids: list[str]) -> list[str]:
        for index, rule in enumerate(ids):
            if not re.fullmatch(RULE_ID, rule):
                raise rule_error(f"'{rule}' is not a lint rule id", path=(index,),
                                 hint="rule ids look like PM003; `pipemu lint-rules` lists them")
        return ids


class Encryption(Strict):
    """Encryption at rest. ``kind`` is KMS, AES256 (S3's SSE-S3) or SQS (SQS-managed SSE); ``kms`` a key id, ARN
    or alias (``alias/NAME``); unset with KMS means the service's AWS-managed key."""

    kind: Literal["KMS", "AES256", "SQS"] = "KMS"
    kms: str | None = None

    @field_validator("kms")
    @classmethod
    def _key(cls, key: str | None) -> str | None:
        if key is not None and not re.fullmatch(KMS_KEY, key):
            raise rule_error(f"'{key}' is not a KMS key id, ARN or alias",
                             hint="write alias/NAME (created at deploy when missing), a key ARN or a key id")
        return key

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in ("KMS", "AES256", "SQS"):
                raise rule_error(f"unknown encryption '{value}'",
                                 hint="KMS, AES256 (buckets), SQS (queues) or {kms: alias/NAME}")
            return {"kind": value}
        if isinstance(value, dict) and "kms" in value and "kind" not in value:
            return {**value, "kind": "KMS"}
        return value

    @model_validator(mode="after")
    def _kms_only_with_kms(self) -> Encryption:
        if self.kms is not None and self.kind != "KMS":
            raise rule_error(f"a kms key goes with KMS encryption, not {self.kind}", path=("kms",))
        return self


def check_encryption(value: Encryption | None, allowed: tuple[str, ...], what: str) -> Encryption | None:
    if value is not None and value.kind not in allowed:
        raise rule_error(f"{what} cannot use {value.kind} encryption", hint=f"use {' or '.join(allowed)}")
    return value


class PolicyStatement(Strict):
    """One IAM policy statement (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html)."""

    sid: str | None = Field(None, alias="Sid")
    effect: Literal["Allow", "Deny"] = Field(alias="Effect")
    action: list[str] | None = Field(None, alias="Action")
    not_action: list[str] | None = Field(None, alias="NotAction")
    resource: list[str] | None = Field(None, alias="Resource")
    not_resource: list[str] | None = Field(None, alias="NotResource")
    condition: dict[str, dict[str, Any]] | None = Field(None, alias="Condition")

    @field_validator("action", "not_action", "resource", "not_resource", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("action", "not_action")
    @classmethod
    def _actions(cls, actions: list[str] | None) -> list[str] | None:
        for index, action in enumerate(actions or []):
            if action != "*" and not re.fullmatch(r"[A-Za-z0-9-]+:[A-Za-z0-9*?]+", action):
                raise rule_error(f"'{action}' is not an IAM action", path=(index,),
                                 hint="service:Action, e.g. s3:PutObject or kinesis:Get*")
        return actions

    @field_validator("condition")
    @classmethod
    def _operators(cls, condition: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
        from emulator.security.policy import CONTEXT_KEYS, OPERATORS, supported_operator

        for operator, keys in (condition or {}).items():
            if not supported_operator(operator):
                raise rule_error(f"condition operator '{operator}' is not evaluated by pipemu", path=(operator,),
                                 hint=f"supported: {', '.join(sorted(OPERATORS))} (and their IfExists forms)")
            for key in keys:
                if key.lower() not in {k.lower() for k in CONTEXT_KEYS}:
                    raise rule_error(f"condition key '{key}' is not known to pipemu", path=(operator, key),
                                     hint=f"supported: {', '.join(CONTEXT_KEYS)}")
        return condition

    @model_validator(mode="after")
    def _one_of_each(self) -> PolicyStatement:
        if (self.action is None) == (self.not_action is None):
            raise rule_error("a statement needs exactly one of Action and NotAction", path=("Action",))
        if (self.resource is None) == (self.not_resource is None):
            raise rule_error("an identity policy statement needs exactly one of Resource and NotResource",
                             path=("Resource",))
        return self

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


def load_policy_file(path: Path) -> list[dict[str, Any]]:
    """Statements from a JSON/YAML file: a list of statements or a policy document with ``Statement``. Checked
    here, so an error names the policy file's own line."""
    from emulator.spec.yamlsrc import YamlDoc, parse_yaml
    from emulator.stepfunctions.documents import load_document

    if path.suffix not in (".json", ".yaml", ".yml"):
        raise ConfigError("a policy file must be .json, .yaml or .yml", file=path)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    meaningful = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    start = meaningful[0] if meaningful else ""
    if start.startswith("["):  # a JSON list of statements: YAML reads it in flow style, lines unchanged
        doc = parse_yaml("Statement: " + text.replace("\t", " "), file=path, what="policy file")
    elif start.startswith("-"):  # a YAML list: one line added above it
        doc = parse_yaml("Statement:\n" + text, file=path, what="policy file")
        doc = YamlDoc(file=doc.file, data=doc.data, lines={key: line - 1 for key, line in doc.lines.items()})
    else:
        doc = load_document(path, what="policy file")
    statements = doc.data.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        raise doc.error("a policy file holds a list of statements or a document with 'Statement'",
                        hint='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", ...}]}')
    for index, statement in enumerate(statements):
        try:
            PolicyStatement.model_validate(statement)
        except ValidationError as exc:
            nested = YamlDoc(file=doc.file, data=statement if isinstance(statement, dict) else {},
                             lines={key[2:]: line for key, line in doc.lines.items()
                                    if key[:2] == ("Statement", index)})
            raise to_config_error(exc, nested) from None
    return list(statements)


__all__ = [
    "POLICY_REFERENCE", "POLICY_REFERENCE_KINDS", "Encryption", "IamMode", "LintSpec", "PolicyStatement",
    "check_encryption", "load_policy_file",
]

