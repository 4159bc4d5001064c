"""bif: logs the event; reports every record whose decoded data has ``should_fail: true`` as failed."""

import base64
import json


def handler(event, context):
    print(json.dumps(event))
    failures = []
    for record in event["Records"]:
        data = json.loads(base64.b64decode(record["kinesis"]["data"]))
        if data.get("should_fail"):
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
    return {"batchItemFailures": failures}
