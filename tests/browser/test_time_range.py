"""The time range in a browser: presets, a shared link, bar drill-down and zoom re-query."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from tests.browser.test_live_page import open_dashboard, wait_until

pytestmark = pytest.mark.browser

SPAN = """
var gd = document.querySelector('#widget-line-users-graph .js-plotly-plot');
if (!gd || !gd.data || !gd.data[0] || !gd.data[0].x.length) { return null; }
var x = gd.data[0].x;
return [x[0], x[x.length - 1], x.length];
"""


def test_choosing_a_preset_requeries_and_the_url_shares_it(dash_br, live_server):
    """Last hour: the charts cover an hour, the URL says so, and opening that URL shows it."""
    open_dashboard(dash_br, live_server)
    first, last, _ = dash_br.driver.execute_script(SPAN)
    assert last - first > 20 * 3_600_000  # the default: 24 h of demo history
    dash_br.select_dcc_dropdown("#range-select", value="Last hour")
    wait_until(lambda: "range=1h" in dash_br.driver.current_url)
    wait_until(lambda: (s := dash_br.driver.execute_script(SPAN)) and s[1] - s[0] < 3_700_000)
    dash_br.wait_for_contains_text("#range-text", "Last hour, live", timeout=10)
    dash_br.driver.get(live_server.url + "/?range=6h")
    wait_until(
        lambda: (
            (s := dash_br.driver.execute_script(SPAN))
            and 5 * 3_600_000 < s[1] - s[0] < 6.2 * 3_600_000
        ),
        timeout=20,
    )
    dash_br.wait_for_contains_text("#range-text", "Last 6 hours, live", timeout=10)


def test_clicking_a_bar_drills_into_its_hour(dash_br, live_server):
    """A click on an hourly revenue bar opens that hour at a finer step, with a way back."""
    open_dashboard(dash_br, live_server)
    bars = wait_until(
        lambda: dash_br.driver.find_elements(
            "css selector", "#widget-bar-revenue .bars .point path"
        )
    )
    # Plotly takes clicks on its drag layer above the bars: click at the bar's place
    ActionChains(dash_br.driver).move_to_element(bars[len(bars) // 2]).click().perform()
    wait_until(lambda: "from=" in dash_br.driver.current_url)
    dash_br.wait_for_contains_text("#range-text", "(fixed)", timeout=10)
    span = wait_until(
        lambda: (s := dash_br.driver.execute_script(SPAN)) and s[1] - s[0] <= 3_600_000 and s
    )
    assert span[2] > 60  # finer than the hourly bars: raw points within the hour
    dash_br.find_element("#range-live").click()
    wait_until(lambda: "range=24h" in dash_br.driver.current_url)
    dash_br.wait_for_contains_text("#range-text", "live", timeout=10)


def test_zooming_a_chart_reads_the_zoomed_range_again(dash_br, live_server):
    """Drag-zoom into ten minutes: the charts hold that range at full resolution, shareably."""
    open_dashboard(dash_br, live_server)
    # let the first live frame land, so the zoom is not raced by the page still settling
    wait_until(lambda: dash_br.driver.execute_script("return window.dashLive.stats.frames") > 0)
    before = dash_br.driver.execute_script(SPAN)
    end = before[1] - 3_600_000
    start = end - 600_000
    dash_br.driver.execute_script(
        "var gd = document.querySelector('#widget-line-users-graph .js-plotly-plot');"
        "Plotly.relayout(gd, {'xaxis.range[0]': arguments[0], 'xaxis.range[1]': arguments[1]});",
        start,
        end,
    )
    # the chart now starts at the zoom (the live tail may still append newer points)
    first, count = wait_until(
        lambda: (
            (
                r := dash_br.driver.execute_script(
                    "var gd = document.querySelector('#widget-line-users-graph .js-plotly-plot');"
                    "var x = gd.data[0].x, n = 0;"
                    "for (var i = 0; i < x.length; i++) {"
                    " if (x[i] >= arguments[0] && x[i] <= arguments[1]) n++; }"
                    "return [x[0], n];",
                    start,
                    end,
                )
            )
            and r[0] >= start - 10_000
            and r
        ),
        timeout=25,
    )
    assert count >= 55  # ten minutes of the demo's 10 s history, not the 24 h sample
    # the zoom is the page's range now: in the URL, so a link opens the same view
    wait_until(lambda: "from=" in dash_br.driver.current_url)
    dash_br.wait_for_contains_text("#range-text", "(fixed)", timeout=10)
    shared = dash_br.driver.current_url
    dash_br.driver.get(shared)
    wait_until(
        lambda: (s := dash_br.driver.execute_script(SPAN)) and s[1] - s[0] <= 600_000,
        timeout=20,
    )
    time.sleep(0.5)
    assert dash_br.get_logs() == []


def test_an_imported_dashboard_opens_from_the_switcher_and_its_link(dash_br, live_server):
    """Import a dashboard through the API, pick it in the page, and open it by its URL."""
    import requests

    from tests.conftest import ADMIN_PASSWORD

    session = requests.Session()
    session.post(
        live_server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
    )
    csrf = {"X-CSRFToken": session.cookies.get("_csrf_token")}
    board = {
        "id": "errors-only",
        "title": "Errors only",
        "schema_version": 1,
        "widgets": [
            {
                "id": "errs",
                "kind": "line",
                "title": "Error rate alone",
                "series": [{"name": "demo.error_rate", "labels": {}}],
                "layout": {"x": 0, "y": 0, "w": 12, "h": 4},
            }
        ],
    }
    created = session.post(live_server.url + "/api/v1/dashboards", json=board, headers=csrf)
    assert created.status_code == 201, created.text
    open_dashboard(dash_br, live_server)
    dash_br.find_element("#finder > summary").click()  # the quick picker is in the list's panel
    dash_br.select_dcc_dropdown("#dashboard-select", value="Errors only")
    wait_until(lambda: "dashboard=errors-only" in dash_br.driver.current_url)
    dash_br.wait_for_text_to_equal("#header-title", "Errors only", timeout=10)
    dash_br.wait_for_element("#widget-errs-graph .main-svg", timeout=10)
    assert not dash_br.driver.find_elements("css selector", "#widget-line-users-graph")
    dash_br.driver.get(live_server.url + "/?dashboard=errors-only&range=1h")
    dash_br.wait_for_element("#widget-errs-graph .main-svg", timeout=20)
    dash_br.wait_for_text_to_equal("#header-title", "Errors only", timeout=10)
    assert dash_br.get_logs() == []
