"""recorder: logs {start, end, keys, seqs, failed} for each batch; sleeps SLEEP_S; raises when a record's data
has ``poison``."""

import base64
import json
import os
import time


def handler(event, context):
    start = time.time()
    time.sleep(float(os.environ.get("SLEEP_S", "0")))
    records = event["Records"]
    datas = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in records]
    poisoned = any(d.get("poison") for d in datas)
    print(
        json.dumps(
            {
                "start": start,
                "end": time.time(),
                "keys": [r["kinesis"]["partitionKey"] for r in records],
                "seqs": [r["kinesis"]["sequenceNumber"] for r in records],
                "failed": poisoned,
            }
        )
    )
    if poisoned:
        raise ValueError("poison record in batch")
