"""Looks, in a browser: the header and the range bar each on one line in a 1280-px window with
the dashboard's title once, Plotly's mode bar only over the chart the pointer is on, and an
axe-core run (the script vendored in tests/browser/vendor, axe-core 4.14.1 from npm) over the
sign-in page, the default dashboard and the editor with no serious or critical violation."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from tests.browser.test_live_page import open_dashboard, wait_until

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
RUN_AXE = """
var done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
  done(r.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(" "); })};
  }));
}).catch(function (e) { done([{id: "axe-error", impact: "critical", help: String(e)}]); });
"""
HEADER = """
var h = document.querySelector('header.header');
var items = Array.from(h.children).filter(function (c) { return c.offsetParent !== null; });
var mids = items.map(function (c) {
  var r = c.getBoundingClientRect();
  return (r.top + r.bottom) / 2;
});
return {height: h.getBoundingClientRect().height, scroll: h.scrollWidth, width: h.clientWidth,
        spread: Math.max.apply(null, mids) - Math.min.apply(null, mids),
        text: h.innerText, barText: document.querySelector('.range-bar').innerText};
"""
RANGE_BAR = """
var bar = document.querySelector('nav.range-bar');
var items = Array.from(bar.children).filter(function (c) { return c.offsetParent !== null; });
var boxes = items.map(function (c) {
  var r = c.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, right: r.right, mid: (r.top + r.bottom) / 2,
          what: c.id || c.className || c.tagName};
});
var mids = boxes.map(function (b) { return b.mid; });
var vars = document.querySelector('#vars-bar');
var box = bar.getBoundingClientRect();
return {height: box.height, scroll: bar.scrollWidth, width: bar.clientWidth, right: box.right,
        spread: Math.max.apply(null, mids) - Math.min.apply(null, mids),
        lastRight: Math.max.apply(null, boxes.map(function (b) { return b.right; })),
        boxes: boxes, variables: vars ? vars.querySelectorAll('.vars-item').length : 0};
"""
MODEBAR_OPACITY = """
// the groups of the mode bar fade (the bar itself stays, empty, at opacity 1)
var bar = document.querySelector('#' + arguments[0] + ' .modebar');
var group = bar && bar.querySelector('.modebar-group');
return group ? getComputedStyle(group).opacity : null;
"""


def serious_violations(dash_br) -> list[dict]:
    """axe-core's serious and critical violations of the page as it is."""
    dash_br.driver.set_script_timeout(60)
    dash_br.driver.execute_script(AXE)
    found = dash_br.driver.execute_async_script(RUN_AXE)
    return [v for v in found if v["impact"] in ("serious", "critical")]


@pytest.fixture
def wide(dash_br):
    """A 1280-px wide window (what the header has to fit in)."""
    dash_br.driver.set_window_size(1280, 900)
    width = dash_br.driver.execute_script("return window.innerWidth")
    assert 1240 <= width <= 1280, width
    return dash_br


def test_the_header_is_one_line_at_1280_px_with_the_title_once(wide, live_server):
    """One row of header items, as tall as one line of buttons; "SaaS overview" shown once above
    the grid (the breadcrumb aside, which names where the page is)."""
    open_dashboard(wide, live_server)
    got = wide.driver.execute_script(HEADER)
    print(f"header at 1280 px: {got['height']:.0f} px tall")
    assert got["spread"] < 6, got  # every item's middle on one line
    assert got["height"] <= 56, got
    assert got["scroll"] <= got["width"], got  # nothing cut off on the right
    assert got["text"].count("SaaS overview") == 1
    assert "SaaS overview" not in got["barText"]  # the quick picker is in the closed list


def test_the_range_bar_is_one_line_at_1280_px_with_the_variables_bar(wide, live_server):
    """The finder, the range picker, from/to, the filter and "Copy link" on one row that
    nothing overflows, with the demo's variable in its bar below; a fixed range's long text
    too (it is cut short, not wrapped)."""
    open_dashboard(wide, live_server)
    got = wide.driver.execute_script(RANGE_BAR)
    print(f"range bar at 1280 px: {got['height']:.0f} px tall, {got['scroll']} of {got['width']}")
    assert got["variables"] == 1, got  # the demo's route
    assert got["spread"] < 6, got["boxes"]  # every item's middle on one line
    assert got["height"] <= 52, got
    assert got["scroll"] <= got["width"], got  # nothing pushed out on the right
    assert got["lastRight"] <= got["right"] + 1, got
    end = int(time.time() * 1000) // 60_000 * 60_000
    wide.driver.get(live_server.url + f"/?from={end - 3_600_000}&to={end}")
    wide.wait_for_contains_text("#range-text", "(fixed)", timeout=20)
    got = wide.driver.execute_script(RANGE_BAR)
    assert got["spread"] < 6, got["boxes"]
    assert got["scroll"] <= got["width"], got


def test_the_mode_bar_shows_only_over_a_hovered_chart(wide, live_server):
    """Hidden at first; shown while the pointer is on the chart."""
    open_dashboard(wide, live_server)
    graph = "widget-line-users-graph"
    ActionChains(wide.driver).move_to_element(wide.find_element("header.header")).perform()
    wait_until(lambda: wide.driver.execute_script(MODEBAR_OPACITY, graph) == "0", timeout=5)
    ActionChains(wide.driver).move_to_element(wide.find_element(f"#{graph}")).perform()
    wait_until(lambda: wide.driver.execute_script(MODEBAR_OPACITY, graph) == "1", timeout=5)
    other = "widget-line-errors-graph"
    assert wide.driver.execute_script(MODEBAR_OPACITY, other) == "0"


def test_axe_finds_nothing_serious_on_sign_in_dashboard_and_editor(wide, live_server):
    """The sign-in page, the default dashboard (its list of dashboards open) and the editor."""
    wide.server_url = live_server.url
    wide.wait_for_element("#login-username", timeout=20)
    problems = {"sign-in": serious_violations(wide)}
    open_dashboard(wide, live_server)
    wide.find_element("#finder > summary").click()
    wide.wait_for_element("#finder-search")
    problems["dashboard"] = serious_violations(wide)
    wide.find_element("#finder > summary").click()
    wide.find_element("#edit-toggle").click()
    wide.wait_for_text_to_equal("#edit-toggle", "Done editing", timeout=10)
    problems["editor"] = serious_violations(wide)
    assert problems == {"sign-in": [], "dashboard": [], "editor": []}, json.dumps(
        problems, indent=1
    )
