"""Worker side: finding and importing the function's handler as the AWS Python runtime does; every failure is a
``faults.Fault`` carrying the runtime's error type and a hint."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from emulator.runtime.faults import (
    BUILT_IN_MODULE_CONFLICT,
    HANDLER_NOT_FOUND,
    IMPORT_MODULE_ERROR,
    MALFORMED_HANDLER_NAME,
    USER_CODE_SYNTAX_ERROR,
    Fault,
)


def load_handler(handler: str, task_root: str) -> Any:
    """Import ``module.func`` (``pkg/mod.func`` and ``pkg.mod.func`` too) exactly as the AWS runtime does.
    https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html"""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise Fault(
            MALFORMED_HANDLER_NAME,
            f"Bad handler '{handler}': {e}",
            hint="the handler must be '<module>.<function>', e.g. 'app.handler' for def handler() in app.py",
        ) from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            BUILT_IN_MODULE_CONFLICT,
            f"Cannot use built-in module {modname} as a handler module",
            hint="rename the handler module so it does not shadow a built-in module",
        )
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise Fault(
            IMPORT_MODULE_ERROR,
            f"Unable to import module '{modname}': {e}",
            hint=_import_hint(e, modname, task_root),
        ) from None
    except SyntaxError as e:
        raise Fault(
            USER_CODE_SYNTAX_ERROR,
            f"Syntax error in module '{modname}': {e}",
            [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}'],
            hint=f"fix the syntax error at {e.filename}:{e.lineno}",
        ) from None
    try:
        return getattr(module, fname)
    except AttributeError:
        names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
        raise Fault(
            HANDLER_NOT_FOUND,
            f"Handler '{fname}' missing on module '{modname}'",
            hint=f"module '{modname}' defines these callables: {', '.join(names) or '(none)'}",
        ) from None


def _import_hint(e: ImportError, modname: str, task_root: str) -> str:
    missing = e.name
    dotted = modname.replace("/", ".")
    if missing and (dotted == missing or dotted.startswith(missing + ".")):
        top = sorted(os.listdir(task_root)) if os.path.isdir(task_root) else []
        shown = ", ".join(top[:15]) + (", ..." if len(top) > 15 else "")
        path = dotted.replace(".", "/")
        return f"the deployment zip must contain {path}.py; its root holds: {shown or '(nothing)'}"
    if isinstance(e, ModuleNotFoundError):
        return (
            f"module '{modname}' imports '{missing}', which is neither in the deployment zip nor "
            "installed on the host; package it into the zip"
        )
    return f"an import inside module '{modname}' failed; check the names it imports"
