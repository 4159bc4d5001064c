"""Real AWS as a pipemu backend. It costs money and touches a real account, so it refuses to start without an
explicit opt-in: ``AwsBackend(allow=True)`` (the CLI's ``--i-understand-this-uses-real-aws``) or
``PIPEMU_ALLOW_AWS=1``.

Credentials and region come from the standard chain (env vars, profile, SSO, instance role). Every resource is
named with a per-run prefix (``resource_prefix``, e.g. ``pmu-3f9a1c2e-``; the runner passes it to the Deployer)
and everything created through this backend's clients is deleted at the end, also when the run failed; a sweep
by prefix catches what the tracking missed. A role pipemu creates gets the managed policies a stream/queue
consumer needs plus access to this run's buckets, queues, topics and functions.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from emulator import guard, hostenv
from emulator.backends.endpoint import REMOTE
from emulator.backends.teardown import CreatedResources, TrackingClient, sweep, teardown
from emulator.backends.vendoring import VendoringLambdaClient
from emulator.errors import ConfigError, HarnessError

log = logging.getLogger(__name__)

OPT_IN_ENV = "PIPEMU_ALLOW_AWS"
OPT_IN_FLAG = "--i-understand-this-uses-real-aws"
_MANAGED = (
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
)
_ROLE_PROPAGATION_S = 60.0  # a new role cannot be assumed by Lambda for a few seconds
_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"}, connect_timeout=10, read_timeout=120)


def opted_in(allow: bool = False) -> bool:
    return allow or os.environ.get(OPT_IN_ENV) == "1"


class _RoleSetup:
    """IAM client that grants a role pipemu creates what the pipeline needs, scoped to this run's prefix."""

    def __init__(self, real: Any, prefix: str, created_at: dict[str, float]) -> None:
        self._real = real
        self._prefix = prefix
        self._created_at = created_at

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def create_role(self, **kwargs: Any) -> Any:
        response = self._real.create_role(**kwargs)
        name = str(kwargs["RoleName"])
        self._created_at[name] = time.monotonic()
        p = self._prefix
        statements: list[dict[str, Any]] = [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{p}*", f"arn:aws:s3:::{p}*/*"]},
            {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"], "Resource": f"arn:aws:sqs:*:*:{p}*"},
            {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": f"arn:aws:sns:*:*:{p}*"},
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": f"arn:aws:lambda:*:*:function:{p}*"},
        ]
        if "lambda.amazonaws.com" in str(kwargs.get("AssumeRolePolicyDocument", "")):
            for arn in _MANAGED:
                self._real.attach_role_policy(RoleName=name, PolicyArn=arn)
        self._real.put_role_policy(
            RoleName=name, PolicyName=f"{p}pipeline",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        )
        return response


class _PatientLambda:
    """Retries CreateFunction while a role this run just created is not yet assumable by Lambda."""

    def __init__(self, real: Any, created_at: dict[str, float]) -> None:
        self._real = real
        self._created_at = created_at

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def create_function(self, **kwargs: Any) -> Any:
        role = str(kwargs.get("Role", "")).rsplit("/", 1)[-1]
        while True:
            try:
                return self._real.create_function(**kwargs)
            except ClientError as exc:
                young = time.monotonic() - self._created_at.get(role, -1e9) < _ROLE_PROPAGATION_S
                if exc.response["Error"]["Code"] != "InvalidParameterValueException" or not young:
                    raise
                time.sleep(2)  # IAM propagation has no API to wait on


class AwsBackend:
    name = "aws"
    capabilities = REMOTE

    def __init__(self, *, allow: bool = False, region: str | None = None, prefix: str | None = None) -> None:
        if not opted_in(allow):
            raise ConfigError(
                "the aws backend deploys to a real AWS account and costs money; it needs an explicit opt-in",
                key="--backend aws",
                hint=f"pass {OPT_IN_FLAG} or set {OPT_IN_ENV}=1",
            )
        hostenv.restore()  # the host's AWS_PROFILE & co., hidden from the local backends
        self._session = boto3.session.Session(region_name=region)
        self.region = str(self._session.region_name or "")
        self.endpoint_url = ""
        self.resource_prefix = prefix or f"pmu-{secrets.token_hex(4)}-"
        self.created = CreatedResources()
        self._role_created_at: dict[str, float] = {}
        self.account = ""

    def __enter__(self) -> AwsBackend:
        if not self.region:
            raise ConfigError(
                "no AWS region configured", key="--backend aws", hint="set AWS_REGION or a profile's region"
            )
        if self._session.get_credentials() is None:
            raise ConfigError(
                "no AWS credentials in the standard chain", key="--backend aws",
                hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run `aws sso login`",
            )
        guard.allow_real_aws(True)  # the opt-in was given: disarm the guard against reaching AWS by accident
        try:
            self.account = str(self._raw_client("sts").get_caller_identity()["Account"])
        except (ClientError, BotoCoreError) as exc:
            raise HarnessError(f"AWS rejected the credentials: {exc}") from exc
        log.warning("pipemu on real AWS: account %s, region %s, prefix %s", self.account, self.region,
                    self.resource_prefix)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.teardown()
        finally:
            guard.allow_real_aws(False)

    def _raw_client(self, service: str) -> Any:
        make: Any = self._session.client
        return make(service, config=_CONFIG)

    def client(self, service: str) -> Any:
        real = TrackingClient(self._raw_client(service), self.created)
        if service == "iam":
            return _RoleSetup(real, self.resource_prefix, self._role_created_at)
        if service == "lambda":
            return _PatientLambda(VendoringLambdaClient(real), self._role_created_at)
        return real

    def env(self) -> dict[str, str]:
        return {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}

    def reset(self) -> None:
        self.teardown(sweep_prefix=False)

    def teardown(self, *, sweep_prefix: bool = True) -> list[str]:
        """Delete what this run created (and, with ``sweep_prefix``, whatever else carries its prefix)."""
        todo = self.created.take()
        if sweep_prefix:
            try:
                sweep(self._raw_client, self.resource_prefix, todo)
            except (ClientError, BotoCoreError) as exc:
                log.warning("teardown: sweeping by prefix %s failed: %s", self.resource_prefix, exc)
        errors = teardown(self._raw_client, todo)
        if errors:
            log.error("pipemu could not delete %d AWS resources of run %s: %s", len(errors), self.resource_prefix,
                      "; ".join(errors))
        return errors
