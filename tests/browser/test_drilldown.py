"""Looking closer in a browser: pie drill-down with its breadcrumb, the label filter, the table
widget and a KPI's change against the previous period."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.browser.test_live_page import open_dashboard, wait_until
from tests.conftest import ADMIN_PASSWORD
from tests.servers import LiveServer

pytestmark = pytest.mark.browser

CRUMBS = (
    "return Array.from(document.querySelectorAll('#view-breadcrumb li')).map(e => e.textContent);"
)
TRACE_NAMES = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return gd && gd.data ? gd.data.map(function (t) { return t.name; }) : null;
"""


def crumbs(dash_br) -> list[str]:
    """The breadcrumb's levels as shown."""
    return dash_br.driver.execute_script(CRUMBS)


def click_crumb(dash_br, text: str) -> None:
    """Follow the breadcrumb link with this text."""
    links = dash_br.driver.find_elements("css selector", "#view-breadcrumb a")
    next(a for a in links if a.text == text).click()


def test_a_pie_slice_drills_down_and_the_breadcrumb_leads_back(dash_br, live_server):
    """Last 6 hours, a bar drill, then a route's slice: the pie becomes that route over time;
    each crumb goes back one level, and the drilled view is a link that opens the same way."""
    open_dashboard(dash_br, live_server)
    assert crumbs(dash_br) == ["SaaS overview", "Last 24 hours"]
    dash_br.driver.get(live_server.url + "/?range=6h")
    wait_until(lambda: crumbs(dash_br) == ["SaaS overview", "Last 6 hours"], timeout=20)
    dash_br.wait_for_contains_text("#range-select", "Last 6 hours", timeout=10)  # from the URL
    bars = wait_until(
        lambda: dash_br.driver.find_elements(
            "css selector", "#widget-bar-revenue .bars .point path"
        )
    )
    ActionChains(dash_br.driver).move_to_element(bars[len(bars) // 2]).click().perform()
    wait_until(lambda: "from=" in dash_br.driver.current_url)
    assert "back=6h" in dash_br.driver.current_url  # the preset the drill came from
    wait_until(lambda: len(crumbs(dash_br)) == 3 and crumbs(dash_br)[2].endswith("UTC"))
    hour = crumbs(dash_br)[2]
    slices = wait_until(
        lambda: dash_br.driver.find_elements("css selector", "#widget-pie-requests .slice path")
    )
    ActionChains(dash_br.driver).move_to_element(slices[0]).click().perform()
    wait_until(lambda: "drill=pie-requests%3Aroute" in dash_br.driver.current_url)
    # one route is one series: the slice opens as a line of it over the hour
    dash_br.wait_for_element("#widget-pie-requests-graph .main-svg", timeout=15)
    route = wait_until(lambda: len(crumbs(dash_br)) == 4 and crumbs(dash_br)[3])
    assert route.startswith("route=/")
    assert crumbs(dash_br)[:3] == ["SaaS overview", "Last 6 hours", hour]
    names = dash_br.driver.execute_script(TRACE_NAMES, "widget-pie-requests-graph")
    assert names == [route.removeprefix("route=")]
    title = dash_br.driver.execute_script(
        "return document.querySelector('#widget-pie-requests .widget-title').textContent;"
    )
    assert title.endswith(f"› {route}")
    shared = dash_br.driver.current_url
    # back to the hour: the pie again, no drill in the URL
    click_crumb(dash_br, hour)
    wait_until(lambda: "drill=" not in dash_br.driver.current_url)
    assert "from=" in dash_br.driver.current_url
    dash_br.wait_for_element("#widget-pie-requests .slice path", timeout=15)
    assert len(crumbs(dash_br)) == 3
    # back to the preset the bar drill came from: live again
    click_crumb(dash_br, "Last 6 hours")
    wait_until(lambda: "range=6h" in dash_br.driver.current_url)
    dash_br.wait_for_contains_text("#range-text", "Last 6 hours, live", timeout=10)
    assert crumbs(dash_br) == ["SaaS overview", "Last 6 hours"]
    # the drilled link, opened afresh, shows the drilled view
    dash_br.driver.get(shared)
    dash_br.wait_for_element("#widget-pie-requests-graph .main-svg", timeout=20)
    wait_until(lambda: crumbs(dash_br)[-1] == route, timeout=15)
    time.sleep(0.5)
    assert dash_br.get_logs() == []


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server without the demo, with orders by region and a dashboard of them."""
    server = LiveServer(tmp_path_factory.mktemp("shop") / "data", demo=False)
    now = int(time.time() * 1000)
    minute = 60_000
    batch = {
        "metrics": [
            {
                "name": "shop.orders",
                "labels": {"region": "eu"},
                # the hour before the last: 16 on average; the last hour: 10, 30, 20
                "points": [[now - 90 * minute, 16]]
                + [[now - (3 - i) * minute, v] for i, v in enumerate((10, 30, 20))],
            },
            {
                "name": "shop.orders",
                "labels": {"region": "us"},
                "points": [[now - 2 * minute, 5], [now - minute, 7]],
            },
            {"name": "shop.visits", "points": [[now - minute, 100]]},
        ]
    }
    try:
        assert server.ingest(batch).status_code == 202
        session = requests.Session()
        session.post(
            server.url + "/api/v1/auth/login",
            json={"username": "admin", "password": ADMIN_PASSWORD},
        )
        orders = [{"name": "shop.orders", "labels": {}}]

        def widget(wid, kind, title, series, x, **extra):
            """A widget on the top row."""
            return {
                "id": wid,
                "kind": kind,
                "title": title,
                "series": series,
                "layout": {"x": x, "y": 0, "w": 3, "h": 4},
                **extra,
            }

        board = {
            "id": "shop",
            "title": "Shop",
            "schema_version": 1,
            "widgets": [
                widget("orders", "line", "Orders by region", orders, 0),
                widget("orders-table", "table", "Orders table", orders, 3, format={"decimals": 2}),
                widget(
                    "orders-eu",
                    "stat",
                    "EU orders",
                    [{"name": "shop.orders", "labels": {"region": "eu"}}],
                    6,
                    format={"decimals": 1},
                ),
                widget("visits", "line", "Visits", [{"name": "shop.visits", "labels": {}}], 9),
            ],
        }
        created = session.post(
            server.url + "/api/v1/dashboards",
            json=board,
            headers={"X-CSRFToken": session.cookies.get("_csrf_token")},
        )
        assert created.status_code == 201, created.text
        # the persister writes asynchronously: wait until the API reads every point back
        wait_until(
            lambda: len(session.get(server.url + "/api/v1/metrics").json().get("series", [])) >= 3,
            timeout=15,
            interval=0.2,
        )
        yield server
    finally:
        server.stop()


def open_shop(dash_br, server: LiveServer, query: str = "") -> None:
    """Sign in, then open the shop dashboard over the last hour."""
    open_dashboard(dash_br, server)
    dash_br.driver.get(server.url + "/?dashboard=shop&range=1h" + query)
    dash_br.wait_for_text_to_equal("#header-title", "Shop", timeout=20)
    dash_br.wait_for_element("#widget-orders-graph .main-svg", timeout=20)


def test_the_filter_narrows_every_widget_and_says_when_nothing_is_left(dash_br, shop_server):
    """region=eu: the orders chart keeps the EU series, visits (no region) say so; a bad
    filter is explained and the page still shows everything."""
    open_shop(dash_br, shop_server)
    wait_until(
        lambda: (
            sorted(dash_br.driver.execute_script(TRACE_NAMES, "widget-orders-graph") or [])
            == ["eu", "us"]
        )
    )
    box = dash_br.find_element("#view-filter")
    box.send_keys("region=eu", Keys.ENTER)
    wait_until(lambda: "filter=region%3Deu" in dash_br.driver.current_url)
    wait_until(
        lambda: dash_br.driver.execute_script(TRACE_NAMES, "widget-orders-graph") == ["eu"],
        timeout=15,
    )
    dash_br.wait_for_text_to_equal("#widget-visits .widget-empty", "No data for filter region=eu")
    dash_br.wait_for_contains_text("#view-filter-status", "Only series with region=eu")
    # the filtered view is a link: opened afresh, the box shows the filter
    dash_br.driver.get(dash_br.driver.current_url)
    wait_until(
        lambda: dash_br.driver.execute_script(TRACE_NAMES, "widget-orders-graph") == ["eu"],
        timeout=20,
    )
    assert dash_br.find_element("#view-filter").get_attribute("value") == "region=eu"
    box = dash_br.find_element("#view-filter")
    box.clear()
    box.send_keys("region", Keys.ENTER)
    dash_br.wait_for_contains_text("#view-filter-status", "is not label=value", timeout=15)
    wait_until(
        lambda: (
            sorted(dash_br.driver.execute_script(TRACE_NAMES, "widget-orders-graph") or [])
            == ["eu", "us"]
        )
    )
    assert dash_br.driver.find_elements("css selector", "#widget-visits-graph .main-svg")


def table_rows(dash_br) -> list[list[str]]:
    """The table widget's body, cell by cell."""
    return dash_br.driver.execute_script(
        "return Array.from(document.querySelectorAll('#widget-orders-table tbody tr'))"
        ".map(r => Array.from(r.children).map(c => c.textContent));"
    )


def test_the_table_shows_each_series_and_takes_live_points(dash_br, shop_server):
    """A row a region with last, min, max and avg of the hour; the average (the widget's
    aggregation) is marked; a new point updates the last value live."""
    open_shop(dash_br, shop_server)
    rows = wait_until(lambda: len(table_rows(dash_br)) == 2 and table_rows(dash_br))
    assert rows == [
        ["shop.orders {region=eu}", "20.00", "10.00", "30.00", "20.00"],
        ["shop.orders {region=us}", "7.00", "5.00", "7.00", "6.00"],
    ]
    table = dash_br.find_element("#widget-orders-table table")
    assert table.find_element("css selector", "caption").text.startswith("Orders table")
    marked = table.find_element("css selector", "thead th.table-agg")
    assert marked.text.startswith("Avg") and marked.get_attribute("scope") == "col"
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)
    response = shop_server.ingest(
        {
            "metrics": [
                {
                    "name": "shop.orders",
                    "labels": {"region": "us"},
                    "points": [[int(time.time() * 1000), 42.5]],
                }
            ]
        }
    )
    assert response.status_code == 202
    wait_until(lambda: table_rows(dash_br)[1][1] == "42.50", timeout=10)


def test_a_kpi_shows_its_change_against_the_previous_period(dash_br, shop_server):
    """EU orders averaged 20 this hour against 16 the hour before: up 25 %, said as such."""
    open_shop(dash_br, shop_server)
    delta = dash_br.wait_for_element("#widget-orders-eu-delta", timeout=15)
    assert delta.text == "▲ 25.0% vs previous 1 h"
    assert delta.get_attribute("aria-label") == "Up 25.0% against the previous 1 h"
    assert "stat-delta-up" in delta.get_attribute("class")


def test_a_table_row_drills_into_its_series_by_keyboard(dash_br, shop_server):
    """Tab to a row's series name, Enter: the widget shows that region's orders over time
    (one series: a line), the breadcrumb has a level for it; Escape goes back to the table."""
    open_shop(dash_br, shop_server)
    wait_until(lambda: len(table_rows(dash_br)) == 2)
    link = dash_br.find_element("#widget-orders-table a.table-drill")
    assert link.get_attribute("data-drill") == "orders-table:region=eu"
    dash_br.driver.execute_script("arguments[0].focus();", link)
    dash_br.driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_until(lambda: "drill=orders-table" in dash_br.driver.current_url)
    wait_until(lambda: crumbs(dash_br)[-1] == "region=eu")
    dash_br.wait_for_element("#widget-orders-table .js-plotly-plot", timeout=20)  # a line now
    dash_br.driver.find_element("css selector", "body").send_keys(Keys.ESCAPE)
    wait_until(lambda: "drill=" not in dash_br.driver.current_url)
    wait_until(lambda: len(table_rows(dash_br)) == 2)
