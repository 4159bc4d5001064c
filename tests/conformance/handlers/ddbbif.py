"""ddbbif: logs the event; reports every DynamoDB stream record whose new image has ``should_fail: true`` as
failed (by its SequenceNumber)."""

import json


def handler(event, context):
    print(json.dumps(event))
    failures = []
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage", {})
        if image.get("should_fail", {}).get("BOOL"):
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}
