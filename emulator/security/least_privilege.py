"""The policy each function needs: the least-privilege statements that cover what a run's calls exercised, and
their difference from the declared policy (grants never used, calls the declared policy does not allow).

Resources are the ARNs called, except S3 objects, whose keys a run invents: their bucket plus the keys' longest
common folder and ``*`` (``arn:aws:s3:::out/clicks/*``), and Step Functions executions (``execution:SM:*``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from emulator.security.audit import CallRecord
from emulator.security.policy import action_matches, evaluate, resource_matches

MAX_CALLS_IN_REPORT = 2000


def _general(resources: set[str]) -> list[str]:
    """Collapse run-specific resource names (S3 object keys, execution names) into patterns."""
    objects: dict[str, list[str]] = defaultdict(list)
    out: set[str] = set()
    for resource in resources:
        if resource.startswith("arn:aws:s3:::") and "/" in resource:
            bucket, key = resource[len("arn:aws:s3:::"):].split("/", 1)
            objects[bucket].append(key)
        elif ":states:" in resource and ":execution:" in resource:
            out.add(resource.rsplit(":", 1)[0] + ":*")
        else:
            out.add(resource)
    for bucket, keys in objects.items():
        common: list[str] = []
        for segments in zip(*(k.split("/")[:-1] for k in keys), strict=False):
            if any(s != segments[0] for s in segments):
                break
            common.append(segments[0])
        out.add(f"arn:aws:s3:::{bucket}/{''.join(c + '/' for c in common)}*")
    return sorted(out)


def least_privilege(calls: Iterable[CallRecord]) -> list[dict[str, Any]]:
    """Allow statements covering every call: actions that share the same resources share a statement."""
    by_action: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        by_action[call.action].add(call.resource)
    by_resources: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for action, resources in sorted(by_action.items()):
        by_resources[tuple(_general(resources))].append(action)
    return [{"Effect": "Allow", "Action": actions if len(actions) > 1 else actions[0],
             "Resource": list(resources) if len(resources) > 1 else resources[0]}
            for resources, actions in sorted(by_resources.items(), key=lambda item: item[1])]


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def unused_grants(declared: Sequence[Mapping[str, Any]], calls: Sequence[CallRecord]) -> list[str]:
    """``action on resource`` of each declared Allow that no call of the run used."""
    out = []
    for statement in declared:
        if statement.get("Effect") != "Allow" or "Action" not in statement or "Resource" not in statement:
            continue
        for action in _as_list(statement["Action"]):
            for resource in _as_list(statement["Resource"]):
                if not any(action_matches(action, c.action) and resource_matches(resource, c.resource)
                           for c in calls):
                    out.append(f"{action} on {resource}")
    return out


def missing_grants(declared: Sequence[Mapping[str, Any]], calls: Sequence[CallRecord]) -> list[str]:
    """``action on resource`` the declared statements do not allow (whatever the iam mode was), resources
    generalised as in ``least_privilege`` (one line for a run's many object keys)."""
    refused = [c for c in calls if not evaluate(declared, c.action, c.resource).allowed]
    return [f"{action} on {resource}" for statement in least_privilege(refused)
            for action in _as_list(statement["Action"]) for resource in _as_list(statement["Resource"])]


def to_references(statements: list[dict[str, Any]], arns: Mapping[str, str]) -> list[dict[str, Any]]:
    """The same statements with deployed ARNs written as the spec's ``${kind:name}`` (``arns``: ARN -> ref)."""
    ordered = sorted(arns.items(), key=lambda item: -len(item[0]))  # longest first: a bucket ARN prefixes objects

    def ref(resource: str) -> str:
        for arn, reference in ordered:
            if resource == arn or resource.startswith(arn + "/"):
                return reference + resource[len(arn):]
        return resource

    return [{**s, "Resource": ([ref(r) for r in s["Resource"]] if isinstance(s["Resource"], list)
                               else ref(s["Resource"]))} for s in statements]


def summarize(records: Sequence[CallRecord], *, mode: str, declared: Mapping[str, list[dict[str, Any]]],
              references: Mapping[str, str], dropped: int = 0) -> dict[str, Any]:
    """The report's ``iam`` section: the call trail (capped), denials, and per function the policy it needs."""
    functions: dict[str, Any] = {}
    for name in sorted({r.function for r in records} | set(declared)):
        mine = [r for r in records if r.function == name]
        needed = least_privilege(mine)
        counts: dict[tuple[str, str, str], int] = defaultdict(int)
        for r in mine:
            counts[(r.action, r.resource, r.outcome)] += 1
        functions[name] = {
            "calls": len(mine),
            "used": [{"action": a, "resource": res, "outcome": o, "count": n}
                     for (a, res, o), n in sorted(counts.items())][:500],
            "policy": {"Version": "2012-10-17", "Statement": needed},
            "spec_policies": to_references(needed, references),
            "declared": declared.get(name),
            "unused_grants": unused_grants(declared.get(name) or [], mine) if name in declared else [],
            "missing_grants": missing_grants(declared.get(name) or [], mine),
        }
    denied = [r for r in records if r.outcome in ("denied", "would_be_denied")]
    return {
        "mode": mode,
        "calls_total": len(records) + dropped,
        "calls": [r.as_dict() for r in records[:MAX_CALLS_IN_REPORT]],
        "denied_total": len(denied),
        "denied": [r.as_dict() for r in denied[:100]],
        "functions": functions,
    }
