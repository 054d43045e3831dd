"""The page says when its node's Redis is gone, keeps what it has by polling, and recovers.

A real ``dashboard serve`` on a private redis-server that is SIGKILLed, then restarted.
"""

from __future__ import annotations

import time

import pytest

from tests.browser.test_live_page import JS_TRACE_Y, open_dashboard, wait_until
from tests.faults.harness import redis_env, web_node
from tests.redis_server import private_redis  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

DELAYED = "Updates delayed: message bus unreachable — polling"
POLLS = (
    "return performance.getEntriesByType('resource')"
    ".filter(function (e) { return e.name.indexOf('_dash-update-component') >= 0; }).length;"
)


def _users(driver) -> list[float]:
    """The active-users chart's newest values."""
    return driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0) or []


def _post(node, value: float):  # type: ignore[no-untyped-def]
    """POST one active-users point now; the response."""
    point = [int(time.time() * 1000), value]
    return node.ingest({"metrics": [{"name": "demo.active_users", "points": [point]}]})


def test_banner_while_redis_is_down_and_live_again_after(dash_br, private_redis, tmp_path):  # noqa: F811
    """Redis killed: the status and a banner say updates are delayed, the page polls and keeps
    its chart; Redis back: the banner goes, the status is Live and new points are drawn."""
    node = web_node(tmp_path, redis_env(private_redis.url, tmp_path / "app.db"))
    try:
        open_dashboard(dash_br, node)
        driver = dash_br.driver
        banner = dash_br.find_element("#live-banner")
        assert not banner.is_displayed()
        assert _post(node, 111.0).status_code == 202
        wait_until(lambda: 111.0 in _users(driver), timeout=15)

        private_redis.kill()
        dash_br.wait_for_text_to_equal("#live-state", DELAYED, timeout=20)
        wait_until(lambda: banner.is_displayed() and DELAYED in banner.text)
        assert dash_br.find_element("#live-state").get_attribute("role") == "status"
        assert _post(node, 222.0).status_code == 503  # the node refuses what it cannot keep
        polls = driver.execute_script(POLLS)
        wait_until(lambda: driver.execute_script(POLLS) >= polls + 2, timeout=15)  # it polls
        assert 111.0 in _users(driver)

        private_redis.start()
        dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)
        wait_until(lambda: not banner.is_displayed())
        # ingest answers again once the node's Redis client has reconnected
        wait_until(lambda: _post(node, 333.0).status_code == 202, timeout=20, interval=0.5)
        wait_until(lambda: 333.0 in _users(driver), timeout=15)
        ys = _users(driver)
        assert ys.count(111.0) == 1 and ys.count(333.0) >= 1 and 222.0 not in ys
    finally:
        node.stop()
