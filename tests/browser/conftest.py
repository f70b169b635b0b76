"""Real-browser tests: Debian's ``chromium`` driven through ``chromium-driver`` by selenium (no browser download).

A test marked ``browser`` is skipped, with the reason, when selenium, chromium or chromedriver is missing
(``apt-get install chromium chromium-driver``). CI installs them and runs these tests in their own step with
BROWSER_TESTS_REQUIRED=1, where a missing piece is an error instead of a skip."""
import importlib.util
import os
import shutil

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def _chromium():
    return os.environ.get("CHROMIUM_BINARY") or next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def _chromedriver():
    return os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")


def browser_missing():
    """Why no browser test can run here, or None."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[test]')"
    if not _chromium():
        return "chromium is not installed (apt-get install chromium chromium-driver)"
    if not _chromedriver():
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = browser_missing()
    if reason and os.environ.get("BROWSER_TESTS_REQUIRED") and any("browser" in item.keywords for item in items):
        raise pytest.UsageError(f"BROWSER_TESTS_REQUIRED is set but {reason}")
    if reason:
        skip = pytest.mark.skip(reason=f"browser test: {reason}")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def browser():
    """A headless chromium (selenium WebDriver) closed after the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # selenium manager must never fetch a driver or a browser
    options = webdriver.ChromeOptions()
    options.binary_location = _chromium()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=_chromedriver()), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
