"""Fails loudly when moto renames or reshapes what pipemu's seams touch (emulator/backends/moto_seams/)."""

from __future__ import annotations

import inspect

import moto
from moto.awslambda.models import EventSourceMapping, LambdaBackend, LambdaFunction
from moto.awslambda.responses import LambdaResponse
from moto.core.config import default_user_config
from moto.kinesis.models import Stream
from moto.s3.models import S3Backend
from moto.sqs.models import Queue


def params(fn: object) -> list[str]:
    return list(inspect.signature(fn).parameters)  # type: ignore[arg-type]


def test_moto_version_is_the_one_the_seams_were_written_for() -> None:
    assert moto.__version__ == "5.2.5", "re-check every module in emulator/backends/moto_seams/ and pin again"


def test_lambda_invoke_seam() -> None:
    assert params(LambdaFunction.invoke) == ["self", "body", "request_headers", "response_headers"]
    source = inspect.getsource(LambdaFunction.__init__) + inspect.getsource(LambdaFunction)
    for attribute in (
        "function_name",
        "function_arn",
        "handler",
        "code_bytes",
        "code_sha_256",
        "run_time",
        "timeout",
        "memory_size",
        "environment_vars",
        "region",
        "version",
        "role",
    ):
        assert f"self.{attribute}" in source, attribute


def test_esm_control_seam() -> None:
    assert params(LambdaBackend.create_event_source_mapping) == ["self", "spec"]
    assert params(LambdaBackend.update_event_source_mapping) == ["self", "uuid", "spec"]
    assert params(LambdaBackend.delete_event_source_mapping) == ["self", "uuid"]
    assert params(EventSourceMapping.get_configuration) == ["self"]
    assert params(LambdaResponse.create_event_source_mapping) == ["self"]
    assert params(LambdaResponse.update_event_source_mapping) == ["self"]
    # moto's own synchronous delivery that we unwire
    assert "lambda_event_source_mappings" in inspect.getsource(Stream.__init__)
    assert "lambda_event_source_mappings" in inspect.getsource(Queue.__init__)
    source = inspect.getsource(EventSourceMapping.__init__)
    for attribute in (
        "bisect_on_error",
        "destination_config",
        "filter_criteria",
        "function_response_types",
        "max_batch_window",
        "max_record_age",
        "max_retry_attempts",
        "parallelization_factor",
        "scaling_config",
        "tumbling_window",
        "starting_position_timestamp",
    ):
        assert f"self.{attribute}" in source, attribute


def test_s3_arrivals_seam() -> None:
    assert params(S3Backend.put_object)[:4] == ["self", "bucket_name", "key_name", "value"]


def test_sfn_config_seam() -> None:
    assert "execute_state_machine" in default_user_config["stepfunctions"]
