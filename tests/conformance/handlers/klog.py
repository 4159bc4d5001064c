"""klog: prints the decoded data of every record, as one JSON list."""

import base64
import json


def handler(event, context):
    print(json.dumps([json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]))
