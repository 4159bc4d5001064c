"""Parse each record, add a field, write the batch as one JSON-lines object; report unparseable records."""

import base64
import json
import os

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    out, failures = [], []
    for record in event["Records"]:
        try:
            item = json.loads(base64.b64decode(record["kinesis"]["data"]))
        except ValueError:
            failures.append({"itemIdentifier": record["kinesis"]["sequenceNumber"]})
            continue
        if failures:
            continue  # retried from the first failure anyway
        item["processed_by"] = context.function_name
        out.append(item)
    if out:
        key = f"out/{context.aws_request_id}.jsonl"
        s3.put_object(Bucket=os.environ["OUTPUT_BUCKET"], Key=key,
                      Body="".join(json.dumps(i) + "\n" for i in out).encode())
    return {"batchItemFailures": failures}
