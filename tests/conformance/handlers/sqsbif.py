"""sqsbif: reports as failed each record whose body's fail_attempts >= its ApproximateReceiveCount (the
environment's OVERWRITE_RESULT, JSON, replaces the result), and sends {"event", "result"} to
DESTINATION_QUEUE_URL."""

import json
import os

import boto3


def handler(event, context):
    failed = [
        {"itemIdentifier": r["messageId"]}
        for r in event["Records"]
        if json.loads(r["body"]).get("fail_attempts", 0) >= int(r["attributes"]["ApproximateReceiveCount"])
    ]
    result = {"batchItemFailures": failed}
    if "OVERWRITE_RESULT" in os.environ:
        result = json.loads(os.environ["OVERWRITE_RESULT"])
    boto3.client("sqs").send_message(
        QueueUrl=os.environ["DESTINATION_QUEUE_URL"], MessageBody=json.dumps({"event": event, "result": result})
    )
    return result
