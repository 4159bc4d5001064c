"""fixed(X): logs the event and returns X (env RESULT, JSON); RESULT=raise raises ZeroDivisionError."""

import json
import os


def handler(event, context):
    print(json.dumps(event))
    result = os.environ.get("RESULT", "null")
    if result == "raise":
        return 1 / 0
    if result == "bare":
        return
    return json.loads(result)
