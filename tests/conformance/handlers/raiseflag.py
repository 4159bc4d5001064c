"""raiseflag: logs the event; raises if a record's decoded data has ``raise_error``."""

import base64
import json


def handler(event, context):
    print(json.dumps(event))
    for record in event["Records"]:
        data = json.loads(base64.b64decode(record["kinesis"]["data"]))
        if isinstance(data, dict) and data.get("raise_error"):
            raise Exception("Test exception (this is intentional)")
    return event
