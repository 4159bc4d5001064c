"""Seam: Kinesis PutRecord/PutRecords answered by the embedded server without moto's generic request machinery.

Every producer's put goes through moto's Flask app and ``BaseResponse.dispatch``: request normalisation, a
query-string parse of the JSON body, action lookup, the request recorder and authorisation hooks, the generic
serializer. For a one-record PutRecords that machinery was ~0.4 ms of the server's ~0.45 ms (measured
in-process), on the path from a producer's put to the handler. Here ``answer(environ, body)`` handles the
common case itself: the same account and region moto would pick, moto's own backend call (the
``kinesis_store`` seam), the same JSON body, status and headers. Anything else returns None and goes to moto's
app unchanged: another action, a compressed body, moto's request recorder or IAM authorisation switched on, an
account chosen by ``MOTO_ACCOUNT_ID`` or ``x-moto-account-id``, or a record moto's put would store only in part
before failing (an explicit hash key, an unusual partition key, no ``Data``). Errors moto raises before storing
anything (no such stream, too many records, sizes, bad base64) also go to moto's app, which raises them again
and renders them as it always does.
"""

from __future__ import annotations

import json
import os
from typing import Any

from moto import settings
from moto.core.exceptions import JsonRESTError
from moto.core.responses import BaseResponse
from moto.iam.models import get_account_id_from, mark_account_as_visited
from moto.kinesis.models import kinesis_backends
from moto.moto_api import recorder
from moto.utilities.aws_headers import gen_amzn_requestid_long

from emulator.backends.moto_seams import kinesis_store

TOUCHES = (
    "moto.core.responses.BaseResponse.{get_region_from_url,get_current_account,get_access_key,access_key_regex,"
    "region_regex,region_from_useragent_regex,default_region}",
    "moto.iam.models.{get_account_id_from,mark_account_as_visited}",
    "moto.moto_api.recorder._user_enabled; moto.settings.{INITIAL_NO_AUTH_ACTION_COUNT,PRETTIFY_RESPONSES,"
    "DISABLE_GLOBAL_CORS}",
    "moto.kinesis.responses.KinesisResponse.{put_record,put_records} (the answers reproduced here)",
    "moto.core.exceptions.JsonRESTError (what moto's Kinesis raises before storing anything)",
)

_ACTIONS = {"Kinesis_20131202.PutRecords": "PutRecords", "Kinesis_20131202.PutRecord": "PutRecord"}
TARGETS = tuple(_ACTIONS)  # the X-Amz-Target values ``answer`` may handle


def _plain_record(record: Any) -> bool:
    """A record moto's put either stores whole or refuses before storing anything."""
    if type(record) is not dict or record.get("ExplicitHashKey") or type(record.get("Data")) is not str:
        return False
    key = record.get("PartitionKey")
    return type(key) is str and 0 < len(key) <= 256 and key.isascii()


def _region(environ: dict[str, Any], url: str) -> str | None:
    """``BaseResponse.get_region_from_url`` for this request (None where moto's would raise)."""
    match = BaseResponse.region_regex.search(url)
    if match:
        return match.group(1)
    match = BaseResponse.region_from_useragent_regex.search(environ.get("HTTP_USER_AGENT", ""))
    if match:
        return match.group(1)
    auth: str = environ.get("HTTP_AUTHORIZATION", "")
    if "AWS4" in auth:
        parts = auth.split(",")[0].split("/")
        return parts[2] if len(parts) > 2 else None
    return str(BaseResponse.default_region)


def _headers(body: bytes) -> list[tuple[str, str]]:
    headers: dict[str, str] = {"Content-Type": "application/x-amz-json-1.1", "server": "amazon.com"}
    gen_amzn_requestid_long(headers)
    out = [*headers.items(), ("Content-Length", str(len(body)))]
    if not settings.DISABLE_GLOBAL_CORS:
        out.append(("Access-Control-Allow-Origin", "*"))
    return out


def answer(environ: dict[str, Any], body: bytes) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """(status, headers, body) for a PutRecord/PutRecords moto would answer the same way, else None."""
    action = _ACTIONS.get(environ.get("HTTP_X_AMZ_TARGET", ""))
    if (
        action is None
        or environ.get("REQUEST_METHOD") != "POST"
        or environ.get("HTTP_CONTENT_ENCODING")
        or environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        or "MOTO_ACCOUNT_ID" in os.environ
        or recorder._user_enabled
        or float("inf") > settings.INITIAL_NO_AUTH_ACTION_COUNT
        or environ.get("QUERY_STRING")
        or b"AWSAccessKeyId" in body  # moto would look for an access key in the body's query-string parse
        or not kinesis_store.installed()
        # a function's own put is authorised and recorded under its role (iam_authorize): moto's app does that
        or environ.get("HTTP_X_AMZ_SECURITY_TOKEN", "").startswith("pipemu-function/")
    ):
        return None
    try:
        params = json.loads(body)
    except (ValueError, RecursionError):  # moto's app answers what the fast path cannot read
        return None
    if type(params) is not dict:
        return None
    records = params.get("Records") if action == "PutRecords" else [params]
    if type(records) is not list or not all(_plain_record(r) for r in records):
        return None
    url = f"http://{environ.get('HTTP_HOST', '')}{environ.get('PATH_INFO', '')}"
    region = _region(environ, url)
    if region is None:
        return None
    match = BaseResponse.access_key_regex.search(environ.get("HTTP_AUTHORIZATION", ""))
    access_key = match.group(1) if match else "AKIAEXAMPLE"  # what moto's get_access_key falls back to
    account = get_account_id_from(access_key)
    try:
        backend: Any = kinesis_backends[account][region]
        if action == "PutRecords":
            result: dict[str, Any] = backend.put_records(params.get("StreamARN"), params.get("StreamName"), records)
        else:
            sequence_number, shard_id = backend.put_record(
                params.get("StreamARN"), params.get("StreamName"), params["PartitionKey"], None, params["Data"]
            )
            result = {"ShardId": shard_id, "SequenceNumber": sequence_number}  # the serializer's shape order
    except (JsonRESTError, ValueError):
        return None  # raised before anything was stored: moto's app raises it again and renders it
    mark_account_as_visited(account_id=account, access_key=access_key, service="kinesis", region=region)
    payload = json.dumps(result, indent=4 if settings.PRETTIFY_RESPONSES else None).encode()
    return "200 OK", _headers(payload), payload
