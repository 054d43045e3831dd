"""Two `dashboard serve` nodes on one Redis behind nginx, with a real browser."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.browser.test_live_page import JS_TRACE_Y, sign_in, wait_until
from tests.conftest import ADMIN_PASSWORD, REDIS_URL, REQUIRE_SERVICES, TOKEN
from tests.nginx_server import Nginx
from tests.servers import LiveServer

pytestmark = pytest.mark.browser

JS_TRACE_XY = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return gd && gd.data && gd.data[0] ? [gd.data[0].x, gd.data[0].y] : [[], []];
"""


@pytest.fixture
def cluster(tmp_path):
    """Nodes A and B sharing Redis, the SQLite file and the secret, and nginx in front."""
    try:
        requests.get  # noqa: B018 - keep the import used in this scope
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


def _post(url: str, value: float, ts: int | None = None) -> None:
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


def _api_points(url: str, start: int, end: int) -> list[list[float]]:
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


def _chart_points(dash_br, start: int) -> list[list[float]]:
    """The line chart's points at or after ``start``."""
    x, y = dash_br.driver.execute_script(JS_TRACE_XY, "widget-line-users-graph")
    return [[t, v] for t, v in zip(x, y, strict=True) if t >= start]


def _open(dash_br, url: str) -> None:
    """Sign in through ``url`` and wait for the live feed."""
    server = type("S", (), {"url": url})()
    sign_in(dash_br, server)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)


def test_a_point_ingested_on_node_a_reaches_a_browser_on_node_b(dash_br, cluster):
    """The stream carries a point from one node to every node's browsers."""
    a, b, _ = cluster
    _open(dash_br, b.url)
    _post(a.url, 76543.0)
    wait_until(
        lambda: (
            76543.0
            in (dash_br.driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0) or [])
        )
    )


def test_browser_moves_to_the_other_node_when_its_node_dies_and_misses_nothing(dash_br, cluster):
    """Kill the node behind nginx that holds the socket: the page reconnects and catches up."""
    a, b, proxy = cluster
    _open(dash_br, proxy.url)
    # one point a second of data time (the hot store keeps one a second), sent quickly
    start = int(time.time()) * 1000
    for i in range(3):
        _post(proxy.url, 1000.0 + i, start + i * 1000)
    wait_until(lambda: len(_chart_points(dash_br, start)) == 3)
    session = requests.Session()
    session.post(
        a.url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    on_a = session.get(a.url + "/healthz").json()["live"]["clients"] == 1
    victim, survivor = (a, b) if on_a else (b, a)
    victim.kill()
    for i in range(3, 8):
        _post(survivor.url, 1000.0 + i, start + i * 1000)
        time.sleep(0.2)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=30)
    end = start + 60_000
    expected = _api_points(survivor.url, start, end)
    assert len(expected) == 8
    wait_until(lambda: _chart_points(dash_br, start) == expected, timeout=15)


def test_a_browser_offline_for_seconds_ends_with_exactly_the_stored_points(dash_br, cluster):
    """Take the network away while points arrive; back online the chart equals the API."""
    a, _, _ = cluster
    _open(dash_br, a.url)
    driver = dash_br.driver
    start = int(time.time()) * 1000
    _post(a.url, 2000.0, start)
    wait_until(lambda: len(_chart_points(dash_br, start)) == 1)
    driver.execute_cdp_cmd("Network.enable", {})
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    for i in range(1, 11):
        _post(a.url, 2000.0 + i, start + i * 1000)
        time.sleep(0.5)
    online = {**offline, "offline": False}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", online)
    expected = _api_points(a.url, start, start + 60_000)
    assert len(expected) == 11
    wait_until(lambda: _chart_points(dash_br, start) == expected, timeout=40)
