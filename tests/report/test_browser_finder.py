"""Which browser the report's browser tests use, and what they say when there is none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from browser import browser_or_skip, find_browser, install_hint

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'
UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n'
FEDORA = 'NAME="Fedora Linux"\nID=fedora\n'
CHROME_APP = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"


def which_of(*present: str) -> Callable[[str], str | None]:
    """A shutil.which that knows only these commands (as /usr/bin/NAME) and these absolute paths."""
    def which(value: str) -> str | None:
        if value.startswith("/"):
            return value if value in present else None
        return f"/usr/bin/{value}" if value in present else None
    return which


def test_the_search_order_is_the_commands_then_the_macos_apps() -> None:
    everything = which_of("chromium-browser", "google-chrome", CHROME_APP)
    assert find_browser({}, everything, "Linux").found == Path("/usr/bin/chromium-browser")
    assert find_browser({}, which_of("google-chrome-stable", CHROME_APP), "Darwin").found == Path(
        "/usr/bin/google-chrome-stable")
    assert find_browser({}, which_of(CHROME_APP), "Darwin").found == Path(CHROME_APP)
    # The app bundles are only looked for on macOS.
    assert find_browser({}, which_of(CHROME_APP), "Linux").found is None


def test_chrome_path_comes_first_and_a_stale_one_falls_through_to_the_search() -> None:
    which = which_of("chromium", "/opt/chrome/chrome")
    assert find_browser({"CHROME_PATH": "/opt/chrome/chrome"}, which, "Linux").found == Path("/opt/chrome/chrome")
    stale = find_browser({"CHROME_PATH": "/gone/chrome"}, which, "Linux")
    assert stale.found == Path("/usr/bin/chromium")
    assert stale.looked_at == ("CHROME_PATH=/gone/chrome", "chromium on PATH")


def test_pipemu_browser_is_the_only_place_looked_at_when_set() -> None:
    which = which_of("chromium", "google-chrome", "/opt/chrome/chrome")
    chosen = find_browser({"PIPEMU_BROWSER": "google-chrome", "CHROME_PATH": "/opt/chrome/chrome"}, which, "Linux")
    assert chosen.found == Path("/usr/bin/google-chrome")
    nowhere = find_browser({"PIPEMU_BROWSER": "/nowhere/chrome"}, which, "Linux")
    assert nowhere == type(nowhere)(None, ("PIPEMU_BROWSER=/nowhere/chrome",))


def test_the_real_which_needs_an_executable_file(tmp_path: Path) -> None:
    browser = tmp_path / "my-chrome"
    browser.write_text("#!/bin/sh\n")
    assert find_browser({"PIPEMU_BROWSER": str(browser)}).found is None
    browser.chmod(0o755)
    assert find_browser({"PIPEMU_BROWSER": str(browser)}).found == browser


@pytest.mark.parametrize("system,os_release,command", [
    ("Linux", DEBIAN, "sudo apt-get install -y chromium fonts-dejavu-core"),
    ("Linux", UBUNTU, "sudo apt-get install -y chromium-browser"),
    ("Linux", FEDORA, "sudo dnf install -y chromium"),
    ("Darwin", "", "brew install --cask google-chrome"),
    ("Windows", "", "install Chromium or Google Chrome"),
])
def test_the_install_command_fits_the_os(system: str, os_release: str, command: str) -> None:
    assert install_hint(system, os_release) == command


def test_no_browser_skips_with_what_was_looked_at_and_the_install_command() -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        browser_or_skip({}, which_of(), "Linux", DEBIAN)
    reason = str(skipped.value)
    assert "chromium on PATH, chromium-browser on PATH, google-chrome on PATH" in reason
    assert "sudo apt-get install -y chromium fonts-dejavu-core" in reason
    assert "PIPEMU_BROWSER" in reason


def test_no_browser_fails_where_ci_requires_one() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        browser_or_skip({"PIPEMU_REQUIRE_BROWSER": "1", "PIPEMU_BROWSER": "/nowhere"}, which_of(), "Linux", DEBIAN)
    assert "PIPEMU_REQUIRE_BROWSER=1" in str(failed.value) and "PIPEMU_BROWSER=/nowhere" in str(failed.value)


def test_a_found_browser_is_returned_whatever_ci_requires() -> None:
    environ = {"PIPEMU_REQUIRE_BROWSER": "1"}
    assert browser_or_skip(environ, which_of("google-chrome"), "Linux", DEBIAN) == Path("/usr/bin/google-chrome")
