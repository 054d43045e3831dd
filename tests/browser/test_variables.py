"""Dashboard variables in a browser: the demo's ``route`` dropdown redraws the requests chart
with only the picked routes (and nothing else), the URL carries ``var-route``, and opening
such a URL picks it."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.browser.test_live_page import open_dashboard, wait_until

pytestmark = pytest.mark.browser

GRAPH = "widget-line-requests-graph"
TRACES = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return gd && gd.data ? gd.data.map(function (t) { return t.name || ''; }) : null;
"""
# a mark on a card and on its chart's plot: kept only while neither is drawn anew
MARK = """
document.getElementById(arguments[0]).dataset.mark = 'kept';
document.querySelector('#' + arguments[0] + ' .js-plotly-plot').__mark = 'kept';
"""
MARKED = """
var el = document.getElementById(arguments[0]);
var gd = el && el.querySelector('.js-plotly-plot');
return el && gd ? [el.dataset.mark || null, gd.__mark || null] : null;
"""
SHOWN = """
var el = document.querySelector('[data-var="route"] .vars-select');
return el ? el.innerText : '';
"""


def shown(dash_br) -> str:
    """What the route dropdown shows as picked (its menu closed first)."""
    ActionChains(dash_br.driver).send_keys(Keys.ESCAPE).perform()
    return dash_br.driver.execute_script(SHOWN)


def routes_drawn(dash_br) -> list[str]:
    """The names of the requests chart's traces."""
    return dash_br.driver.execute_script(TRACES, GRAPH) or []


def test_picking_a_route_redraws_only_the_chart_that_uses_it(dash_br, live_server):
    """All routes at first; picking /api/orders leaves one trace, puts var-route in the URL
    and leaves every other widget as it was drawn."""
    open_dashboard(dash_br, live_server)
    wait_until(lambda: len(routes_drawn(dash_br)) == 4, timeout=20)
    assert "All" in shown(dash_br)
    dash_br.driver.execute_script(MARK, "widget-line-users")
    dash_br.driver.execute_script(MARK, "widget-line-errors")
    dash_br.select_dcc_dropdown('[data-var="route"] .vars-select', value="/api/orders")
    wait_until(lambda: "var-route=%2Fapi%2Forders" in dash_br.driver.current_url)
    names = wait_until(lambda: (n := routes_drawn(dash_br)) and len(n) == 1 and n, timeout=20)
    assert "/api/orders" in names[0]
    # All made way for the route picked after it
    assert "All" not in shown(dash_br)
    title = dash_br.find_element("#widget-line-requests .widget-title").text
    assert title.lower() == "requests per second: /api/orders"  # CSS capitalises it
    # the widgets that do not use the variable were left as they were drawn
    assert dash_br.driver.execute_script(MARKED, "widget-line-users") == ["kept", "kept"]
    assert dash_br.driver.execute_script(MARKED, "widget-line-errors") == ["kept", "kept"]
    # a second route: both drawn
    dash_br.select_dcc_dropdown('[data-var="route"] .vars-select', value="/login")
    wait_until(lambda: len(routes_drawn(dash_br)) == 2, timeout=20)
    assert "var-route=%2Flogin" in dash_br.driver.current_url
    assert dash_br.get_logs() == []


def test_opening_a_url_with_a_value_picks_it(dash_br, live_server):
    """``?var-route=/login`` opens with /login picked and drawn alone."""
    open_dashboard(dash_br, live_server)
    dash_br.driver.get(live_server.url + "/?var-route=" + quote("/login", safe=""))
    names = wait_until(
        lambda: (n := routes_drawn(dash_br)) and len(n) == 1 and "/login" in n[0] and n,
        timeout=20,
    )
    assert names
    wait_until(lambda: "/login" in shown(dash_br))
    assert "All" not in shown(dash_br)
    # a value that is no option is ignored: the default (All) is shown
    dash_br.driver.get(live_server.url + "/?var-route=" + quote('"} or vector(1)', safe=""))
    wait_until(lambda: len(routes_drawn(dash_br)) == 4, timeout=20)
