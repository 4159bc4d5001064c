"""Seam: stop moto's server from listing its own package directory on every request.

``moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host`` calls
``moto.backends.list_of_moto_modules()``, which runs ``os.listdir`` plus ~200 ``isdir`` calls per request
(0.6-0.9 ms of CPU each time, measured). The list never changes while the process runs, so it is computed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from moto import backends

TOUCHES = ("moto.backends.list_of_moto_modules() (called as backends.list_of_moto_modules in werkzeug_app)",)

_original: Callable[[], Iterable[str]] | None = None


def install() -> None:
    global _original
    if _original is None:
        _original = backends.list_of_moto_modules
        cached = tuple(_original())

        def list_of_moto_modules() -> Iterable[str]:
            return cached

        setattr(backends, "list_of_moto_modules", list_of_moto_modules)


def uninstall() -> None:
    global _original
    if _original is not None:
        setattr(backends, "list_of_moto_modules", _original)
        _original = None

