"""sleep: sleeps SLEEP_S seconds and logs {start, end, bodies}."""

import json
import os
import time


def handler(event, context):
    start = time.time()
    time.sleep(float(os.environ.get("SLEEP_S", "0")))
    print(json.dumps({"start": start, "end": time.time(), "bodies": [r["body"] for r in event["Records"]]}))
