"""Copies each Kinesis record to S3, except events whose `n` is a multiple of 7: those it drops without a word."""

import base64
import json
import os

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    kept = []
    for record in event["Records"]:
        item = json.loads(base64.b64decode(record["kinesis"]["data"]))
        if item["n"] % 7:
            kept.append(item)
    if kept:
        first = event["Records"][0]["kinesis"]["sequenceNumber"]
        body = "".join(json.dumps(item) + "\n" for item in kept)
        s3.put_object(Bucket=os.environ["OUTPUT_BUCKET"], Key=f"out/{first}.jsonl", Body=body.encode())
    return {"batchItemFailures": []}
