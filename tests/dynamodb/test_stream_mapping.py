"""DynamoDB Streams mappings on the embedded backend: the event AWS delivers, in order, per item change."""

from __future__ import annotations

import json
import time

from lambda_functions import create_function
from waiting import wait_for

ECHO = "import json\ndef handler(event, context):\n    print(json.dumps(event))\n    return None\n"


def _table(pipemu, name: str, view: str = "NEW_AND_OLD_IMAGES") -> str:
    ddb = pipemu.client("dynamodb")
    table = ddb.create_table(
        TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    return str(table["TableDescription"]["LatestStreamArn"])


def _records(pipemu, function: str) -> list[dict]:
    out = []
    for invocation in list(pipemu.backend.invocations):
        if invocation.function == function:
            out += [r for line in invocation.logs.splitlines() if line.startswith("{")
                    for r in json.loads(line)["Records"]]
    return out


def test_insert_modify_remove_reach_the_function_in_aws_shape(pipemu) -> None:
    stream_arn = _table(pipemu, "items")
    create_function(pipemu, "echo", ECHO)
    response = pipemu.client("lambda").create_event_source_mapping(
        FunctionName="echo", EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=10)
    assert response["LastProcessingResult"] == "No records processed"
    assert response["StateTransitionReason"] == "User action" and response["MaximumRetryAttempts"] == -1
    ddb = pipemu.client("dynamodb")
    before = time.time()
    ddb.put_item(TableName="items", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.update_item(TableName="items", Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.delete_item(TableName="items", Key={"pk": {"S": "a"}})
    records = wait_for("3 stream records", lambda: _records(pipemu, "echo"), lambda r: len(r) >= 3, 30)
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    insert, modify, remove = records
    assert insert["eventSource"] == "aws:dynamodb" and insert["eventVersion"] == "1.1"
    assert insert["eventSourceARN"] == stream_arn and insert["awsRegion"] == pipemu.backend.region
    assert insert["dynamodb"]["Keys"] == {"pk": {"S": "a"}}
    assert insert["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert "OldImage" not in insert["dynamodb"]
    assert modify["dynamodb"]["OldImage"]["n"] == {"N": "1"} and modify["dynamodb"]["NewImage"]["n"] == {"N": "2"}
    assert "NewImage" not in remove["dynamodb"] and remove["dynamodb"]["OldImage"]["n"] == {"N": "2"}
    assert insert["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    # Keys (pk 2 + a 1) and NewImage (3 + n 1 + 1 byte for one digit)
    assert insert["dynamodb"]["SizeBytes"] == 3 + 3 + 3
    assert int(before) - 1 <= insert["dynamodb"]["ApproximateCreationDateTime"] <= time.time() + 1
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence) and len(set(sequence)) == 3
    mapping = pipemu.client("lambda").get_event_source_mapping(UUID=response["UUID"])
    assert wait_for("the mapping's result", lambda: pipemu.client("lambda").get_event_source_mapping(
        UUID=response["UUID"])["LastProcessingResult"], lambda r: r == "OK", 10)
    assert mapping["EventSourceArn"] == stream_arn


def test_the_in_process_reader_answers_as_the_api_does(pipemu) -> None:
    import pytest

    from emulator.backends.moto_seams.dynamodb_streams import InProcessDynamoDBStreamSource
    from emulator.esm.streams.dynamodb_source import Boto3DynamoDBStreamSource
    from emulator.esm.streams.kinesis_source import StreamGone

    arn = _table(pipemu, "reads")
    ddb = pipemu.client("dynamodb")
    ddb.put_item(TableName="reads", Item={"pk": {"S": "a"}, "b": {"B": b"\x00\x01"}})
    ddb.update_item(TableName="reads", Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :v",
                    ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.delete_item(TableName="reads", Key={"pk": {"S": "a"}})
    api, local = Boto3DynamoDBStreamSource(pipemu.client("dynamodbstreams"), arn), InProcessDynamoDBStreamSource(arn)
    assert api.shard_ids() == local.shard_ids()
    [shard] = local.shard_ids()

    def everything(source, **position) -> list:
        records, _, behind = source.read(source.open(shard, **position), 100)
        assert behind == 0
        return [(r.sequence_number, r.partition_key, json.loads(r.data)) for r in records]

    from_api = everything(api, position="TRIM_HORIZON")
    assert len(from_api) == 3 and everything(local, position="TRIM_HORIZON") == from_api
    arrivals = [r.arrival for source in (api, local)
                for r in source.read(source.open(shard, position="TRIM_HORIZON"), 100)[0]]
    assert all(abs(a - b) < 0.002 for a, b in zip(arrivals[:3], arrivals[3:], strict=True)), arrivals
    first = from_api[0][0]
    assert everything(local, position="TRIM_HORIZON", after_sequence=first) == from_api[1:]
    assert everything(local, position="LATEST") == [] == everything(api, position="LATEST")
    records, iterator, _ = local.read(local.open(shard, position="TRIM_HORIZON"), 2)
    assert len(records) == 2 and [r.sequence_number for r in local.read(iterator, 100)[0]] == [from_api[2][0]]
    ddb.delete_table(TableName="reads")
    with pytest.raises(StreamGone):
        local.shard_ids()
