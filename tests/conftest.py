"""Shared fixtures: settings in a temporary data folder, the app, its client, real services.

Tests that need PostgreSQL or Redis use the servers on 127.0.0.1 and isolate themselves. When a
server is absent they are skipped and the run ends with a loud summary of what went untested;
with ``DASHBOARD_REQUIRE_SERVICES=1`` (set by ``.ci/run``) a missing server fails the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.settings import Settings

TOKEN = "test-ingest-token"
ADMIN_PASSWORD = "admin-password-for-tests"
REQUIRE_SERVICES = os.environ.get("DASHBOARD_REQUIRE_SERVICES") == "1"
POSTGRES_URL = os.environ.get(
    "DASHBOARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("DASHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# what went untested: noted by _missing in the process that runs the test, carried on its report
# (a pytest-xdist worker sends reports to the controller), collected where the summary is printed
_UNTESTED = "untested"
_pending: list[str] = []
_untested: list[str] = []


def _missing(service: str, reason: str, nodeid: str) -> None:
    """Fail under DASHBOARD_REQUIRE_SERVICES, else skip and remember for the summary."""
    message = f"{service} unavailable ({reason})"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} and DASHBOARD_REQUIRE_SERVICES=1")
    _pending.append(f"{nodeid}: {message}")
    pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:  # noqa: ARG001
    """Carry what _missing noted on the report of the phase that skipped."""
    outcome = yield
    if _pending:
        report = outcome.get_result()
        report.user_properties = [*report.user_properties, *((_UNTESTED, m) for m in _pending)]
        _pending.clear()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the untested notes, from this process or from an xdist worker."""
    _untested.extend(value for name, value in report.user_properties if name == _UNTESTED)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for an embedded node in a fresh data folder, demo off, a known ingest token."""
    return Settings(
        _env_file=None,
        data_dir=tmp_path / "data",
        ingest_tokens=[TOKEN],
        demo=False,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        admin_user="admin",
        admin_password=ADMIN_PASSWORD,
    )


@pytest.fixture
def app(settings: Settings):
    """A node built by the factory."""
    from dashboard.app import create_app

    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["dashboard"].close()


def sign_in(test_client, username: str, password: str):
    """Sign a test client in; later requests carry the session and the CSRF header."""
    response = test_client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    csrf = test_client.get_cookie("_csrf_token")
    test_client.environ_base["HTTP_X_CSRFTOKEN"] = csrf.value if csrf else ""
    return test_client


@pytest.fixture
def anon_client(app):
    """Flask's test client with no session."""
    return app.test_client()


@pytest.fixture
def client(app):
    """Flask's test client signed in as the admin (sends the CSRF header on every request).

    Socket.IO tests share its cookies with
    ``app.extensions["socketio"].test_client(app, namespace="/live", flask_test_client=client)``.
    """
    return sign_in(app.test_client(), "admin", ADMIN_PASSWORD)


@pytest.fixture
def auth_headers() -> dict[str, str]:
    """Headers that authorise an ingest request."""
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def redis_prefix(request: pytest.FixtureRequest) -> Iterator[tuple[object, str]]:
    """A real Redis client and a key prefix of this test's own; its keys are deleted after."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means the server is not usable
        _missing("Redis", str(exc), request.node.nodeid)
    prefix = f"dashtest:{uuid.uuid4().hex[:10]}:"
    yield client, prefix
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


@pytest.fixture
def postgres_schema(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A real PostgreSQL URL and a schema of this test's own, dropped after."""
    try:
        import psycopg

        conn = psycopg.connect(POSTGRES_URL, connect_timeout=2, autocommit=True)
    except Exception as exc:  # noqa: BLE001
        _missing("PostgreSQL", str(exc), request.node.nodeid)
    schema = f"dashtest_{uuid.uuid4().hex[:10]}"
    conn.execute(f'CREATE SCHEMA "{schema}"')
    yield POSTGRES_URL, schema
    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    conn.close()


# what a test needs from the machine, by the fixture that uses it (tools/preflight.py installs)
_NEEDS = {
    "dash_br": (("chromium", "chromium"), ("chromedriver", "chromium-driver")),
    "dash_duo": (("chromium", "chromium"), ("chromedriver", "chromium-driver")),
    "cluster": (("nginx", "nginx-light"),),
}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test whose system program is missing at once, with the command that installs it
    (under DASHBOARD_REQUIRE_SERVICES it fails instead), rather than erroring in its set-up."""
    from tools.preflight import present

    for fixture in getattr(item, "fixturenames", ()):
        for program, package in _NEEDS.get(fixture, ()):
            if not present(program):
                _missing(program, f"not installed: apt-get install {package}", item.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    """Say loudly which tests did not run against a real server."""
    if _untested:
        terminalreporter.section("UNTESTED: services missing", sep="!", red=True, bold=True)
        for line in _untested:
            terminalreporter.line(line, red=True)
        terminalreporter.line(
            "Start PostgreSQL and Redis on 127.0.0.1, install what is named, or run .ci/run,"
            " to test these.",
            red=True,
        )
