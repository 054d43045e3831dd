"""Every drill-down works by keyboard: Tab to a chart, the arrow keys pick a bar, a slice or a
point (read out in a live region), Enter opens it, Escape or Backspace goes back a level."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from tests.browser.test_drilldown import crumbs
from tests.browser.test_live_page import open_dashboard, wait_until

pytestmark = pytest.mark.browser

FOCUS = "var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot'); gd.focus();"
FOCUSED = "return document.activeElement && document.activeElement.getAttribute('aria-label');"


def keys(dash_br, *pressed: str) -> None:
    """Send keys to whatever has the focus."""
    dash_br.driver.switch_to.active_element.send_keys(*pressed)


def announced(dash_br) -> str:
    """What the live region says now."""
    return dash_br.driver.execute_script(
        "var a = document.getElementById('drill-announce'); return a ? a.textContent : '';"
    )


def test_bar_slice_and_line_drill_by_keyboard_and_escape_goes_back(dash_br, live_server):
    """A bar opens its hour, a slice its breakdown, a line point the span around it; Escape
    and Backspace climb the breadcrumb back; each step is announced."""
    open_dashboard(dash_br, live_server)
    dash_br.driver.get(live_server.url + "/?range=6h")
    wait_until(lambda: crumbs(dash_br) == ["SaaS overview", "Last 6 hours"], timeout=20)

    bar = wait_until(
        lambda: dash_br.driver.find_elements("css selector", '[id*="bar-revenue"] .js-plotly-plot')
    )[0]
    wait_until(lambda: bar.get_attribute("tabindex") == "0")
    dash_br.driver.execute_script("arguments[0].focus();", bar)
    assert "Arrow keys pick a bar" in dash_br.driver.execute_script(FOCUSED)
    keys(dash_br, Keys.END)
    wait_until(lambda: " UTC: " in announced(dash_br))
    keys(dash_br, Keys.ARROW_LEFT, Keys.ENTER)
    wait_until(lambda: "from=" in dash_br.driver.current_url)
    wait_until(lambda: len(crumbs(dash_br)) == 3 and crumbs(dash_br)[2].endswith("UTC"))
    assert announced(dash_br).startswith("Opened ")

    slices = wait_until(
        lambda: dash_br.driver.find_elements(
            "css selector", '[id*="pie-requests"] .js-plotly-plot[tabindex="0"]'
        )
    )
    dash_br.driver.execute_script("arguments[0].focus();", slices[0])
    keys(dash_br, Keys.ARROW_RIGHT)
    wait_until(lambda: "(1 of " in announced(dash_br))
    keys(dash_br, Keys.ENTER)
    wait_until(lambda: "drill=pie-requests" in dash_br.driver.current_url)
    wait_until(lambda: len(crumbs(dash_br)) == 4)

    keys(dash_br, Keys.ESCAPE)  # back out of the slice
    wait_until(lambda: "drill=" not in dash_br.driver.current_url)
    wait_until(lambda: len(crumbs(dash_br)) == 3)
    dash_br.driver.execute_script("document.activeElement.blur();")
    dash_br.driver.find_element("css selector", "body").send_keys(Keys.BACKSPACE)  # the hour
    wait_until(lambda: "from=" not in dash_br.driver.current_url)
    wait_until(lambda: crumbs(dash_br) == ["SaaS overview", "Last 6 hours"])

    line = wait_until(
        lambda: dash_br.driver.find_elements(
            "css selector", '#widget-line-users-graph .js-plotly-plot[tabindex="0"]'
        )
    )[0]
    dash_br.driver.execute_script("arguments[0].focus();", line)
    keys(dash_br, Keys.HOME, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT)
    wait_until(lambda: "(3 of " in announced(dash_br))  # Home is the first, then two on
    keys(dash_br, Keys.ENTER)
    wait_until(
        lambda: "from=" in dash_br.driver.current_url and "back=6h" in dash_br.driver.current_url
    )
    assert announced(dash_br).startswith("Opened the span around ")
    assert dash_br.get_logs() == []


def test_v_opens_a_widget_alone_and_escape_comes_back(dash_br, live_server):
    """`v` on a focused chart shows that widget alone across the grid (a link: ``panel=ID``
    with the page's range kept); Escape returns to the whole board; the View link does the
    same by mouse."""
    open_dashboard(dash_br, live_server)
    dash_br.driver.get(live_server.url + "/?range=6h")
    wait_until(lambda: crumbs(dash_br) == ["SaaS overview", "Last 6 hours"], timeout=20)
    line = wait_until(
        lambda: dash_br.driver.find_elements(
            "css selector", '#widget-line-users-graph .js-plotly-plot[tabindex="0"]'
        )
    )[0]
    dash_br.driver.execute_script("arguments[0].focus();", line)
    keys(dash_br, "v")
    wait_until(lambda: "panel=line-users" in dash_br.driver.current_url)
    assert "range=6h" in dash_br.driver.current_url
    cards = wait_until(
        lambda: (
            (c := dash_br.driver.find_elements("css selector", "#widgets-grid > .widget"))
            and len(c) == 1
            and c
        )
    )
    assert cards[0].get_attribute("id") == "widget-line-users"
    assert cards[0].value_of_css_property("grid-column-end") == "span 12"
    assert crumbs(dash_br)[-1] == "panel line-users"
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.driver.find_element("css selector", "body").send_keys(Keys.ESCAPE)
    wait_until(lambda: "panel=" not in dash_br.driver.current_url)
    wait_until(
        lambda: len(dash_br.driver.find_elements("css selector", "#widgets-grid > .widget")) > 5
    )
    dash_br.find_element("#widget-pie-requests a.panel-link").click()
    wait_until(lambda: "panel=pie-requests" in dash_br.driver.current_url)
    assert dash_br.get_logs() == []
