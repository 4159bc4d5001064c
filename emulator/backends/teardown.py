"""Remembering what a run created through a backend's clients, and deleting it again.

Backends that cannot wipe their whole state (LocalStack, real AWS) hand out clients wrapped in
``TrackingClient``; ``teardown`` then deletes exactly what those clients created, in dependency order: mappings,
state machines, functions, topics, queues, streams, tables, buckets (emptied first, versions included), roles. With a
``prefix`` it also sweeps anything else whose name starts with it (a run that crashed before tracking).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

log = logging.getLogger(__name__)

_MISSING = frozenset(
    {
        "ResourceNotFoundException", "NoSuchBucket", "NoSuchEntity", "NotFound", "NotFoundException",
        "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "StateMachineDoesNotExist",
    }
)


@dataclass
class CreatedResources:
    mappings: list[str] = field(default_factory=list)  # UUIDs
    state_machines: list[str] = field(default_factory=list)  # ARNs
    functions: list[str] = field(default_factory=list)  # names
    topics: list[str] = field(default_factory=list)  # ARNs
    queues: list[str] = field(default_factory=list)  # URLs
    streams: list[str] = field(default_factory=list)  # names
    tables: list[str] = field(default_factory=list)  # names
    buckets: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, value: str) -> None:
        with self.lock:
            items: list[str] = getattr(self, kind)
            if value not in items:
                items.append(value)

    def take(self) -> CreatedResources:
        """A copy to delete, leaving this one empty."""
        with self.lock:
            out = CreatedResources(
                list(self.mappings), list(self.state_machines), list(self.functions), list(self.topics),
                list(self.queues), list(self.streams), list(self.tables), list(self.buckets),
                list(self.roles),
            )
            for kind in _KINDS:
                getattr(self, kind).clear()
            return out


_KINDS = ("mappings", "state_machines", "functions", "topics", "queues", "streams", "tables", "buckets", "roles")
# operation -> (kind, where the identifier is: "request:Key" or "response:Key")
_TRACKED: dict[str, tuple[str, str]] = {
    "create_event_source_mapping": ("mappings", "response:UUID"),
    "create_state_machine": ("state_machines", "response:stateMachineArn"),
    "create_function": ("functions", "request:FunctionName"),
    "create_topic": ("topics", "response:TopicArn"),
    "create_queue": ("queues", "response:QueueUrl"),
    "create_stream": ("streams", "request:StreamName"),
    "create_table": ("tables", "request:TableName"),
    "create_bucket": ("buckets", "request:Bucket"),
    "create_role": ("roles", "request:RoleName"),
}


class TrackingClient:
    """A boto3 client that records what its ``create_*`` calls created."""

    def __init__(self, real: Any, created: CreatedResources) -> None:
        self._real = real
        self._created = created

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._real, name)
        if name not in _TRACKED:
            return attribute
        kind, where = _TRACKED[name]
        source, key = where.split(":")

        def call(**kwargs: Any) -> Any:
            response = attribute(**kwargs)
            value = (kwargs if source == "request" else response).get(key)
            if value:
                self._created.add(kind, str(value))
            return response

        return call


def _quietly(errors: list[str], what: str, action: Callable[[], Any]) -> None:
    try:
        action()
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in _MISSING:
            errors.append(f"{what}: {exc.response['Error']['Code']}: {exc.response['Error'].get('Message', '')}")


def _empty_bucket(s3: Any, bucket: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


def _delete_role(iam: Any, role: str) -> None:
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        for policy in page["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
        for name in page["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=name)
    iam.delete_role(RoleName=role)


def sweep(client: Callable[[str], Any], prefix: str, into: CreatedResources) -> None:
    """Add everything whose name starts with ``prefix`` to ``into``. Refuses an empty prefix."""
    if len(prefix) < 4:
        raise ValueError(f"refusing to sweep resources by the short prefix {prefix!r}")
    lam = client("lambda")
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            if fn["FunctionName"].startswith(prefix):
                into.add("functions", fn["FunctionName"])
                for m in lam.list_event_source_mappings(FunctionName=fn["FunctionName"])["EventSourceMappings"]:
                    into.add("mappings", m["UUID"])
    for name in client("kinesis").list_streams().get("StreamNames", []):
        if name.startswith(prefix):
            into.add("streams", name)
    for page in client("dynamodb").get_paginator("list_tables").paginate():
        for table in page["TableNames"]:
            if table.startswith(prefix):
                into.add("tables", table)
    for bucket in client("s3").list_buckets().get("Buckets", []):
        if bucket["Name"].startswith(prefix):
            into.add("buckets", bucket["Name"])
    for url in client("sqs").list_queues(QueueNamePrefix=prefix).get("QueueUrls", []):
        into.add("queues", url)
    for page in client("sns").get_paginator("list_topics").paginate():
        for topic in page["Topics"]:
            if topic["TopicArn"].rsplit(":", 1)[-1].startswith(prefix):
                into.add("topics", topic["TopicArn"])
    for page in client("stepfunctions").get_paginator("list_state_machines").paginate():
        for sm in page["stateMachines"]:
            if sm["name"].startswith(prefix):
                into.add("state_machines", sm["stateMachineArn"])
    for page in client("iam").get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role["RoleName"].startswith(prefix):
                into.add("roles", role["RoleName"])


def _delete_bucket(s3: Any, bucket: str) -> None:
    _empty_bucket(s3, bucket)
    s3.delete_bucket(Bucket=bucket)


def teardown(client: Callable[[str], Any], created: CreatedResources) -> list[str]:
    """Delete ``created`` in dependency order; returns what could not be deleted (already gone is fine)."""
    clients: dict[str, Any] = {}

    def c(service: str) -> Any:
        if service not in clients:
            clients[service] = client(service)
        return clients[service]

    steps: list[tuple[str, Callable[[], Any]]] = []
    steps += [(f"mapping {u}", partial(lambda u: c("lambda").delete_event_source_mapping(UUID=u), u))
              for u in created.mappings]
    steps += [(f"state machine {a}", partial(lambda a: c("stepfunctions").delete_state_machine(stateMachineArn=a), a))
              for a in created.state_machines]
    steps += [(f"function {n}", partial(lambda n: c("lambda").delete_function(FunctionName=n), n))
              for n in created.functions]
    steps += [(f"topic {a}", partial(lambda a: c("sns").delete_topic(TopicArn=a), a)) for a in created.topics]
    steps += [(f"queue {u}", partial(lambda u: c("sqs").delete_queue(QueueUrl=u), u)) for u in created.queues]
    steps += [
        (f"stream {n}", partial(lambda n: c("kinesis").delete_stream(StreamName=n, EnforceConsumerDeletion=True), n))
        for n in created.streams
    ]
    steps += [(f"table {n}", partial(lambda n: c("dynamodb").delete_table(TableName=n), n)) for n in created.tables]
    steps += [(f"bucket {b}", partial(lambda b: _delete_bucket(c("s3"), b), b)) for b in created.buckets]
    steps += [(f"role {r}", partial(lambda r: _delete_role(c("iam"), r), r)) for r in created.roles]
    errors: list[str] = []
    for what, action in steps:
        _quietly(errors, what, action)
    for error in errors:
        log.warning("teardown: could not delete %s", error)
    return errors
