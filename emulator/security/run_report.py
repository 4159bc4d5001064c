"""The ``iam`` section of a run's report: what each function called (the audit trail) and the policy it needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.security.audit import CallAudit, CallRecord
from emulator.security.least_privilege import summarize
from emulator.security.roles import DESTINATION_ACTION, SOURCE_ACTIONS

if TYPE_CHECKING:
    from emulator.deploy import Deployment
    from emulator.spec.pipeline import PipelineSpec


def mapping_calls(pipeline: PipelineSpec, deployment: Deployment, at: float) -> list[CallRecord]:
    """What each mapping does with its function's role on AWS: read the source, send failed batches. pipemu's
    pollers make these calls with the harness's credentials, so they are added here, marked ``by_mapping``."""
    out = []
    for mapping in pipeline.mappings:
        source = deployment.arn_of(mapping.source)
        out += [CallRecord(at, mapping.function, action, source, "by_mapping")
                for action in SOURCE_ACTIONS[mapping.source_kind]]
        if mapping.on_failure is not None:
            kind = mapping.on_failure.split("/", 1)[0]
            action, _ = DESTINATION_ACTION[kind]
            target = deployment.arn_of(mapping.on_failure)
            out.append(CallRecord(at, mapping.function, action, f"{target}/*" if kind == "bucket" else target,
                                  "by_mapping"))
    return out


def references(deployment: Deployment) -> dict[str, str]:
    """Deployed ARN -> the spec's ``${kind:name}``."""
    refs = {arn: f"${{stream:{name}}}" for name, arn in deployment.streams.items()}
    refs |= {arn: f"${{queue:{name}}}" for name, arn in deployment.queue_arns.items()}
    refs |= {f"arn:aws:s3:::{bucket}": f"${{bucket:{name}}}" for name, bucket in deployment.buckets.items()}
    refs |= {arn: f"${{topic:{name}}}" for name, arn in deployment.topics.items()}
    refs |= {arn: f"${{function:{name}}}" for name, arn in deployment.functions.items()}
    refs |= {arn: f"${{state_machine:{name}}}" for name, arn in deployment.state_machines.items()}
    refs |= {arn: f"${{table:{name}}}" for name, arn in deployment.table_arns.items()}
    return refs


def iam_section(pipeline: PipelineSpec, deployment: Deployment | None, audit: CallAudit | None,
                since: float) -> dict[str, Any] | None:
    """None when the backend does not see the functions' calls (only the embedded backend does)."""
    if deployment is None or audit is None:
        return None
    calls = mapping_calls(pipeline, deployment, since) + audit.records(since)
    return summarize(calls, mode=pipeline.iam, declared=deployment.policies, references=references(deployment),
                     dropped=audit.dropped)
