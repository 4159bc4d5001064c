"""Ordered streams: records read per shard in sequence, the batch algorithm written once (retries, bisect,
partial batch responses, record age, on-failure destinations) and Kinesis's hooks, reader and event shapes."""
