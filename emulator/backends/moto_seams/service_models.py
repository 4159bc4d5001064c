"""Seam: moto reads each AWS service model with one shared loader instead of a new one per read.

``moto.core.utils._load_service_model`` calls ``moto.core.loaders.create_loader()`` on every call, and each new
botocore ``Loader`` lists every installed service (~400 ``isfile`` calls, ~20 ms) before it reads a model. moto
reads a model the first time each service is used, so a pipeline's first deploy paid that once per service. The
loader caches what it has read (botocore's ``instance_cache``), exactly what one long-lived loader does in
botocore's own sessions, so sharing one changes nothing but the time.

moto also keeps one boto3 ``Session`` to list each service's regions (``AccountSpecificBackend.get_session``);
it reads botocore's endpoint data (~20-70 ms of JSON) a second time after pipemu's own clients did. That session
is given the loader pipemu's clients share (``emulator.backends.base.shared_loader``), which serves the same
plain botocore data files.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.core import utils
from moto.core.base_backend import AccountSpecificBackend

from emulator.backends.base import shared_loader

TOUCHES = (
    "moto.core.utils.create_loader (imported from moto.core.loaders; called by _load_service_model per read)",
    "moto.core.base_backend.AccountSpecificBackend.get_session() (lru_cached boto3 Session; ._session is botocore's)",
)

_original: Callable[[], Any] | None = None
_lock = threading.Lock()


def install() -> None:
    global _original
    with _lock:
        if _original is not None:
            return
        original = _original = utils.create_loader  # type: ignore[attr-defined]
        shared: list[Any] = []

        def create_loader() -> Any:
            if not shared:
                with _lock:
                    if not shared:
                        shared.append(_listing_shared(original()))
            return shared[0]

        setattr(utils, "create_loader", create_loader)
        session = AccountSpecificBackend.get_session()._session
        if session.get_component("data_loader") is not shared_loader():
            session.register_component("data_loader", shared_loader())


def _listing_shared(loader: Any) -> Any:
    """moto's loader lists the installed services (~400 directories) once more, only to check a name: the same
    list pipemu's clients' loader already has (moto's extra search path holds no ``service-2.json``, tested)."""
    listing = loader.list_available_services

    def list_available_services(type_name: str) -> Any:
        if type_name == "service-2":
            return shared_loader().list_available_services(type_name)
        return listing(type_name)

    loader.list_available_services = list_available_services
    return loader


def uninstall() -> None:
    global _original
    with _lock:
        if _original is not None:
            setattr(utils, "create_loader", _original)
            _original = None
