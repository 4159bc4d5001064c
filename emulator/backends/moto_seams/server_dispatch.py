r"""Seam: per-request work of moto's server that buys nothing here, skipped or done once per process.

- ``moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host`` calls
  ``moto.backends.list_of_moto_modules()``, which runs ``os.listdir`` plus ~200 ``isdir`` calls per request
  (0.6-0.9 ms of CPU each time, measured).
- ``moto.core.responses.BaseResponse.call_action`` calls ``method_names_from_class(self.__class__)``, an
  ``inspect.getmembers`` walk of the whole response class (~160 us per request, measured), only to test whether
  the action's method exists. A class's function names are cached the first time it is asked about; pipemu's
  seams replace existing methods and never add names.
- ``BaseResponse._enrich_response`` runs ``re.sub(r"(?<=<RequestId>).*(?=<\/RequestId>)", ...)`` over every
  response body to put the request ID into XML answers: a scan of the whole body (~0.25 ms for a 500-record
  PutRecords answer). Text without ``<RequestId>`` cannot match and bytes make ``re.sub`` raise (which moto
  ignores), so for those the scan is skipped and the rest (status cast, request ID header) done as moto does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto import backends
from moto.core import responses

TOUCHES = (
    "moto.backends.list_of_moto_modules() (called as backends.list_of_moto_modules in werkzeug_app)",
    "moto.core.responses.method_names_from_class(clazz) (imported by name; membership test in call_action)",
    "moto.core.responses.BaseResponse._enrich_response(headers, body) (staticmethod; request ID, RequestId regex)",
)

_original: Callable[[], Iterable[str]] | None = None
_original_names: Callable[[Any], list[str]] | None = None
_original_enrich: Callable[[dict[str, str], Any], tuple[dict[str, str], Any]] | None = None


def install() -> None:
    global _original, _original_names, _original_enrich
    if _original is None:
        _original = backends.list_of_moto_modules
        cached = tuple(_original())

        def list_of_moto_modules() -> Iterable[str]:
            return cached

        setattr(backends, "list_of_moto_modules", list_of_moto_modules)
    if _original_names is None:
        original_names = _original_names = responses.method_names_from_class  # type: ignore[attr-defined]
        names: dict[Any, list[str]] = {}

        def method_names_from_class(clazz: Any) -> list[str]:
            found = names.get(clazz)
            if found is None:
                found = names[clazz] = original_names(clazz)
            return found

        setattr(responses, "method_names_from_class", method_names_from_class)
    if _original_enrich is None:
        enrich = _original_enrich = responses.BaseResponse._enrich_response
        request_id = responses.gen_amzn_requestid_long  # type: ignore[attr-defined]

        def _enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
            # moto's str pattern cannot match bytes (re.sub raises, moto ignores it), nor text without the tag
            if isinstance(body, bytes) or (isinstance(body, str) and "<RequestId>" not in body):
                if "status" in headers:
                    headers["status"] = str(headers["status"])
                request_id(headers)
                return headers, body
            return enrich(headers, body)

        setattr(responses.BaseResponse, "_enrich_response", staticmethod(_enrich_response))


def uninstall() -> None:
    global _original, _original_names, _original_enrich
    if _original is not None:
        setattr(backends, "list_of_moto_modules", _original)
        _original = None
    if _original_names is not None:
        setattr(responses, "method_names_from_class", _original_names)
        _original_names = None
    if _original_enrich is not None:
        setattr(responses.BaseResponse, "_enrich_response", staticmethod(_original_enrich))
        _original_enrich = None
