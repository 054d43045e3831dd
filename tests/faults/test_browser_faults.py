"""Browser fault cases on two nodes behind nginx: the node holding the page's socket is killed;
the browser loses its network for 10 s. Either way the chart ends equal to the stored series."""

from __future__ import annotations

import time

import pytest
import requests

from tests.browser.test_live_page import wait_until
from tests.cluster import api_points, chart_points, open_dashboard, post_point
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser
OFFLINE_S = 10


def test_browser_moves_to_the_other_node_when_its_node_dies_and_misses_nothing(dash_br, cluster):
    """Kill the node behind nginx that holds the socket: the page reconnects and catches up."""
    a, b, proxy = cluster
    open_dashboard(dash_br, proxy.url)
    # one point a second of data time (the hot store keeps one a second), sent quickly
    start = int(time.time()) * 1000
    for i in range(3):
        post_point(proxy.url, 1000.0 + i, start + i * 1000)
    wait_until(lambda: len(chart_points(dash_br, start)) == 3)
    session = requests.Session()
    session.post(
        a.url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    on_a = session.get(a.url + "/healthz").json()["live"]["clients"] == 1
    victim, survivor = (a, b) if on_a else (b, a)
    victim.kill()
    for i in range(3, 8):
        post_point(survivor.url, 1000.0 + i, start + i * 1000)
        time.sleep(0.2)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=30)
    end = start + 60_000
    expected = api_points(survivor.url, start, end)
    assert len(expected) == 8
    wait_until(lambda: chart_points(dash_br, start) == expected, timeout=15)


def test_a_browser_offline_for_10_s_ends_with_exactly_the_stored_points(dash_br, cluster):
    """Take the browser's network away for 10 s while points arrive (a point every half
    second); back online the chart, after its catch-up, equals the stored series for the range."""
    a, _, _ = cluster
    open_dashboard(dash_br, a.url)
    driver = dash_br.driver
    start = int(time.time()) * 1000
    post_point(a.url, 2000.0, start)
    wait_until(lambda: len(chart_points(dash_br, start)) == 1)
    driver.execute_cdp_cmd("Network.enable", {})
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    went_offline = time.monotonic()
    sent = 1
    while time.monotonic() - went_offline < OFFLINE_S:
        post_point(a.url, 2000.0 + sent, start + sent * 1000)
        sent += 1
        time.sleep(0.5)
    assert driver.execute_script("return navigator.onLine") is False
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    expected = api_points(a.url, start, start + 60_000)
    assert len(expected) == sent
    wait_until(lambda: chart_points(dash_br, start) == expected, timeout=40)
