"""Custom Faker providers, named by a scenario's ``events.providers``.

An entry is a ``.py`` file, relative to the scenario file and inside the project (like handler code), or an
importable module name (``mypkg.providers``, found on the Python path like any import). A module contributes
the ``faker.providers.BaseProvider`` subclasses it defines, or exactly the classes in its ``PROVIDERS`` list.
Their public methods become names for ``{faker: NAME}``; a method named like a built-in provider replaces it.

Loading a scenario runs these modules, as running a pipeline runs its handlers: they are the user's code.
Determinism is the provider's part of the bargain: it must draw from ``self.generator.random`` (or the
``BaseProvider`` helpers such as ``self.random_int``, which do), the generator seeds it; the global ``random``
is not seeded, so draws from it differ from run to run.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import faker
from faker.generator import Generator
from faker.providers import BaseProvider
from pydantic_core import PydanticCustomError

from emulator.spec.pipeline import project_root
from emulator.spec.validation import rule_error
from emulator.spec.yamlsrc import KeyPath

ProviderClass = type[BaseProvider]

_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_BASE_NAMES = frozenset(dir(BaseProvider))
# Frames in pipemu or Faker are not where the user's mistake is.
_NOT_USER_CODE = (str(Path(__file__).resolve().parents[1]), str(Path(faker.__file__).resolve().parent))
_INIT_HINT = "Faker makes a provider as Provider(generator): an __init__ must take that, pass it to super()"
_EXAMPLE = "e.g. providers: [providers.py] (a file next to the scenario) or [mypkg.providers] (a module)"


def provider_names(cls: ProviderClass) -> frozenset[str]:
    """The names ``cls`` adds to Faker: its public methods that ``BaseProvider`` itself does not have."""
    return frozenset(
        name for name in dir(cls)
        if not name.startswith("_") and name not in _BASE_NAMES and callable(getattr(cls, name, None))
    )


def load_providers(entries: Sequence[str], base_dir: Path, path: KeyPath) -> tuple[ProviderClass, ...]:
    """Import every entry and return its provider classes, in order. A problem is a rule error at
    ``(*path, index)``: the user's file, line and key."""
    classes: list[ProviderClass] = []
    owners: dict[str, str] = {}  # provider name -> where it comes from, to refuse a second definition
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = (*path, index)
        module = _import(entry, base_dir, where)
        if module.__name__ in seen:
            raise rule_error(f"{entry} is listed twice", path=where,
                             hint=f"entry [{seen[module.__name__]}] loads the same module; list each once")
        seen[module.__name__] = index
        for cls in _classes(module, entry, where):
            if cls in classes:
                continue
            try:
                cls(Generator())
            except Exception as exc:
                problem = describe_exception(exc)
                raise rule_error(f"provider {cls.__qualname__} from {entry} cannot be created: {problem}",
                                 path=where, hint=_INIT_HINT) from None
            origin = f"{cls.__qualname__} ({entry})"
            for name in sorted(provider_names(cls)):
                if name in owners:
                    raise rule_error(f"provider '{name}' is defined by both {owners[name]} and {origin}",
                                     path=where, hint="rename one of the methods")
                owners[name] = origin
            classes.append(cls)
    return tuple(classes)


def _import(entry: str, base_dir: Path, where: KeyPath) -> ModuleType:
    if entry.endswith(".py") or "/" in entry or "\\" in entry:
        return _import_file(entry, base_dir, where)
    if not _MODULE_NAME.fullmatch(entry):
        raise rule_error(f"'{entry}' is neither a .py file nor a module name", path=where, hint=_EXAMPLE)
    try:
        return importlib.import_module(entry)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (entry == exc.name or entry.startswith(exc.name + ".")):
            hint = "a module name is imported from the Python path (installed packages, PYTHONPATH)"
            as_file = base_dir / (entry.replace(".", "/") + ".py")
            if as_file.is_file():
                hint += f"; to load the file {as_file}, write its path: {as_file.relative_to(base_dir)}"
            else:
                hint += "; for a file, write its path relative to the scenario, e.g. providers.py"
            raise rule_error(f"no module named '{exc.name}'", path=where, hint=hint) from None
        raise _import_error(entry, exc, where) from None
    except (Exception, SystemExit) as exc:
        raise _import_error(entry, exc, where) from None


def _import_file(entry: str, base_dir: Path, where: KeyPath) -> ModuleType:
    base = base_dir.resolve()
    file = Path(entry).expanduser()
    file = (file if file.is_absolute() else base / file).resolve()
    root = project_root(base)
    if not file.is_relative_to(root):
        raise rule_error(f"{file} is outside the project directory {root}", path=where,
                         hint="keep provider modules inside the project (symlinks are followed)")
    if not file.is_file():
        state = "is not a file" if file.exists() else "does not exist"
        raise rule_error(f"provider file {file} {state}", path=where,
                         hint=f"paths are relative to the scenario file's directory ({base})")
    # One module name per file, so two scenarios' providers.py do not replace each other in sys.modules
    # (dataclasses and pickle look a class's module up there).
    stem = re.sub(r"\W", "_", file.stem)
    name = f"pipemu_providers_{stem}_{hashlib.sha1(str(file).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise rule_error(f"cannot load {file} as a Python module", path=where)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise _import_error(entry, exc, where, file=file) from None
    return module


def _import_error(entry: str, exc: BaseException, where: KeyPath, *, file: Path | None = None
                  ) -> PydanticCustomError:
    hint = None
    if isinstance(exc, ModuleNotFoundError) and file is not None:
        hint = ("a provider file is loaded on its own, its folder is not on the Python path: keep its code in "
                "the file, or make it a package on the path and name the module instead")
    return rule_error(f"cannot import {entry}: {describe_exception(exc, file)}", path=where, hint=hint)


def describe_exception(exc: BaseException, file: Path | None = None) -> str:
    """``NameError: name 'x' is not defined (at providers.py:3)``: the exception and the innermost line of
    user code it passed (in ``file``, when given)."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError):
        return text  # its str() already names file and line
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith("<") and not f.filename.startswith(_NOT_USER_CODE)]
    own = [f for f in frames if file is not None and Path(f.filename) == file]
    if own or frames:
        frame = (own or frames)[-1]
        text += f" (at {frame.filename}:{frame.lineno})"
    return text


def _classes(module: ModuleType, entry: str, where: KeyPath) -> list[ProviderClass]:
    declared = getattr(module, "PROVIDERS", None)
    if declared is None:
        found = [value for value in vars(module).values()
                 if isinstance(value, type) and issubclass(value, BaseProvider) and value.__module__ == module.__name__]
        if not found:
            raise rule_error(f"{entry} defines no Faker provider", path=where,
                             hint="subclass faker.providers.BaseProvider in it, or list classes in PROVIDERS = [...]")
        return found
    if not isinstance(declared, list | tuple):
        raise rule_error(f"PROVIDERS in {entry} must be a list of provider classes, got {type(declared).__name__}",
                         path=where)
    for i, item in enumerate(declared):
        if not (isinstance(item, type) and issubclass(item, BaseProvider)):
            raise rule_error(f"PROVIDERS[{i}] in {entry} is {item!r:.60}, not a faker.providers.BaseProvider subclass",
                             path=where)
    if not declared:
        raise rule_error(f"PROVIDERS in {entry} is empty", path=where)
    return list(declared)
