"""Seam: two per-request costs of moto's server that never change while the process runs, computed once.

- ``moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host`` calls
  ``moto.backends.list_of_moto_modules()``, which runs ``os.listdir`` plus ~200 ``isdir`` calls per request
  (0.6-0.9 ms of CPU each time, measured).
- ``moto.core.responses.BaseResponse.call_action`` calls ``method_names_from_class(self.__class__)``, an
  ``inspect.getmembers`` walk of the whole response class (~160 us per request, measured), only to test whether
  the action's method exists. A class's function names are cached the first time it is asked about; pipemu's
  seams replace existing methods and never add names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto import backends
from moto.core import responses

TOUCHES = (
    "moto.backends.list_of_moto_modules() (called as backends.list_of_moto_modules in werkzeug_app)",
    "moto.core.responses.method_names_from_class(clazz) (imported by name; membership test in call_action)",
)

_original: Callable[[], Iterable[str]] | None = None
_original_names: Callable[[Any], list[str]] | None = None


def install() -> None:
    global _original, _original_names
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


def uninstall() -> None:
    global _original, _original_names
    if _original is not None:
        setattr(backends, "list_of_moto_modules", _original)
        _original = None
    if _original_names is not None:
        setattr(responses, "method_names_from_class", _original_names)
        _original_names = None
