"""A dashboard of PromQL expressions in chromium: drawn with their legends, pushed live every
second, and written in the editor's query field with inline errors and completion."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.browser.test_live_page import sign_in, wait_until
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

AHEAD_MS = 15_000
RATE = "sum by (route) (rate(shop_orders_total[1m]))"
JS_TRACES = """
var outer = document.getElementById(arguments[0]);
var gd = outer && outer.querySelector('.js-plotly-plot');
return gd && gd.data ? gd.data.map(function (t) {
  return {name: t.name, n: (t.x || []).length, last: t.y[t.y.length - 1]};
}) : null;
"""


def orders(server, start_ms: int, end_ms: int) -> None:
    """Counters of orders on two routes, a sample every 5 s: /a at 1/s, /b at 2/s."""
    metrics = []
    for route, per_s in (("/a", 1.0), ("/b", 2.0)):
        points = [[t, per_s * t / 1000] for t in range(start_ms, end_ms + 1, 5_000)]
        metrics.append(
            {
                "name": "shop_orders_total",
                "labels": {"route": route},
                "type": "counter",
                "points": points,
            }
        )
    response = server.ingest({"metrics": metrics})
    assert response.status_code == 202, response.text


def test_an_expression_chart_draws_with_its_legend_and_moves_every_second(dash_br, live_server):
    """The rate of each route is drawn as a trace named by the legend and gains a point a
    second from the live feed, at the rate the counters grow."""
    now = int(time.time() * 1000) // 5_000 * 5_000
    orders(live_server, now - 10 * 60_000, now + AHEAD_MS)
    stop = threading.Event()

    def keep_counting() -> None:
        """Go on sending as a scraped exporter would, every 5 s, a sample ``AHEAD_MS`` early
        (so a late send on a loaded machine never cuts the rate's window short)."""
        last = now
        while not stop.wait(0.5):
            t = int(time.time() * 1000) // 5_000 * 5_000
            if t > last:
                orders(live_server, t + AHEAD_MS, t + AHEAD_MS)
                last = t

    sender = threading.Thread(target=keep_counting, daemon=True)
    sender.start()
    session = requests.Session()
    session.post(
        live_server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
    )
    board = {
        "id": "orders",
        "title": "Orders",
        "widgets": [
            {
                "id": "rate",
                "kind": "line",
                "title": "Orders per second",
                "series": [{"expr": RATE, "legend": "route {{route}}"}],
                "range": {"from": "now-15m", "to": "now"},
                "layout": {"x": 0, "y": 0, "w": 8, "h": 4},
            }
        ],
    }
    made = session.post(
        live_server.url + "/api/v1/dashboards",
        json=board,
        headers={"X-CSRFToken": session.cookies.get("_csrf_token")},
    )
    assert made.status_code == 201, made.text
    try:
        sign_in(dash_br, live_server)
        dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
        dash_br.driver.get(live_server.url + "/?dashboard=orders")
        dash_br.wait_for_element("#widget-rate-graph .main-svg", timeout=20)
        dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)
        drawn = wait_until(lambda: dash_br.driver.execute_script(JS_TRACES, "widget-rate"))
        assert [t["name"] for t in drawn] == ["route /a", "route /b"]
        assert drawn[0]["last"] == pytest.approx(1.0) and drawn[1]["last"] == pytest.approx(2.0)
        grown = wait_until(
            lambda: (
                (t := dash_br.driver.execute_script(JS_TRACES, "widget-rate"))
                and t[0]["n"] >= drawn[0]["n"] + 3
                and t
            ),
            timeout=10,
        )
        assert grown[0]["last"] == pytest.approx(1.0) and grown[1]["last"] == pytest.approx(2.0)
        assert dash_br.get_logs() == []
    finally:
        stop.set()
        sender.join(5)


