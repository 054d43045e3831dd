"""Browser fixtures: dash[testing]'s browser on Debian's headless chromium, a live server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from selenium.webdriver.chrome.options import Options

from bench.browser import chromium_options
from tests.cluster import cluster  # noqa: F401 - a fixture for this folder's tests
from tests.servers import live_server  # noqa: F401 - a fixture for this folder's tests

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("DASH_TEST_CHROMEPATH") or shutil.which("chromium") or "/usr/bin/chromium"


def pytest_setup_options() -> Options:
    """Headless chromium flags that work offline, as root, on a machine with no screen."""
    return chromium_options(CHROMIUM)
