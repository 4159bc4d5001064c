"""A handler using AWS Lambda Powertools' Logger, as many real functions do."""

from aws_lambda_powertools import Logger

logger = Logger(service="orders")


@logger.inject_lambda_context
def handler(event, context):
    logger.info("processing order", extra={"order_id": event["order_id"]})
    return {"ok": True}
