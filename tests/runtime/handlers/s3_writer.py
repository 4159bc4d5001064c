"""Writes to S3 with a plain boto3 client: no endpoint or credentials in the code, as in production."""

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    s3.put_object(Bucket=event["bucket"], Key="hello.txt", Body=b"from the handler")
    return {"ok": True}
