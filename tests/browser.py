"""Driving Debian's Chromium from the tests (selenium + chromedriver), never a downloaded browser.

Locally, a machine without Chromium skips the browser tests with one line
saying why; CI sets ``C2XC_REQUIRE_BROWSER=1`` and a missing browser fails.
``C2XC_SCREENSHOT_DIR`` makes the tests save their screenshots there
(``make screenshots`` writes ``docs/ui/``).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

CHROMIUM = os.environ.get("C2XC_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("C2XC_CHROMEDRIVER", "/usr/bin/chromedriver")
# Chromium asks Google's hosts at every start unless told not to; the lab has no internet.
QUIET_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-quic", "--disable-default-apps")


def browser_or_skip() -> None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if not missing:
        return
    why = f"browser tests need {' and '.join(missing)} (make browser installs Debian's chromium)"
    if os.environ.get("C2XC_REQUIRE_BROWSER") == "1":
        pytest.fail(why)
    pytest.skip(why)


def start_chrome(width: int = 1280, height: int = 900, offline: bool = False):
    """A fresh headless Chromium; with ``offline``, no host resolves but 127.0.0.1."""
    os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in QUIET_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='c2xc-chrome-')}")
    if offline:
        options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_for(driver, condition: Callable, timeout: float = 20, message: str = "condition"):
    """Poll ``condition(driver)`` until it is truthy (selenium's WebDriverWait)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout}s waiting for {message}") from None


def use_preferences(driver, base_url: str, *, lang: str = "en", theme: str = "light") -> None:
    """Set the language cookie and the theme before a page is opened."""
    driver.get(f"{base_url}/favicon.ico")
    driver.add_cookie({"name": "c2xc_lang", "value": lang, "path": "/"})
    driver.execute_script("localStorage.setItem('c2xc.theme', arguments[0])", theme)


def screenshot(driver, name: str) -> None:
    """Save a full-page screenshot when C2XC_SCREENSHOT_DIR is set (make screenshots)."""
    folder = os.environ.get("C2XC_SCREENSHOT_DIR")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    width = driver.execute_script("return window.innerWidth")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(max(width, 390), min(height + 120, 4000))
    driver.execute_async_script(  # two frames: the resized page has been laid out and painted
        "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(done));")
    driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def severe_console_messages(driver, expected_refusals: tuple[str, ...] = ()) -> list[str]:
    """The page's errors, less the HTTP refusals a test provoked on purpose.

    Chromium logs every 4xx response as a console error; a test that checks
    an error is shown next to a field names the refusal it expects (for
    example ``"/products - Failed to load resource: the server responded
    with a status of 409"``) so any other error still fails it.
    """
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE"
            and not any(refusal in entry["message"] for refusal in expected_refusals)]


def refusal(path: str, status: int) -> str:
    """The console line Chromium writes when ``path`` answers ``status``."""
    return f"{path} - Failed to load resource: the server responded with a status of {status}"



@contextlib.contextmanager
def browser_service(workdir: Path, env: dict[str, str]) -> Iterator:
    """The real service for browser tests, with ``origin`` (its pages' address) set; skips
    with one line when Chromium is missing."""
    from tests.processes import running_service

    browser_or_skip()
    with running_service(workdir, env) as procs:
        procs.origin = procs.base_url.rsplit("/api/v1", 1)[0]
        yield procs


@contextlib.contextmanager
def chrome_session() -> Iterator:
    """One Chromium for a test module, always quit."""
    driver = start_chrome()
    try:
        yield driver
    finally:
        driver.quit()
