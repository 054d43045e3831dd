"""Fixtures shared by the integration tests."""

from tests.redis_server import private_redis  # noqa: F401 - a fixture for this folder's tests
