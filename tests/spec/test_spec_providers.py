"""Custom Faker providers (``events.providers``): loaded from a file or a module, checked at load, seeded."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from spec_samples import SCENARIO_YAML

from emulator.errors import ConfigError
from emulator.replay.generate import generate
from emulator.spec.scenario import EventsSpec, ScenarioSpec, load_scenario

PROVIDERS_PY = """\
from faker.providers import BaseProvider


class ShopProvider(BaseProvider):
    def sku(self, prefix="SK"):
        return f"{prefix}-{self.random_int(1000, 9999)}"

    def basket(self, size=3):
        return [self.sku() for _ in range(size)]

    def session_id(self):
        return f"{self.generator.random.getrandbits(64):016x}"
"""

FIELDS = """\
    sku: sku
    code: {faker: sku, prefix: XY}
    session: session_id
"""


@pytest.fixture
def make(scenario_file: Callable[..., Path], tmp_path: Path) -> Callable[..., Path]:
    """A scenario in tmp_path/scenarios (a project: tmp_path has a pyproject.toml) with ``providers:`` and
    extra fields; ``files`` are written relative to the scenario's folder."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")

    def _make(providers: str = "[providers.py]", fields: str = FIELDS, **files: str) -> Path:
        files.setdefault("providers.py", PROVIDERS_PY)
        text = SCENARIO_YAML.replace("  count: 1000\n", f"  count: 1000\n  providers: {providers}\n")
        text = text.replace("    ts: iso8601\n", "    ts: iso8601\n" + fields)
        path = scenario_file(text)
        for name, body in files.items():
            target = path.parent / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(body))
        return path

    return _make


