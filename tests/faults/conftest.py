"""Fixtures of the fault suite: a private Redis to kill; for the browser cases two nodes
behind nginx and the headless browser's options."""

from tests.browser.conftest import pytest_setup_options  # noqa: F401 - headless chromium
from tests.cluster import cluster  # noqa: F401 - two nodes behind nginx, for the browser cases
from tests.redis_server import private_redis  # noqa: F401 - a fixture for this folder's tests