def test_the_query_field_checks_and_completes_as_it_is_typed(dash_br, live_server):
    """Edit mode's query field proposes metric names and label values, says where a query
    is wrong, and adds a widget of it."""
    now = int(time.time() * 1000) // 5_000 * 5_000
    # samples 3 min ahead too (within the future skew ingest allows), so the rate over [1m]
    # is the full 2/s whenever the widget is drawn, however slow the steps before it
    orders(live_server, now - 60_000, now + 180_000)
    sign_in(dash_br, live_server)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.find_element("#edit-toggle").click()
    dash_br.wait_for_text_to_equal("#edit-toggle", "Done editing", timeout=5)
    # a counter picked as a metric: its rate is proposed, and one click writes it
    dash_br.select_dcc_dropdown("#add-metric", value="shop_orders_total")
    dash_br.wait_for_contains_text("#add-metric-hint", "is a counter", timeout=10)
    dash_br.find_element("#add-query-use").click()
    wait_until(
        lambda: (
            dash_br.find_element("#add-query").get_attribute("value")
            == "rate(shop_orders_total[5m])"
        )
    )
    dash_br.wait_for_contains_text("#add-query-check", "reads well", timeout=5)
    dash_br.driver.execute_script(
        "var f = document.getElementById('add-query');"
        "var set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
        "set.call(f, ''); f.dispatchEvent(new Event('input', {bubbles: true}));"
    )
    field = dash_br.find_element("#add-query")
    field.send_keys("sum(rate(shop_ord")

    def options() -> list[str]:
        """The completions the datalist offers now."""
        return dash_br.driver.execute_script(
            "return Array.from(document.querySelectorAll('#add-query-hints option'))"
            ".map(function (o) { return o.value; })"
        )

    assert wait_until(lambda: "sum(rate(shop_orders_total" in options())
    field.send_keys('ers_total{route="/')
    assert wait_until(lambda: 'sum(rate(shop_orders_total{route="/b"' in options())
    dash_br.wait_for_contains_text("#add-query-check", "parse error at char", timeout=5)
    field.send_keys('b"}[1m]))')
    dash_br.wait_for_contains_text("#add-query-check", "reads well", timeout=5)
    dash_br.find_element("#add-title").send_keys("Orders on /b")
    dash_br.find_element("#add-submit").click()
    dash_br.wait_for_contains_text("#edit-status", "Added Orders on /b", timeout=10)
    # added below the others, so drawn once scrolled to
    dash_br.driver.execute_script(
        "document.getElementById(arguments[0]).scrollIntoView()", "widget-orders-on--b"
    )
    dash_br.wait_for_element("#widget-orders-on--b .main-svg", timeout=20)
    drawn = wait_until(lambda: dash_br.driver.execute_script(JS_TRACES, "widget-orders-on--b"))
    assert drawn[0]["last"] == pytest.approx(2.0)
    assert dash_br.get_logs() == []


def test_the_header_csv_exports_what_the_page_shows(dash_br, live_server):
    """On a filtered page over the last hour the header's CSV holds that filter and range."""
    sign_in(dash_br, live_server)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.driver.get(live_server.url + "/?dashboard=default&range=1h&filter=route=/login")
    dash_br.wait_for_element("#widget-line-requests-graph .main-svg", timeout=20)
    dash_br.driver.execute_script(
        "var a = document.getElementById('export-csv');"
        "a.removeAttribute('download'); a.addEventListener('click', function (e) {"
        " e.preventDefault(); }); a.click();"
    )
    href = dash_br.find_element("#export-csv").get_attribute("href")
    assert "view=%3Fdashboard%3Ddefault%26range%3D1h%26filter%3Droute%3D%2Flogin" in href
    text = dash_br.driver.execute_async_script(
        "var done = arguments[1]; fetch(arguments[0], {credentials: 'same-origin'})"
        ".then(function (r) { return r.text(); }).then(done);",
        href,
    )
    series = {line.split(",")[0] for line in text.splitlines()[1:] if line}
    assert series == {'"demo.requests{route=""/login""}"'}
