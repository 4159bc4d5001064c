"""echofail: logs the event, then always raises."""

import json


def handler(event, context):
    print(json.dumps(event))
    raise Exception("intentional failure")
