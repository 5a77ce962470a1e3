"""A real headless browser for the public timetable and the console: Debian's Chromium,
driven by Selenium through Debian's chromedriver (nothing downloads a browser of its own),
with a Chinese font (the pages and their screenshots are in Chinese).

On a fresh machine, running as root, the packages are installed with apt-get. Without them
(and without root) the browser tests are skipped with the reason, except in CI, where that
is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

__all__ = ["BROWSER_FLAGS", "Chromium", "find_or_install_chromium", "headless_chromium"]

PACKAGES = ("chromium", "chromium-driver", "fonts-wqy-microhei")
#: How the browser is started: headless, no sandbox (containers), nothing phoning home.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass(frozen=True)
class Chromium:
    browser: str
    driver: str


def _found() -> Chromium | None:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    return Chromium(browser, driver) if browser and driver and _chinese_font() else None


def _chinese_font() -> bool:
    if not shutil.which("fc-list"):  # fontconfig comes with chromium
        return False
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"a headless Chromium is required in CI: {reason}")
    pytest.skip(reason)


def find_or_install_chromium() -> Chromium:
    """Debian's Chromium, chromedriver and a Chinese font, installed with apt-get when
    missing and root."""
    found = _found()
    if found is not None:
        return found
    if not shutil.which("apt-get"):
        _unavailable("chromium is not installed and there is no apt-get to install it")
    if os.geteuid() != 0:
        _unavailable(
            "chromium is not installed; run `apt-get install -y chromium chromium-driver` as root"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            _unavailable(f"{' '.join(command)} failed: {done.stderr[-2000:]}")
    found = _found()
    if found is None:
        _unavailable("apt-get installed chromium but chromium/chromedriver are not on PATH")
    assert found is not None
    return found


@contextmanager
def headless_chromium(
    chromium: Chromium, *, window: str = "1280,900"
) -> Iterator[webdriver.Chrome]:
    """A fresh headless browser with its own throw-away profile; what its pages log is
    kept (``driver.get_log("browser")``)."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium.browser
        for flag in (*BROWSER_FLAGS, f"--user-data-dir={profile}", f"--window-size={window}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=chromium.driver), options=options)
        try:
            driver.set_page_load_timeout(30)
            yield driver
        finally:
            driver.quit()
