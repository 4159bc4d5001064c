"""Create a pipeline's resources through the AWS API (boto3) only, so the same code deploys to moto,
LocalStack or AWS. Nothing here knows which backend it talks to.

Order matters: queues before the queues that redrive into them, destinations before mappings, functions
before mappings and bucket notifications, streams and tables ACTIVE before mappings read them.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from emulator.errors import ConfigError, WaitTimeout
from emulator.security import roles
from emulator.security.encryption import Keys, encrypt_bucket, encrypt_stream, queue_attributes, table_sse
from emulator.spec.pipeline import PipelineSpec

LAMBDA_ROLE_NAME = "pipemu-lambda-role"
SFN_ROLE_NAME = "pipemu-states-role"
_ASSUME = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass
class Deployment:
    """Names, ARNs and URLs of what was deployed, keyed by the names in the pipeline spec."""

    pipeline: str
    prefix: str = ""
    streams: dict[str, str] = field(default_factory=dict)  # name -> ARN
    stream_names: dict[str, str] = field(default_factory=dict)  # spec name -> AWS name
    buckets: dict[str, str] = field(default_factory=dict)  # name -> AWS bucket name
    queues: dict[str, str] = field(default_factory=dict)  # name -> URL
    queue_arns: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)  # name -> ARN
    functions: dict[str, str] = field(default_factory=dict)  # name -> ARN
    mappings: list[str] = field(default_factory=list)  # UUIDs in spec order
    state_machines: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)  # spec name -> AWS table name
    table_arns: dict[str, str] = field(default_factory=dict)
    table_streams: dict[str, str] = field(default_factory=dict)  # spec name -> latest stream ARN
    keys: dict[str, str] = field(default_factory=dict)  # customer KMS key as the spec names it -> key ARN
    # function -> its execution role's statements, ${...} resolved (functions that declare policies)
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def concurrency(self, spec: PipelineSpec) -> dict[str, int]:
        """Concurrent invocations each function's stream mappings drive: shards x ParallelizationFactor."""
        out = {arn: 1 for arn in self.functions.values()}
        for m in spec.mappings:
            if m.source.startswith(("stream/", "table/")):
                arn = self.functions[m.function]
                # A new table's stream has one open shard (moto's and, at low write rates, AWS's).
                shards = spec.streams[m.source_name].shards if m.source_kind == "stream" else 1
                out[arn] = min(10, max(out[arn], shards * (m.parallelization_factor or 1)))
        return out

    def arn_of(self, ref: str) -> str:
        """ARN for a spec reference like ``queue/dlq``, ``topic/alerts``, ``bucket/out``, ``stream/clicks``."""
        kind, name = ref.split("/", 1)
        if kind == "queue":
            return self.queue_arns[name]
        if kind == "topic":
            return self.topics[name]
        if kind == "bucket":
            return f"arn:aws:s3:::{self.buckets[name]}"
        if kind == "stream":
            return self.streams[name]
        if kind == "table":  # a mapping's source: the table's stream
            return self.table_streams[name]
        raise KeyError(ref)


def zip_code(code_dir: Path) -> bytes:
    """A deterministic zip of a handler directory: same files, same bytes, same CodeSha256."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(code_dir.rglob("*")):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            info = zipfile.ZipInfo(path.relative_to(code_dir).as_posix(), date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def check_handler_file(spec: PipelineSpec, name: str) -> None:
    """The handler's module must exist in the code directory: fail at deploy, before any event is sent."""
    fn = spec.functions[name]
    if fn.runtime.startswith("nodejs"):
        # Node.js: the part of the name before the first dot after the last "/" names a file tried as is,
        # then with .js, .mjs and .cjs (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html).
        folder, _, leaf = fn.handler.rpartition("/")
        module = f"{folder}/{leaf.split('.', 1)[0]}" if folder else leaf.split(".", 1)[0]
        candidates = [fn.code / f"{module}{ext}" for ext in (".js", ".mjs", ".cjs", "")]
        expected = f"{module}.js or {module}.mjs"
    else:
        module = fn.handler.rsplit(".", 1)[0].replace(".", "/")
        candidates = [fn.code / f"{module}.py", fn.code / module / "__init__.py"]
        expected = candidates[0].name
    if not any(c.is_file() for c in candidates):
        raise ConfigError(
            f"handler module '{module}' not found in {fn.code}",
            file=spec.source_path,
            key=f"functions.{name}.handler",
            hint=f"expected {expected} in the code directory; handler is 'module.function'",
        )


