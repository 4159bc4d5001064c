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
    # a table's stream: moto delivers to its wired mappings and then empties the shard (renumbering records)
    from moto.dynamodb.models.table import StreamShard, Table
    assert "lambda_event_source_mappings" in inspect.getsource(Table.__init__)
    from emulator.backends.moto_seams import dynamodb_streams
    add = dynamodb_streams._original or StreamShard.add  # moto's own, also while an embedded backend runs
    assert "lambda_event_source_mappings" in inspect.getsource(add)
    table_source = inspect.getsource(Table)
    assert "self.latest_stream_label" in table_source and "self.table_arn =" in table_source
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


# -- Step Functions (issue 4): sfn_time, sfn_executions, sfn_tasks ---------------------------------------------------
def test_sfn_time_seam() -> None:
    import re
    import time

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

    from emulator.backends.moto_seams import sfn_time

    wait_interval = sfn_time._original_wait or WaitFunction._wait_interval  # moto's own, if the seam is installed
    assert params(wait_interval) == ["self", "env", "wait_seconds"]
    assert "env.program_state_event.wait(" in inspect.getsource(wait_interval)
    # the retrier sleeps through its module's `time`, and uses nothing else from it
    assert vars(retrier_decl)["time"] is time or type(vars(retrier_decl)["time"]).__name__ == "SimpleNamespace"
    assert "time.sleep(interval_seconds)" in inspect.getsource(RetrierDecl._eval_body)
    assert set(re.findall(r"\btime\.(\w+)", inspect.getsource(retrier_decl))) == {"sleep"}


