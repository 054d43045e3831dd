"""The dashboard in headless chromium: it loads cleanly, and a POSTed point is drawn."""

from __future__ import annotations

import time

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.conftest import ADMIN_PASSWORD
from tests.servers import LiveServer

pytestmark = pytest.mark.browser

JS_TRACE_Y = """
var outer = document.getElementById(arguments[0]);
var gd = outer && outer.querySelector('.js-plotly-plot');
var t = gd && gd.data ? gd.data[arguments[1]] : null;
return t ? t.y.slice(-50) : null;
"""


def sign_in(
    dash_br, server: LiveServer, username: str = "admin", password: str = ADMIN_PASSWORD
) -> None:
    """Open the dashboard, get sent to the sign-in page, and sign in with the form."""
    dash_br.server_url = server.url
    dash_br.wait_for_element("#login-username", timeout=20)
    dash_br.find_element("#login-username").send_keys(username)
    dash_br.find_element("#login-password").send_keys(password)
    dash_br.find_element("#login-submit").click()


def open_dashboard(dash_br, server: LiveServer) -> None:
    """Sign in, then wait until the charts are drawn and the live feed is up."""
    sign_in(dash_br, server)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.01):
    """Poll ``predicate`` until it returns something truthy; return it, or fail on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


def test_page_loads_with_every_widget_and_no_console_errors(dash_br, live_server):
    """Every widget of the default dashboard renders and the console stays clean."""
    started = time.monotonic()
    open_dashboard(dash_br, live_server)
    for wid in ("line-users", "line-errors", "line-requests"):
        dash_br.wait_for_element(f"#widget-{wid}-graph .main-svg")
    dash_br.wait_for_element("#widget-bar-revenue .main-svg")
    dash_br.wait_for_element("#widget-pie-requests .main-svg")
    print(f"page to charts drawn and live: {time.monotonic() - started:.2f} s")
    kpi = dash_br.find_element("#widget-kpi-users-value").text
    assert kpi.replace(",", "").isdigit(), kpi
    pills = [e.text for e in dash_br.find_elements(".status-pill")]
    assert len(pills) == 4 and set(pills) <= {"Up", "Degraded", "Down"}
    ARTIFACTS.mkdir(exist_ok=True)
    dash_br.driver.save_screenshot(str(ARTIFACTS / "dashboard.png"))
    assert dash_br.get_logs() == []


def test_posted_point_appears_on_the_chart_and_its_kpi_tile(dash_br, live_server):
    """A point POSTed to the ingest API is drawn by the line chart and shown by the KPI."""
    open_dashboard(dash_br, live_server)
    value = 98765.0
    # 1.5 s ahead: the newest point even if the demo's next one lands in the same frame
    ts = int(time.time() * 1000) + 1500
    posted = time.monotonic()
    response = live_server.ingest(
        {"metrics": [{"name": "demo.active_users", "points": [[ts, value]]}]}
    )
    assert response.status_code == 202, response.text
    # the KPI shows the newest value, so the demo's next point replaces ours within a second:
    # watch for both, each at whatever moment it shows
    seen = {"chart": None, "kpi": False}

    def both() -> bool:
        if seen["chart"] is None and value in (
            dash_br.driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0) or []
        ):
            seen["chart"] = time.monotonic() - posted
        if (
            dash_br.driver.execute_script(
                "return document.getElementById('widget-kpi-users-value').textContent;"
            )
            == "98,765"
        ):
            seen["kpi"] = True
        return seen["chart"] is not None and seen["kpi"]

    wait_until(both, interval=0.002)
    latency = seen["chart"]
    print(f"POST to point on chart: {latency * 1000:.0f} ms")
    assert dash_br.get_logs() == []


def test_charts_stay_current_by_polling_while_the_socket_is_down(dash_br, live_server):
    """With the Socket.IO endpoint unreachable the page says so, polls and still draws points.

    The socket's transport is closed and its reconnects are pointed at a path that does not
    exist (a 404, as when a proxy drops WebSocket traffic); Dash's own requests still work.
    """
    open_dashboard(dash_br, live_server)
    driver = dash_br.driver
    driver.execute_script(
        "var s = window.dashLive.socket(); s.io.opts.path = '/unreachable/'; s.io.engine.close();"
    )
    wait_until(lambda: "polling" in dash_br.find_element("#live-state").text)
    value = 43210.0
    response = live_server.ingest(
        {"metrics": [{"name": "demo.active_users", "points": [[int(time.time() * 1000), value]]}]}
    )
    assert response.status_code == 202
    wait_until(
        lambda: value in (driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0) or []),
        timeout=15,
    )
    ys = driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0)
    assert ys.count(value) == 1
    assert driver.execute_script("return window.dashLive.state();") != "live"
    driver.execute_script("window.dashLive.socket().io.opts.path = '/socket.io/';")
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=30)
    value2 = 54321.0
    live_server.ingest(
        {"metrics": [{"name": "demo.active_users", "points": [[int(time.time() * 1000), value2]]}]}
    )
    wait_until(
        lambda: value2 in (driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0) or [])
    )
    ys = driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0)
    assert ys.count(value) == 1 and ys.count(value2) == 1
    xs = driver.execute_script(
        "var gd=document.querySelector('#widget-line-users-graph .js-plotly-plot');"
        "return gd.data[0].x.slice(-200);"
    )
    assert xs == sorted(set(xs)), "a point was drawn twice or out of order"
    # the failed reconnects we caused are logged by the browser; nothing else may be
    unexpected = [
        e
        for e in dash_br.get_logs()
        if "unreachable" not in e["message"] and "WebSocket" not in e["message"]
    ]
    assert unexpected == []


def test_pause_keeps_what_arrives_and_resume_draws_it(dash_br, live_server):
    """Paused charts do not move; on resume every point that arrived meanwhile is drawn once."""
    open_dashboard(dash_br, live_server)
    driver = dash_br.driver
    dash_br.find_element("#live-pause").click()
    dash_br.wait_for_contains_text("#live-state", "Paused", timeout=5)
    values = [11111.0, 22222.0, 33333.0]
    for i, value in enumerate(values):
        ts = int(time.time() * 1000) + i
        response = live_server.ingest(
            {"metrics": [{"name": "demo.active_users", "points": [[ts, value]]}]}
        )
        assert response.status_code == 202
    time.sleep(0.5)
    drawn = driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0)
    assert not set(values) & set(drawn), "a paused chart moved"
    assert "new points" in dash_br.find_element("#live-state").text
    dash_br.find_element("#live-pause").click()
    wait_until(
        lambda: (
            set(values)
            <= set(driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0) or [])
        )
    )
    drawn = driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0)
    assert all(drawn.count(v) == 1 for v in values)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=5)
