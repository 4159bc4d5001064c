"""The AWS SDK for JavaScript v3 inside a Node.js handler reaches the emulator with no code change: the
client is built with no endpoint and no credentials, and finds both in the environment the runtime gives it
(AWS_ENDPOINT_URL is honoured by SDK v3 since 3.511)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from lambda_helpers import code_sha256
from node_deps import ensure_node_modules

from emulator.deploy import zip_code
from emulator.runtime import FunctionSpec, LambdaRuntime, interpreters

VALIDATE = Path(__file__).resolve().parents[2] / "fixtures" / "mixed-runtime" / "validate"


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[tuple[str, Any]]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        yield endpoint, s3
    finally:
        server.stop()


@pytest.fixture(scope="module")
def validate_zip() -> bytes:
    """The fixture's Node.js function as a deployment zip, node_modules included (built once: it is large)."""
    ensure_node_modules(VALIDATE)
    return zip_code(VALIDATE)


@pytest.fixture(scope="module")
def node_runtime(moto_s3: tuple[str, Any]) -> Iterator[LambdaRuntime]:
    with LambdaRuntime(endpoint_url=moto_s3[0], prestarted_workers=0) as runtime:
        yield runtime


@pytest.mark.parametrize("runtime_name", interpreters.NODE_RUNTIMES)
def test_sdk_v3_put_object_from_a_handler_lands_in_the_emulator(
    moto_s3: tuple[str, Any], validate_zip: bytes, node_runtime: LambdaRuntime, runtime_name: str
) -> None:
    # GIVEN the mixed-runtime fixture's Node.js function, its node_modules beside the handler, and a bucket
    _, s3 = moto_s3
    bucket = f"staged-{runtime_name.replace('.', '-')}"
    s3.create_bucket(Bucket=bucket)
    code = validate_zip
    fn = FunctionSpec(
        name=f"validate-{runtime_name}", arn="arn:aws:lambda:us-east-1:123456789012:function:validate",
        handler="index.handler",
        code_zip=code, code_sha256=code_sha256(code), runtime=runtime_name, timeout_s=20.0, memory_mb=256,
        environment={"STAGING_BUCKET": bucket},
    )
    good = {"order_id": "o-1", "sku": "A-100", "quantity": 2, "unit_price": 3.5}
    event = {"Records": [
        {"messageId": "m-good", "body": json.dumps(good), "eventSource": "aws:sqs"},
        {"messageId": "m-poison", "body": json.dumps({"order_id": "o-2", "sku": "B"}), "eventSource": "aws:sqs"},
    ]}

    # WHEN an SQS batch with one good and one poison message is handled
    result = node_runtime.invoke(fn, json.dumps(event).encode())

    # THEN the good order is in the emulator's S3 and the poison one is reported as a batch item failure
    assert result.function_error is None, result.payload.decode() + result.logs
    assert json.loads(result.payload) == {"batchItemFailures": [{"itemIdentifier": "m-poison"}]}
    stored = json.loads(s3.get_object(Bucket=bucket, Key="orders/o-1.json")["Body"].read())
    assert stored == {**good, "validated_by": "nodejs"}
    assert "rejecting message m-poison: order lacks quantity, unit_price" in result.logs
