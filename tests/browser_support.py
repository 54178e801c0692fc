"""Headless Chromium for the browser tests: Debian's `chromium` and `chromedriver`, driven by
Selenium (nothing is downloaded), and the screenshots they take.

Screenshots go to a temporary folder, or to `NFTOWER_SCREENSHOTS` when set (`make screenshots`
sets it to `docs/assets/screenshots`, where the docs pick them up), so that a test run leaves
the checkout clean.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

CHROMIUM = Path(os.environ.get("NFTOWER_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("NFTOWER_CHROMEDRIVER", "/usr/bin/chromedriver"))
T = TypeVar("T")


def require_browser() -> None:
    """Skip without the system browser, except in CI (there `.ci/run` installs it)."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def screenshot_dir() -> Path:
    """Where screenshots go (created on first use)."""
    folder = os.environ.get("NFTOWER_SCREENSHOTS")
    path = Path(folder) if folder else Path(tempfile.gettempdir()) / "nftower-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium WebDriver session on the system browser."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    require_browser()
    profile = tempfile.mkdtemp(prefix="nftower-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def save_screenshot(driver: Any, name: str) -> Path:
    """Save what the browser shows as `<name>.png` in `screenshot_dir()`."""
    path = screenshot_dir() / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def wait_for(
    what: str, probe: Callable[[], T | bool | None], timeout: float = 60, every: float = 0.25
) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
        except Exception as exc:  # the page is still rendering
            last, value = exc, None
        if value:
            return value  # type: ignore[return-value]
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last error: {last})")


def broken_images(driver: Any) -> list[str]:
    """Sources of the page's images that failed to load (an empty src is a placeholder)."""
    script = (
        "return Array.from(document.images)"
        ".filter(i => i.getAttribute('src') && i.complete && i.naturalWidth === 0)"
        ".map(i => i.src)"
    )
    return list(driver.execute_script(script))