class Deployer:
    def __init__(
        self, client: Callable[[str], Any], *, prefix: str = "", wait_timeout_s: float = 60.0
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._wait_timeout_s = wait_timeout_s
        self._keys = Keys(client, "pipemu")
        self._arns: roles.Arns | None = None

    def name(self, name: str) -> str:
        return f"{self._prefix}{name}"

    def deploy(self, spec: PipelineSpec) -> Deployment:
        for fn_name in spec.functions:
            check_handler_file(spec, fn_name)
        out = Deployment(pipeline=spec.name, prefix=self._prefix)
        self._keys = Keys(self._client, f"pipemu {spec.name}")  # encryption keys (emulator.security)
        out.keys = self._keys.arns
        self._arns = None
        self._buckets(spec, out)
        self._queues(spec, out)
        self._topics(spec, out)
        self._streams(spec, out)
        self._tables(spec, out)
        self._functions(spec, out)
        self._state_machines(spec, out)
        self._notifications(spec, out)
        self._mappings(spec, out)
        return out

    def _buckets(self, spec: PipelineSpec, out: Deployment) -> None:
        s3 = self._client("s3")
        region = s3.meta.region_name
        # Outside us-east-1 S3 wants the region named (IllegalLocationConstraintException otherwise).
        # https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
        where = {} if region in (None, "us-east-1") else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        for name, body in spec.buckets.items():
            bucket = self.name(name)
            s3.create_bucket(Bucket=bucket, **where)
            encrypt_bucket(s3, bucket, body.encryption, self._keys)
            out.buckets[name] = bucket

    def _queues(self, spec: PipelineSpec, out: Deployment) -> None:
        sqs = self._client("sqs")
        # Dead-letter queues first: a redrive policy names its target's ARN.
        ordered = sorted(spec.queues.items(), key=lambda item: item[1].redrive is not None)
        for name, queue in ordered:
            attributes = {"VisibilityTimeout": str(queue.visibility_timeout)}
            attributes.update(queue_attributes(queue.encryption, self._keys))
            if queue.message_retention_seconds is not None:
                attributes["MessageRetentionPeriod"] = str(queue.message_retention_seconds)
            aws_name = self.name(name)
            if queue.fifo:
                attributes["FifoQueue"] = "true"
                if queue.content_based_deduplication:
                    attributes["ContentBasedDeduplication"] = "true"
                if not aws_name.endswith(".fifo"):
                    aws_name += ".fifo"
            if queue.redrive is not None:
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": out.queue_arns[queue.redrive.dead_letter],
                        "maxReceiveCount": str(queue.redrive.max_receive_count),
                    }
                )
            url = sqs.create_queue(QueueName=aws_name, Attributes=attributes)["QueueUrl"]
            out.queues[name] = url
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            out.queue_arns[name] = arn

    def _topics(self, spec: PipelineSpec, out: Deployment) -> None:
        if not spec.topics:
            return
        sns = self._client("sns")
        for name, topic in spec.topics.items():
            arn = sns.create_topic(Name=self.name(name))["TopicArn"]
            out.topics[name] = arn
            for ref in topic.subscriptions:
                sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=out.arn_of(ref))

    def _streams(self, spec: PipelineSpec, out: Deployment) -> None:
        kinesis = self._client("kinesis")
        for name, stream in spec.streams.items():
            aws_name = self.name(name)
            if stream.mode == "on_demand":
                kinesis.create_stream(StreamName=aws_name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
            else:
                kinesis.create_stream(StreamName=aws_name, ShardCount=stream.shards)
            out.stream_names[name] = aws_name
        for name, aws_name in out.stream_names.items():

            def summary(n: str = aws_name) -> Any:
                return kinesis.describe_stream_summary(StreamName=n)["StreamDescriptionSummary"]

            description = self._wait(
                f"stream {aws_name} to become ACTIVE", summary, lambda d: d["StreamStatus"] == "ACTIVE"
            )
            if encrypt_stream(kinesis, aws_name, spec.streams[name].encryption, self._keys):
                self._wait(f"stream {aws_name} to be ACTIVE after StartStreamEncryption", summary,
                           lambda d: d["StreamStatus"] == "ACTIVE")
            out.streams[name] = description["StreamARN"]

    def _tables(self, spec: PipelineSpec, out: Deployment) -> None:
        if not spec.tables:
            return
        dynamodb = self._client("dynamodb")
        for name, table in spec.tables.items():
            aws_name = self.name(name)
            dynamodb.create_table(**table.create_table_kwargs(aws_name), **table_sse(table.encryption, self._keys))
            out.tables[name] = aws_name
        for name, table in spec.tables.items():

            def describe(n: str = out.tables[name]) -> Any:
                return dynamodb.describe_table(TableName=n)["Table"]

            description = self._wait(
                f"table {out.tables[name]} to become ACTIVE", describe, lambda d: d["TableStatus"] == "ACTIVE"
            )
            out.table_arns[name] = description["TableArn"]
            if "LatestStreamArn" in description:
                out.table_streams[name] = description["LatestStreamArn"]
            if table.ttl is not None:
                dynamodb.update_time_to_live(
                    TableName=out.tables[name],
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl},
                )

    def _role(self) -> str:
        iam = self._client("iam")
        try:
            return str(iam.get_role(RoleName=LAMBDA_ROLE_NAME)["Role"]["Arn"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchEntity":
                raise
        role = iam.create_role(RoleName=LAMBDA_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(_ASSUME))
        return str(role["Role"]["Arn"])

    def _functions(self, spec: PipelineSpec, out: Deployment) -> None:
        if not spec.functions:
            return
        lam = self._client("lambda")
        shared_role = self._role()
        for name, fn in spec.functions.items():
            code = zip_code(fn.code)
            role = self._execution_role(spec, name, out) or shared_role
            kwargs: dict[str, Any] = {
                "FunctionName": self.name(name),
                "Runtime": fn.runtime,
                "Role": role,
                "Handler": fn.handler,
                "Code": {"ZipFile": code},
                "Timeout": fn.timeout,
                "MemorySize": fn.memory,
                "Architectures": [fn.architecture],
                "Environment": {"Variables": dict(fn.environment)},
                "Description": fn.description
                or f"pipemu {spec.name} sha256:{hashlib.sha256(code).hexdigest()[:12]}",
            }
            if spec.iam != "off":  # read by the embedded backend, which authorises each function's calls
                kwargs["Tags"] = {roles.IAM_TAG: spec.iam}
            out.functions[name] = lam.create_function(**kwargs)["FunctionArn"]

    def _execution_role(self, spec: PipelineSpec, name: str, out: Deployment) -> str | None:
        """A role of its own for a function that declares policies (emulator.security.roles), else None."""
        policies = spec.functions[name].policies
        if policies is None:
            return None
        if self._arns is None:
            account = str(self._client("sts").get_caller_identity()["Account"])
            self._arns = roles.Arns(out, account, self._client("lambda").meta.region_name)
        statements = roles.resolve([p.as_json() for p in policies], self._arns)
        out.policies[name] = statements
        return roles.create_role(self._client("iam"), roles.role_name(self._prefix, name), statements)

    def _state_machines(self, spec: PipelineSpec, out: Deployment) -> None:
        """Step Functions state machines, their ``${function:...}``-style references filled in."""
        if not spec.state_machines:
            return
        from emulator.stepfunctions.definition import References, render_definition

        refs = References.from_deployment(out)
        definitions = {name: render_definition(sm.definition, refs) for name, sm in spec.state_machines.items()}
        iam = self._client("iam")
        trust = json.dumps(_ASSUME).replace("lambda.amazonaws.com", "states.amazonaws.com")
        try:
            role = str(iam.get_role(RoleName=SFN_ROLE_NAME)["Role"]["Arn"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NoSuchEntity":
                raise
            role = str(iam.create_role(RoleName=SFN_ROLE_NAME, AssumeRolePolicyDocument=trust)["Role"]["Arn"])
        sfn = self._client("stepfunctions")
        for name, sm in spec.state_machines.items():
            try:
                response = sfn.create_state_machine(
                    name=self.name(name), definition=definitions[name], roleArn=role, type=sm.type
                )
            except ClientError as exc:
                error = exc.response["Error"]
                raise ConfigError(
                    f"the backend refused state machine '{name}': {error['Code']}: {error.get('Message', '')}",
                    file=sm.definition, line=1, key=f"state_machines.{name}",
                    hint="check the definition against https://states-language.net/spec.html",
                ) from exc
            out.state_machines[name] = str(response["stateMachineArn"])

    def _notifications(self, spec: PipelineSpec, out: Deployment) -> None:
        s3 = self._client("s3")
        for name, bucket in spec.buckets.items():
            if not bucket.notifications:
                continue
            configs = []
            for n in bucket.notifications:
                config: dict[str, Any] = {
                    "LambdaFunctionArn": out.functions[n.function],
                    "Events": list(n.events),
                }
                rules = [
                    {"Name": k, "Value": v} for k, v in (("prefix", n.prefix), ("suffix", n.suffix)) if v
                ]
                if rules:
                    config["Filter"] = {"Key": {"FilterRules": rules}}
                configs.append(config)
            s3.put_bucket_notification_configuration(
                Bucket=out.buckets[name], NotificationConfiguration={"LambdaFunctionConfigurations": configs}
            )

    def _mappings(self, spec: PipelineSpec, out: Deployment) -> None:
        if not spec.mappings:
            return
        lam = self._client("lambda")
        for index, mapping in enumerate(spec.mappings):
            destination = out.arn_of(mapping.on_failure) if mapping.on_failure else None
            if spec.iam == "enforce":  # AWS checks the execution role at create; moto does not
                roles.check_mapping_permissions(spec, index, mapping, out.policies.get(mapping.function, []),
                                                out.arn_of(mapping.source), destination)
            kwargs = mapping.to_create_esm_kwargs(
                function_name=out.functions[mapping.function],
                event_source_arn=out.arn_of(mapping.source),
                destination_arn=destination,
            )
            try:
                response = lam.create_event_source_mapping(**kwargs)
            except ClientError as exc:
                error = exc.response["Error"]
                raise ConfigError(
                    f"the backend refused the mapping {mapping.source} -> {mapping.function}: "
                    f"{error['Code']}: {error.get('Message', '')}",
                    file=spec.source_path,
                    key="mappings",
                ) from exc
            out.mappings.append(response["UUID"])
        for uuid in out.mappings:

            def state(u: str = uuid) -> Any:
                return lam.get_event_source_mapping(UUID=u)

            self._wait(
                f"event source mapping {uuid} to leave its transitional state",
                state,
                lambda m: m["State"] in ("Enabled", "Disabled"),
            )

    def _wait(self, what: str, probe: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
        deadline = time.monotonic() + self._wait_timeout_s
        delay = 0.01
        last: Any = None
        while time.monotonic() < deadline:
            last = probe()
            if done(last):
                return last
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        raise WaitTimeout(
            what,
            timeout_s=self._wait_timeout_s,
            last_seen=repr(last)[:300],
            hint="is the backend healthy? `pipemu doctor` checks it",
        )