def test_sfn_executions_seam() -> None:
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.mocking.mock_config import (
        MockedResponseReturn,
        MockedResponseThrow,
        MockTestCase,
        StateMockedResponses,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend
    from moto.stepfunctions.responses import StepFunctionResponse

    assert params(StepFunctionsParserBackend.start_execution) == [
        "self", "state_machine_arn", "name", "execution_input", "trace_header"
    ]
    assert params(Execution._get_start_execution_worker) == ["self"]
    assert "self._mock_test_case = mock_test_case" in inspect.getsource(ExecutionWorker.__init__)
    assert "mock_test_case=self._mock_test_case" in inspect.getsource(ExecutionWorker)
    assert params(MockTestCase.__init__) == [
        "self", "state_machine_name", "test_case_name", "state_mocked_responses_list"
    ]
    assert params(StateMockedResponses.__init__) == ["self", "state_name", "mocked_response_name", "mocked_responses"]
    assert params(MockedResponseReturn.__init__) == ["self", "range_start", "range_end", "payload"]
    assert params(MockedResponseThrow.__init__) == ["self", "range_start", "range_end", "error", "cause"]
    assert params(StepFunctionResponse.describe_execution) == ["self"]
    assert isinstance(inspect.getattr_static(StepFunctionsParserBackend, "_validate_definition"), staticmethod)
    for method in (StepFunctionsParserBackend.create_state_machine, StepFunctionsParserBackend.update_state_machine):
        assert "._validate_definition(definition=definition)" in inspect.getsource(method)
    source = inspect.getsource(Execution.__init__)
    for attribute in ("output", "exec_status", "stop_date"):
        assert f"self.{attribute}" in source, attribute


def test_sfn_tasks_seam() -> None:
    from moto.stepfunctions.parser.asl.component import eval_component
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
        StateTaskServiceLambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    assert params(StateTaskLambda._from_error) == ["self", "env", "ex"]
    assert params(StateTaskLambda._eval_execution) == ["self", "env"]
    assert params(lambda_eval_utils.LambdaFunctionErrorException.__init__) == ["self", "function_error", "payload"]
    # moto re-serialises the error payload compactly (AWS keeps the runtime's spacing for a plain ARN task)
    assert 'separators=(",", ":")' in inspect.getsource(lambda_eval_utils.execute_lambda_function_integration)
    from emulator.backends.moto_seams import sfn_tasks

    # the session's embedded backend may have the seam installed: look at moto's own method
    eval_execution = sfn_tasks._originals.get("legacy_eval_execution", StateTaskLambda._eval_execution)
    assert "lambda_eval_utils.to_payload_type(" in inspect.getsource(eval_execution)
    assert params(lambda_eval_utils.to_payload_type) == ["payload"]
    assert isinstance(inspect.getattr_static(StateTaskServiceLambda, "_error_cause_from_client_error"), staticmethod)
    # the logger sfn_tasks keeps quiet
    assert eval_component.LOG.name == "moto.stepfunctions.parser.asl.component.eval_component"


# -- kinesis_store: it replaces these moto functions with equivalents, so any change to them must be re-read --
KINESIS_STORE_SOURCES = {
    # what moto computes, which the seam reproduces at lower cost (sequence numbers, reads, arrival times)
    "Shard.__init__": "ed0cc26823a9cd92",
    "Shard.put_record": "e2d15174261bc63e",
    "Shard.get_records": "1188a73a6b3db1f9",
    "Shard.get_min_sequence_number": "acae970512147e4e",
    "Shard.get_max_sequence_number": "eff48df162f5a63d",
    "Shard.get_sequence_number_at": "d40f468a2c48d30d",
    "Record.__init__": "35a5af81a443c0b4",
    "Record.to_json": "fd7801686ad6ffad",
    # the calls it wraps or replaces, and the response it serializes itself
    "Stream.put_record": "cafda0597b231b64",
    "KinesisBackend.put_record": "e016b51673b19980",
    "KinesisBackend.put_records": "9137f103f183093b",
    # what its own PutRecord/PutRecords reproduce (checks, errors, routing, metrics) or call
    "Stream.__init__": "6db577356a88979d",
    "Stream.get_shard_for_key": "4ef3be70391e2a8c",
    "Shard.shard_id": "dba4eb113083481a",
    "KinesisBackend.describe_stream": "cd2370ca943a09dc",
    "KinesisBackend._send_stream_metrics": "e80cb3cc13a5dc31",
    "exceptions.TooManyRecords": "fa2d8bb2706b0ac4",
    "exceptions.TotalRecordsSizeExceedsLimit": "407be687c535c122",
    "exceptions.RecordSizeExceedsLimit": "df3fc6ffeb6d655e",
    "utilities.md5_hash": "2ca2b63748ad1fd3",
    "KinesisResponse.put_records": "605c7b12968c94c8",
    "ActionResult.execute_result": "6333faa349b58671",
    # what reads, iterates or replaces Shard.records besides the functions it replaces (a ShardLog must do), and
    # what serializes the records read (CompactRecord.to_json)
    "Stream.split_shard": "be63bfceacc55968",
    "Stream.merge_shards": "b490bf5802c8a06b",
    "KinesisBackend.get_records": "15d3ac1f7c0c1229",
    "KinesisResponse.get_records": "ff064b0a1a6eb944",
    # the iterator format its in-process reader writes and reads
    "compose_new_shard_iterator": "54c370b076e4850e",
    "compose_shard_iterator": "e246d872d062d6f1",
    "decompose_shard_iterator": "0f2cc30dcf400c92",
}


def test_kinesis_store_seam() -> None:
    import base64
    import hashlib

    import moto.utilities.utils
    from moto.core.responses import ActionResult
    from moto.kinesis import exceptions, utils
    from moto.kinesis.models import KinesisBackend, Record, Shard
    from moto.kinesis.responses import KinesisResponse

    from emulator.backends.moto_seams import kinesis_store

    def moto_function(owner: object, name: str) -> object:
        if owner is None:
            return getattr(utils, name)
        # a running embedded backend may have the seam installed: read moto's own function, not ours
        for key, original in kinesis_store._originals.items():
            if key.split(".", 1)[1] == name and kinesis_store._OWNERS[key.split(".", 1)[0]] is owner:
                return original
        found = inspect.getattr_static(owner, name)
        return found.fget if isinstance(found, property) else getattr(owner, name)

    owners: dict[str, object] = {
        "Shard": Shard, "Record": Record, "Stream": Stream, "KinesisBackend": KinesisBackend,
        "KinesisResponse": KinesisResponse, "ActionResult": ActionResult, "exceptions": exceptions,
        "utilities": moto.utilities.utils,
    }
    changed = []
    for qualified, expected in KINESIS_STORE_SOURCES.items():
        owner_name, _, name = qualified.rpartition(".")
        source = inspect.getsource(moto_function(owners.get(owner_name), name))  # type: ignore[arg-type]
        if hashlib.sha256(source.encode()).hexdigest()[:16] != expected:
            changed.append(qualified)
    assert not changed, (
        f"moto changed {changed}: re-read them against emulator/backends/moto_seams/kinesis_store.py "
        "(sequence numbers, record fields, read semantics, response shape), then update the hashes here"
    )
    assert params(moto_function(Shard, "get_records")) == ["self", "last_sequence_id", "limit"]
    assert params(moto_function(KinesisBackend, "put_records")) == ["self", "stream_arn", "stream_name", "records"]
    assert params(moto_function(KinesisBackend, "put_record")) == [
        "self", "stream_arn", "stream_name", "partition_key", "explicit_hash_key", "data"
    ]
    # the seam decodes with what b64decode ends with (the same bytes, and the same errors through b64decode)
    assert inspect.getsource(base64.b64decode).rstrip().endswith("return binascii.a2b_base64(s, strict_mode=validate)")
    assert params(Record.__init__) == ["self", "partition_key", "data", "sequence_number", "explicit_hash_key"]
    assert not getattr(KinesisResponse, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None)  # the seam serializes as-is
    assert "self.records: dict[int, Record] = OrderedDict()" in inspect.getsource(Shard.__init__)
    # every function of moto's kinesis models touching an attribute `records` (a Shard's: the seam's ShardLog)
    import ast

    from moto.kinesis import models

    touching = {
        f"{cls.name}.{fn.name}"
        for cls in ast.parse(inspect.getsource(models)).body if isinstance(cls, ast.ClassDef)
        for fn in cls.body if isinstance(fn, ast.FunctionDef)
        if any(isinstance(n, ast.Attribute) and n.attr == "records" for n in ast.walk(fn))
    }
    assert touching == {
        *(f"Shard.{name}" for name in ("__init__", "get_records", "put_record", "get_min_sequence_number",
                                       "get_max_sequence_number", "get_sequence_number_at")),
        "Stream.split_shard", "Stream.merge_shards",
    }, "moto uses Shard.records somewhere new: check kinesis_log.ShardLog answers it as a dict"


def test_server_dispatch_seam() -> None:
    from moto import backends
    from moto.moto_server import werkzeug_app

    assert params(backends.list_of_moto_modules) == []
    assert "backends.list_of_moto_modules()" in inspect.getsource(werkzeug_app.DomainDispatcherApplication)


def test_dynamodb_streams_seam() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import StreamRecord, StreamShard, Table

    from emulator.backends.moto_seams import dynamodb_streams
    assert params(dynamodb_streams._original or StreamShard.add) == ["self", "old", "new"]
    shard_source = inspect.getsource(StreamShard)
    for attribute in ("self.items", "self.id", "self.starting_sequence_number", "self.table"):
        assert attribute in shard_source, attribute
    assert "self.record" in inspect.getsource(StreamRecord.__init__) and params(StreamRecord.to_json) == ["self"]
    table_source = inspect.getsource(Table)
    for attribute in ("self.stream_shard", "self.latest_stream_label", "self.table_arn"):
        assert attribute in table_source, attribute
    assert "ResourceNotFoundException" in inspect.getsource(DynamoDBBackend.get_table)