@pytest.fixture
def clean_modules() -> Iterator[None]:
    """Forget the modules a test imported, so module names can repeat across tests."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


def test_provider_from_a_path(make, clean_modules):
    spec, _ = load_scenario(make())
    assert [cls.__name__ for cls in spec.events.provider_classes] == ["ShopProvider"]
    assert spec.events.providers == ["providers.py"]
    event = next(generate(spec))
    assert event.fields["sku"].startswith("SK-") and event.fields["code"].startswith("XY-")
    assert len(event.fields["session"]) == 16


def test_provider_from_a_module_name(make, tmp_path, monkeypatch, clean_modules):
    package = tmp_path / "lib" / "shopfakes"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    # PROVIDERS picks the classes: the helper base class is not added.
    (package / "providers.py").write_text(PROVIDERS_PY.replace("class ShopProvider", "class _Base(BaseProvider):\n"
                                          "    def helper(self):\n        return 1\n\n\nclass ShopProvider")
                                          + "\n\nPROVIDERS = [ShopProvider]\n")
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    spec, _ = load_scenario(make("[shopfakes.providers]"))
    assert [cls.__name__ for cls in spec.events.provider_classes] == ["ShopProvider"]
    assert next(generate(spec)).fields["sku"].startswith("SK-")


def test_two_modules_and_an_override_of_a_builtin(make, clean_modules):
    extra = """\
        from faker.providers import BaseProvider

        class Names(BaseProvider):
            def user_name(self):
                return "user-" + str(self.random_int(1, 9))
        """
    spec, _ = load_scenario(make("[providers.py, more/names.py]", FIELDS + "    who: user_name\n",
                                 **{"more/names.py": extra}))
    assert [cls.__name__ for cls in spec.events.provider_classes] == ["ShopProvider", "Names"]
    assert all(e.fields["who"].startswith("user-") for e in generate(spec, count=20))


def test_same_seed_same_events_with_a_custom_provider(make, clean_modules):
    path = make()
    spec, _ = load_scenario(path)
    first = [e.payload for e in generate(spec, count=200)]
    assert [e.payload for e in generate(spec, count=200)] == first
    assert [e.payload for e in generate(spec, count=200, seed=7)] != first
    # A second load re-imports the module: same classes by behaviour, same bytes.
    again, _ = load_scenario(path)
    assert [e.payload for e in generate(again, count=200)] == first


def test_a_subprocess_makes_the_same_bytes(make, clean_modules):
    import subprocess

    path = make()
    code = ("import sys; from emulator.spec import load_scenario; from emulator.replay.generate import generate\n"
            "spec = load_scenario(sys.argv[1])[0]\n"
            "sys.stdout.buffer.write(b'\\n'.join(e.payload for e in generate(spec, count=50)))\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True,
                          cwd=Path(__file__).resolve().parents[2])
    spec, _ = load_scenario(path)
    assert done.stdout == b"\n".join(e.payload for e in generate(spec, count=50))


@pytest.mark.parametrize(("field", "message", "hint"), [
    ("skuu", "unknown Faker provider 'skuu'", "did you mean 'sku'?"),
    ("sesion_id", "unknown Faker provider 'sesion_id'", "did you mean 'session_id'?"),
    ("zzzzzz", "unknown Faker provider 'zzzzzz'", "providers from events.providers: basket, session_id, sku"),
])
def test_unknown_provider_hints_at_custom_ones(make, expect_error, clean_modules, field, message, hint):
    path = make(fields=f"    extra: {field}\n")
    expect_error(lambda: load_scenario(path), file=path, line=14, key="events.fields.extra",
                 message=message, hint=hint)


def test_a_custom_provider_that_fails_at_load_points_at_the_field(make, expect_error, clean_modules):
    path = make(fields="    extra: {faker: sku, colour: red}\n")
    expect_error(lambda: load_scenario(path), line=14, key="events.fields.extra",
                 message="faker sku(colour='red') failed: TypeError", hint="comes from events.providers")


BROKEN = "from faker.providers import BaseProvider\n\nx = oops\n"


@pytest.mark.parametrize(("providers", "files", "message", "hint"), [
    ("[providers.py]", {"providers.py": BROKEN}, "cannot import providers.py: NameError: name 'oops' is not "
     "defined (at ", None),
    ("[providers.py]", {"providers.py": "def f(:\n"}, "cannot import providers.py: SyntaxError", None),
    ("[providers.py]", {"providers.py": "import helpers_next_to_it\n"},
     "cannot import providers.py: ModuleNotFoundError", "not on the Python path"),
    ("[providers.py]", {"providers.py": "raise SystemExit(3)\n"}, "cannot import providers.py: SystemExit: 3",
     None),
    ("[nothere.py]", {}, "nothere.py does not exist", "relative to the scenario file's directory"),
    ("[../../outside.py]", {}, "is outside the project directory", "inside the project"),
    ("[no_such_pkg.providers]", {}, "no module named 'no_such_pkg'", "for a file, write its path"),
    ("[sub.fakes]", {"sub/fakes.py": PROVIDERS_PY}, "no module named 'sub'", "write its path: sub/fakes.py"),
    ("['not a module']", {}, "neither a .py file nor a module name", "e.g. providers: [providers.py]"),
    ("[providers.py]", {"providers.py": "X = 1\n"}, "providers.py defines no Faker provider",
     "subclass faker.providers.BaseProvider"),
    ("[providers.py]", {"providers.py": "PROVIDERS = [int]\n"}, "PROVIDERS[0] in providers.py is <class 'int'>",
     None),
    ("[providers.py]", {"providers.py": PROVIDERS_PY + "\n\nclass Boom(BaseProvider):\n"
                        "    def __init__(self, generator):\n        raise RuntimeError('no')\n"},
     "provider Boom from providers.py cannot be created: RuntimeError: no", None),
])
def test_import_problems_point_at_the_entry(make, expect_error, clean_modules, providers, files, message, hint):
    path = make(providers, **files)
    expect_error(lambda: load_scenario(path), file=path, line=7, key="events.providers[0]", message=message,
                 hint=hint or "")


def test_a_problem_in_the_second_entry_names_it(make, expect_error, clean_modules):
    dup = PROVIDERS_PY.replace("ShopProvider", "Other")
    path = make("\n    - providers.py\n    - other.py", **{"other.py": dup})
    err = expect_error(lambda: load_scenario(path), line=9, key="events.providers[1]",
                       message="provider 'basket' is defined by both ShopProvider (providers.py) and Other (other.py)")
    assert "events.providers[1]" in str(err) and str(path) in str(err)
    path = make("[providers.py, ./providers.py]")
    expect_error(lambda: load_scenario(path), key="events.providers[1]", message="./providers.py is listed twice",
                 hint="entry [0] loads the same module")


def test_the_traceback_line_is_the_users(make, clean_modules):
    path = make(**{"providers.py": BROKEN})
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    assert info.value.message.endswith(f"(at {path.parent / 'providers.py'}:3)")


def test_without_a_scenario_paths_are_relative_to_the_current_directory(tmp_path, monkeypatch, clean_modules):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "fakes.py").write_text(PROVIDERS_PY)
    monkeypatch.chdir(tmp_path)
    spec = EventsSpec.model_validate({"count": 1, "providers": ["fakes.py"], "fields": {"s": "sku"}})
    assert [cls.__name__ for cls in spec.provider_classes] == ["ShopProvider"]
    # A model holding this one validates it again, from elsewhere: the classes stay, nothing is re-imported.
    monkeypatch.chdir(Path(__file__).parent)
    pipeline = Path(__file__).parents[2] / "fixtures" / "clickstream" / "pipeline.yaml"
    data = {"scenario": "x", "pipeline": str(pipeline), "source": "stream/s", "events": spec, "expect": {},
            "source_path": __file__}
    held = ScenarioSpec.model_validate(data)
    assert held.events.provider_classes == spec.provider_classes
    assert spec.model_copy(update={"count": 5}).provider_classes == spec.provider_classes


def test_no_providers_is_the_default(scenario_file):
    spec, _ = load_scenario(scenario_file())
    assert spec.events.providers == [] and spec.events.provider_classes == ()
