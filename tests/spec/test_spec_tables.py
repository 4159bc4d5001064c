"""DynamoDB tables in pipeline.yaml: keys, streams, TTL; errors name file, line, key and a hint."""

from __future__ import annotations

import pytest

from emulator.spec import load_pipeline

PIPELINE = """\
pipeline: orders
functions: {store: {code: handlers, handler: app.handler}}
tables:
  orders: {key: {order_id: S}, stream: NEW_AND_OLD_IMAGES, ttl: expires_at}
  totals:
    key: {customer: S, day: N}
mappings:
  - source: table/orders
    function: store
    starting_position: TRIM_HORIZON
"""


def test_tables_parse_with_partition_and_sort_keys(pipeline_file):
    spec = load_pipeline(pipeline_file(PIPELINE))
    orders, totals = spec.tables["orders"], spec.tables["totals"]
    assert (orders.partition_key, orders.sort_key, orders.stream, orders.ttl) == (
        "order_id", None, "NEW_AND_OLD_IMAGES", "expires_at")
    assert (totals.partition_key, totals.sort_key, totals.stream) == ("customer", "day", None)
    assert spec.mappings[0].source_kind == "table"


def test_create_table_kwargs_list_hash_then_range_on_demand():
    spec_kwargs = {"key": {"customer": "S", "day": "N"}, "stream": "KEYS_ONLY"}
    from emulator.spec.tables import TableSpec
    kwargs = TableSpec.model_validate(spec_kwargs).create_table_kwargs("p-totals")
    assert kwargs == {
        "TableName": "p-totals",
        "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "day", "KeyType": "RANGE"}],
        "AttributeDefinitions": [{"AttributeName": "customer", "AttributeType": "S"},
                                 {"AttributeName": "day", "AttributeType": "N"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    }
    assert "StreamSpecification" not in TableSpec.model_validate({"key": {"a": "B"}}).create_table_kwargs("t")


@pytest.mark.parametrize(("old", "new", "line", "key", "message"), [
    ("{order_id: S}", "{order_id: X}", 4, "tables.orders.key.order_id", "is not S, N or B"),
    ("{order_id: S}", "{a: S, b: N, c: S}", 4, "tables.orders.key", "at most one sort key"),
    ("{order_id: S}", "[order_id]", 4, "tables.orders.key", "partition key"),
    ("{order_id: S}", "{}", 4, "tables.orders.key", ""),
    ("NEW_AND_OLD_IMAGES", "NEW_AND_OLD", 4, "tables.orders.stream", ""),
    ("ttl: expires_at", "tll: expires_at", 4, "tables.orders.tll", "unknown key"),
    ("  totals:", "  t:", 5, "tables.t", "not a valid name for tables"),
    ("source: table/orders", "source: table/order", 8, "mappings[0].source", "unknown table 'order'"),
    ("source: table/orders", "source: table/totals", 8, "mappings[0].source", "has no stream"),
])
def test_table_errors_name_line_and_key(pipeline_file, expect_error, old, new, line, key, message):
    path = pipeline_file(PIPELINE.replace(old, new))
    expect_error(lambda: load_pipeline(path), file=path, line=line, key=key, message=message, hint="")


def test_a_table_mapping_cannot_start_at_a_timestamp(pipeline_file, expect_error):
    at_timestamp = "starting_position: AT_TIMESTAMP\n    starting_position_timestamp: 2024-01-01"
    path = pipeline_file(PIPELINE.replace("starting_position: TRIM_HORIZON", at_timestamp))
    expect_error(lambda: load_pipeline(path), key="mappings[0].starting_position",
                 message="cannot start AT_TIMESTAMP", hint="TRIM_HORIZON")
