"""Find a Chromium-family browser for the tests that render report.html, or say how to get one.

Contributors have different browsers in different places: Debian's `chromium`, Ubuntu's `chromium-browser`,
Google Chrome on GitHub's runners, an app bundle on macOS. Where none is found the browser tests skip with the
install command for this OS, unless PIPEMU_REQUIRE_BROWSER=1 (CI sets it), where they fail: CI must never
pass a browser test by skipping it.
"""

from __future__ import annotations

import os
import platform
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

# PIPEMU_BROWSER is ours and explicit: when it is set, nothing else is tried, so a wrong value is seen rather
# than papered over by another browser. CHROME_PATH is shared with other tools (Puppeteer, Lighthouse...), so
# a stale one falls through to the search.
OWN_VARIABLE = "PIPEMU_BROWSER"
SHARED_VARIABLE = "CHROME_PATH"
REQUIRE_VARIABLE = "PIPEMU_REQUIRE_BROWSER"
COMMANDS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MACOS_APPS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)
OS_RELEASE = Path("/etc/os-release")

Which = Callable[[str], str | None]


@dataclass(frozen=True)
class Search:
    """Where a browser was looked for, in order, and the first executable found (None when there is none)."""

    found: Path | None
    looked_at: tuple[str, ...]


def find_browser(environ: Mapping[str, str] | None = None, which: Which = shutil.which,
                 system: str | None = None) -> Search:
    environ = os.environ if environ is None else environ
    system = platform.system() if system is None else system
    own = environ.get(OWN_VARIABLE, "").strip()
    if own:
        return Search(_resolve(own, which), (f"{OWN_VARIABLE}={own}",))
    looked: list[str] = []
    candidates: list[tuple[str, str]] = []
    shared = environ.get(SHARED_VARIABLE, "").strip()
    if shared:
        candidates.append((f"{SHARED_VARIABLE}={shared}", shared))
    candidates += [(f"{name} on PATH", name) for name in COMMANDS]
    if system == "Darwin":
        candidates += [(app, app) for app in MACOS_APPS]
    for label, value in candidates:
        looked.append(label)
        path = _resolve(value, which)
        if path is not None:
            return Search(path, tuple(looked))
    return Search(None, tuple(looked))


def _resolve(value: str, which: Which) -> Path | None:
    """A command name is searched on PATH; a path must be an executable file."""
    found = which(value)
    return Path(found) if found else None


def install_hint(system: str | None = None, os_release: str | None = None) -> str:
    system = platform.system() if system is None else system
    if system == "Darwin":
        return "brew install --cask google-chrome"
    if system == "Linux":
        if os_release is None:
            os_release = OS_RELEASE.read_text() if OS_RELEASE.is_file() else ""
        ids = _os_ids(os_release)
        if "ubuntu" in ids:
            return "sudo apt-get install -y chromium-browser"
        if "debian" in ids:
            return "sudo apt-get install -y chromium fonts-dejavu-core"
        if ids & {"fedora", "rhel", "centos"}:
            return "sudo dnf install -y chromium"
    return "install Chromium or Google Chrome"


def _os_ids(os_release: str) -> set[str]:
    """ID and ID_LIKE of /etc/os-release (ID_LIKE lists the distributions this one derives from)."""
    ids: set[str] = set()
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids.update(value.strip().strip("\"'").split())
    return ids


def browser_or_skip(environ: Mapping[str, str] | None = None, which: Which = shutil.which,
                    system: str | None = None, os_release: str | None = None) -> Path:
    """The browser's path; else pytest.skip with the install command, or pytest.fail where CI requires one."""
    environ = os.environ if environ is None else environ
    search = find_browser(environ, which, system)
    if search.found is not None:
        return search.found
    looked = ", ".join(search.looked_at)
    if environ.get(REQUIRE_VARIABLE, "") == "1":
        pytest.fail(f"{REQUIRE_VARIABLE}=1 and no Chromium-family browser was found; looked at: {looked}",
                    pytrace=False)
    pytest.skip(f"needs a Chromium-family browser (looked at: {looked}); to run it: "
                f"{install_hint(system, os_release)}, or set {OWN_VARIABLE} to the browser's executable")
