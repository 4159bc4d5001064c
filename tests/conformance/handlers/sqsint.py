"""sqsint: takes exactly one record whose body is {destination, fail_attempts}; fails ("failed attempt") while
fail_attempts >= ApproximateReceiveCount; always sends {"error", "event"} to ``destination`` first."""

import json

import boto3


def handler(event, context):
    [record] = event["Records"]
    body = json.loads(record["body"])
    receives = int(record["attributes"]["ApproximateReceiveCount"])
    error = "failed attempt" if body.get("fail_attempts", 0) >= receives else None
    boto3.client("sqs").send_message(
        QueueUrl=body["destination"], MessageBody=json.dumps({"error": error, "event": event})
    )
    if error:
        raise ValueError(error)
