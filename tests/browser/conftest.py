"""Browser tests: Playwright driving Debian's Chromium, headless, against a real server.

Playwright's own browser download needs the internet, which these machines do not
have; Debian's `chromium` package does not. So the set-up installs that package
when `/usr/bin/chromium` is missing (we are root, or sudo needs no password) and
otherwise skips with the command to run. Every page a test visits is saved as a
PNG under `tests/browser/screenshots/` (named `<test>-<nn>-<what>.png`), and a
failing test leaves a `-FAILED.png` of where it stopped.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("SAGEFORGE_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).parent / "screenshots"
INSTALL = "apt-get install -y chromium"


def _privilege() -> list[str] | None:
    """The prefix that makes apt-get run as root here, or None when we cannot."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo and subprocess.run([sudo, "-n", "true"], capture_output=True).returncode == 0:
        return [sudo, "-n"]
    return None


def _apt(prefix: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(
        [*prefix, "apt-get", *args], capture_output=True, text=True, env=env, timeout=900
    )


def ensure_chromium() -> Path:
    """Debian's Chromium, installed now if missing and we may; pytest.skip otherwise."""
    if CHROMIUM.exists():
        return CHROMIUM
    prefix = _privilege()
    if prefix is None or not shutil.which("apt-get"):
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM}; install it with `sudo {INSTALL}` "
            "(or set SAGEFORGE_CHROMIUM to a Chromium binary)"
        )
    done = _apt(prefix, "install", "-y", "--no-install-recommends", "chromium")
    if done.returncode != 0:  # a fresh machine has no package lists yet
        _apt(prefix, "update")
        done = _apt(prefix, "install", "-y", "--no-install-recommends", "chromium")
    if done.returncode != 0 or not CHROMIUM.exists():
        pytest.fail(f"`{INSTALL}` failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return CHROMIUM


@pytest.fixture(scope="module", autouse=True)
def _quick_endpoint_metrics() -> Iterator[None]:
    """Servers of these tests sample endpoint metrics every 2 s, so charts fill in quickly."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SAGEFORGE_ENDPOINT_METRICS_PERIOD_SECONDS", "2")
        yield


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module (a new context per test keeps tests apart).

    Not per session: Playwright's sync API keeps an event loop running in the main
    thread while it is open, and tests after these call `asyncio.run()`.
    """
    path = ensure_chromium()
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(path), headless=True)
        yield chromium
        chromium.close()


class Shots:
    """Names and saves the screenshots of one test, numbered in the order taken."""

    def __init__(self, page: Any, test_name: str) -> None:
        self.page = page
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name).strip("-")
        self.count = 0

    def __call__(self, what: str, page: Any = None) -> Path:
        """Screenshot this test's tab (or another `page`, e.g. one a link opened)."""
        self.count += 1
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", what).strip("-") or "page"
        path = SCREENSHOTS / f"{self.prefix}-{self.count:02d}-{slug}.png"
        tab = page or self.page
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        for attempt in range(2):
            # A page that reloads itself when a job ends (Studio's live pages do) can be
            # mid-navigation; wait for it to settle, and try once more if capture stalls.
            tab.wait_for_load_state("load")
            try:
                tab.screenshot(path=str(path), full_page=True, timeout=30_000)
                break
            except PlaywrightTimeout:
                if attempt:
                    raise
        return path


@pytest.fixture
def page(browser: Any, server: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh tab on the module's server (relative URLs work), failing on page errors."""
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(f"{tab.url}: {exc}"))
    tab.shots = Shots(tab, request.node.name)
    tab.js_errors = errors
    yield tab
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        # The page may be gone; the test's own error says more than a missing picture.
        with contextlib.suppress(Exception):
            tab.screenshot(path=str(SCREENSHOTS / f"{tab.shots.prefix}-FAILED.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors on the pages: {errors}"


@pytest.fixture
def shot(page: Any) -> Shots:
    """`shot("what")` saves a full-page screenshot of the page as it is now."""
    return page.shots  # type: ignore[no-any-return]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item, so `page` knows whether the test failed."""
    outcome = yield
    rep = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{rep.when}", rep)
