"""The browser tests are skipped with their reason where chromium or its driver is missing (and fail in CI)."""
import shutil

import pytest

from tests.browser import conftest


def test_missing_chromium_is_a_reason(monkeypatch):
    monkeypatch.delenv("CHROMIUM_BINARY", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert "chromium is not installed" in conftest.browser_missing()


def test_missing_driver_is_a_reason(monkeypatch):
    monkeypatch.delenv("CHROMEDRIVER", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/chromium" if name == "chromium" else None)
    assert "chromedriver is not installed" in conftest.browser_missing()


class _Item:
    def __init__(self, browser):
        self.keywords = {"browser": True} if browser else {}
        self.markers = []

    def add_marker(self, marker):
        self.markers.append(marker)


def test_marked_tests_are_skipped_or_refused(monkeypatch):
    monkeypatch.setattr(conftest, "browser_missing", lambda: "chromium is not installed")
    monkeypatch.delenv("BROWSER_TESTS_REQUIRED", raising=False)
    marked, other = _Item(True), _Item(False)
    conftest.pytest_collection_modifyitems(None, [marked, other])
    assert [m.kwargs["reason"] for m in marked.markers] == ["browser test: chromium is not installed"]
    assert not other.markers
    monkeypatch.setenv("BROWSER_TESTS_REQUIRED", "1")
    with pytest.raises(pytest.UsageError):
        conftest.pytest_collection_modifyitems(None, [_Item(True)])
