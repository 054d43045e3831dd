"""Two `dashboard serve` nodes on one Redis behind nginx (a fixture), and the helpers of the
browser tests that use them."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.conftest import ADMIN_PASSWORD, REDIS_URL, REQUIRE_SERVICES, TOKEN
from tests.nginx_server import Nginx
from tests.servers import LiveServer

JS_TRACE_XY = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return gd && gd.data && gd.data[0] ? [gd.data[0].x, gd.data[0].y] : [[], []];
"""


@pytest.fixture
def cluster(tmp_path):
    """Nodes A and B sharing Redis, the SQLite file and the secret, and nginx in front."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis unavailable: {exc}")
        pytest.skip(f"Redis unavailable: {exc}")
    prefix = f"mn{uuid.uuid4().hex[:8]}"
    shared = tmp_path / "shared"
    env = {
        "DASHBOARD_REDIS_URL": REDIS_URL,
        "DASHBOARD_REDIS_PREFIX": prefix,
        "DASHBOARD_SECRET_KEY": "a-shared-secret-for-both-test-nodes-0123456789",
        "DASHBOARD_DATABASE_URL": f"sqlite:///{shared}/dashboard.db",
        "DASHBOARD_RATELIMIT_PREFIX": prefix,
    }
    a = LiveServer(shared, demo=False, env=env, log_name="a.log")
    b = LiveServer(shared, demo=False, env=env, log_name="b.log")
    proxy = Nginx(tmp_path / "nginx", [a.port, b.port])
    yield a, b, proxy
    proxy.stop()
    a.stop()
    b.stop()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def post_point(url: str, value: float, ts: int | None = None) -> None:
    """Ingest one active-users point through ``url``."""
    body = {
        "metrics": [
            {"name": "demo.active_users", "points": [[ts or int(time.time() * 1000), value]]}
        ]
    }
    response = requests.post(
        url + "/api/v1/ingest", json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    assert response.status_code == 202, response.text


def api_points(url: str, start: int, end: int) -> list[list[float]]:
    """The raw points the API returns for the range."""
    session = requests.Session()
    session.post(
        url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=5,
    )
    response = session.get(
        url + "/api/v1/series",
        params={
            "name": "demo.active_users",
            "start": start,
            "end": end,
            "step": "raw",
            "max_points": 20000,
        },
        timeout=5,
    )
    return response.json()["points"]


def chart_points(dash_br, start: int) -> list[list[float]]:
    """The line chart's points at or after ``start``."""
    x, y = dash_br.driver.execute_script(JS_TRACE_XY, "widget-line-users-graph")
    return [[t, v] for t, v in zip(x, y, strict=True) if t >= start]


def open_dashboard(dash_br, url: str) -> None:
    """Sign in through ``url`` and wait for the live feed."""
    # imported here: test_live_page imports the browser conftest, which imports this module
    from tests.browser.test_live_page import sign_in

    server = type("S", (), {"url": url})()
    sign_in(dash_br, server)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)
