"""SQS queues: the queue poller, its reader and the event shapes."""
