"""parallel: notes when it started, sleeps (AWS test: 5 s; here SLEEP_S), then logs {executionStart, event}."""

import json
import os
import time


def handler(event, context):
    started = time.time()
    time.sleep(float(os.environ.get("SLEEP_S", "5")))
    print(json.dumps({"executionStart": started, "event": event}))
