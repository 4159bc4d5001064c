"""forward: sends the event's Records to the queue in QUEUE_URL."""

import json
import os

import boto3


def handler(event, context):
    boto3.client("sqs").send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(event["Records"]))
