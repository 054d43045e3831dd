"""Units and thresholds in the browser: a unit picked in the widget's settings changes its axis
and tooltip (15% on a 0-1 series), a live tile turns amber then red as its points cross the
steps (with a title saying so), the colours meet contrast in both themes, and assets/live.js
formats and colours numbers as dashboard/boards/units.py and thresholds.py do."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.keys import Keys

from dashboard.boards.units import UNITS, format_number, resolved
from layouts.widgets.stat import live_text, value_class
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_editing import copy_of_default, open_in_edit_mode
from tests.browser.test_live_page import wait_until

pytestmark = pytest.mark.browser

MINUTE = 60_000
STEPS = [{"value": 0.02, "color": "amber"}, {"value": 0.05, "color": "red"}]
TICKS = """
return Array.from(document.querySelectorAll('#' + arguments[0] + ' .ytick text'))
  .map(function (t) { return t.textContent; });
"""
HOVER_THIRD_POINT = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
window.Plotly.Fx.hover(gd, [{curveNumber: 0, pointNumber: 2}]);
var layer = gd.querySelector('.hoverlayer');
return layer ? layer.textContent : '';
"""
TILE = """
var el = document.getElementById(arguments[0]);
return el ? [el.textContent, el.className, el.title] : null;
"""
# WCAG's contrast ratio of an element's text on its card
CONTRAST = """
function lum(css) {
  var c = css.match(/[\\d.]+/g).slice(0, 3).map(function (v) {
    v = v / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
var el = document.getElementById(arguments[0]);
var a = lum(getComputedStyle(el).color);
var b = lum(getComputedStyle(el.closest('.widget')).backgroundColor);
return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
"""


def widget(wid: str, kind: str, title: str, name: str, y: int, **extra) -> dict:
    """A widget of one stored series."""
    return {
        "id": wid,
        "kind": kind,
        "title": title,
        "series": [{"name": name, "labels": {}}],
        "aggregation": "avg",
        "step": "raw",
        "layout": {"x": 0, "y": y, "w": 6, "h": 4 if kind == "line" else 2},
        **extra,
    }


def post(server, name: str, points: list[list[float]]) -> None:
    """POST points of one series to the ingest API."""
    response = server.ingest({"metrics": [{"name": name, "points": points}]})
    assert response.status_code == 202, response.text


def open_board(dash_br, server, board_id: str, widgets: list[dict]) -> None:
    """A board of the demo's users chart (what opening waits for) and ``widgets``, opened in
    edit mode."""
    users = widget("line-users", "line", "Users", "demo.active_users", 0)
    users["layout"]["x"] = 6  # beside the others, in view (a chart below the fold is lazy)
    copy_of_default(server, board_id, board_id.title(), widgets=[users, *widgets], variables=[])
    open_in_edit_mode(dash_br, server, board_id, board_id.title())


def test_a_unit_set_in_the_editor_changes_the_axis_and_the_tooltip(dash_br, live_server):
    """A 0-1 series reads 0.15 on its axis; Percent (0.0-1.0) picked in its settings (and two
    decimals, typed) makes the axis read 15% and the tooltip 15.00%, after a reload too."""
    now = int(time.time() * 1000)
    shares = [0.05, 0.10, 0.15, 0.20, 0.25]
    post(
        live_server,
        "units.share",
        [[now - (50 - 10 * i) * MINUTE, v] for i, v in enumerate(shares)],
    )
    share = widget("share", "line", "Share", "units.share", 0)
    open_board(dash_br, live_server, "units-axis", [share])
    graph = "widget-share-graph"
    ticks = wait_until(lambda: dash_br.driver.execute_script(TICKS, graph))
    assert "0.15" in ticks and not any(t.endswith("%") for t in ticks), ticks

    dash_br.find_element('[id*="widget-config"][id*="\\"share\\""]').click()
    wait_until(lambda: dash_br.find_element("#edit-config-form").is_displayed())
    assert dash_br.find_element("label[for=edit-config-unit]").text == "Unit"
    assert dash_br.find_element("#edit-config-unit").text.startswith("From the series")
    dash_br.select_dcc_dropdown("#edit-config-unit", value="Percent (0.0-1.0)")
    decimals = dash_br.find_element("#edit-config-decimals")
    decimals.send_keys(Keys.ESCAPE)  # closes the menu
    decimals.send_keys("2")
    ARTIFACTS.mkdir(exist_ok=True)
    dash_br.driver.save_screenshot(str(ARTIFACTS / "units-editor.png"))
    dash_br.find_element("#edit-config-save").click()
    dash_br.wait_for_contains_text("#edit-status", "Saved Share", timeout=10)
    ticks = wait_until(
        lambda: (t := dash_br.driver.execute_script(TICKS, graph)) and "15%" in t and t, timeout=15
    )
    assert all(t.endswith("%") for t in ticks), ticks
    hover = wait_until(lambda: dash_br.driver.execute_script(HOVER_THIRD_POINT, graph))
    assert "15.00%" in hover, hover

    dash_br.driver.refresh()
    wait_until(lambda: "15%" in (dash_br.driver.execute_script(TICKS, graph) or []), timeout=20)
    assert dash_br.get_logs() == []


def test_a_bad_threshold_is_named_in_the_form_and_nothing_is_saved(dash_br, live_server):
    """Thresholds typed as text: a colour it does not know is an inline error naming the step;
    fixed, they save and the tile's title lists the steps."""
    now = int(time.time() * 1000)
    post(live_server, "units.load", [[now - MINUTE, 0.01]])
    tile = widget("load", "stat", "Load", "units.load", 0, format={"unit": "percentunit"})
    open_board(dash_br, live_server, "units-form", [tile])
    dash_br.find_element('[id*="widget-config"][id*="\\"load\\""]').click()
    wait_until(lambda: dash_br.find_element("#edit-config-form").is_displayed())
    field = dash_br.find_element("#edit-config-thresholds")
    assert field.get_attribute("value") == ""
    field.send_keys("0.02 amber, 0.05 purple")
    dash_br.find_element("#edit-config-save").click()
    dash_br.wait_for_contains_text("#edit-config-thresholds-error", "step 2", timeout=10)
    assert "purple" in dash_br.find_element("#edit-config-thresholds-error").text
    assert dash_br.find_element("#edit-config-form").is_displayed()
    field.send_keys(Keys.BACKSPACE * len("purple"), "red")
    dash_br.find_element("#edit-config-save").click()
    dash_br.wait_for_contains_text("#edit-status", "Saved Load", timeout=10)
    dash_br.wait_for_text_to_equal("#edit-config-thresholds-error", "", timeout=10)
    wait_until(
        lambda: (
            "amber from 2%"
            in (dash_br.driver.execute_script(TILE, "widget-load-value") or ["", "", ""])[2]
        )
    )
    assert dash_br.get_logs() == []


def test_a_live_tile_turns_amber_then_red_with_contrast_in_both_themes(dash_br, live_server):
    """Points crossing 2 % then 5 % colour the error tile amber, then red (stat-breach), its
    title saying which; each colour reads at 4.5:1 or more on the card, light and dark."""
    now = int(time.time() * 1000)
    post(live_server, "units.errors", [[now - MINUTE, 0.01]])
    tile = widget(
        "errs",
        "stat",
        "Errors",
        "units.errors",
        0,
        format={"unit": "percentunit", "decimals": 1},
        thresholds=STEPS,
    )
    open_board(dash_br, live_server, "units-live", [tile])
    value = "widget-errs-value"
    text, cls, title = wait_until(lambda: dash_br.driver.execute_script(TILE, value))
    assert text == "1.0%" and "level-ok" in cls.split(), cls
    assert title == "Errors: green: below 2.0% (green below 2.0%, amber from 2.0%, red from 5.0%)"
    seen = {}
    for theme in ("light", "dark"):
        dash_br.driver.execute_script(
            "document.documentElement.setAttribute('data-theme', arguments[0])", theme
        )
        seen[(theme, "ok")] = dash_br.driver.execute_script(CONTRAST, value)
    for i, (point, shown, level, word) in enumerate(
        ((0.03, "3.0%", "level-warn", "amber"), (0.07, "7.0%", "level-bad", "red"))
    ):
        post(live_server, "units.errors", [[int(time.time() * 1000) + 100 * i, point]])
        text, cls, title = wait_until(
            lambda shown=shown: (t := dash_br.driver.execute_script(TILE, value))[0] == shown and t,
            timeout=10,
        )
        assert level in cls.split(), cls
        assert title.startswith(f"Errors: {word}: "), title
        for theme in ("light", "dark"):
            dash_br.driver.execute_script(
                "document.documentElement.setAttribute('data-theme', arguments[0])", theme
            )
            seen[(theme, level)] = dash_br.driver.execute_script(CONTRAST, value)
    assert "stat-breach" in cls.split()
    ARTIFACTS.mkdir(exist_ok=True)
    dash_br.driver.save_screenshot(str(ARTIFACTS / "units-red-tile-dark.png"))
    assert all(ratio >= 4.5 for ratio in seen.values()), seen
    assert dash_br.get_logs() == []


def test_live_js_formats_and_colours_as_python_does(dash_br, live_server):
    """For every unit, auto and fixed decimals, and values across the steps, assets/live.js
    writes the same text and class as the server renders."""
    post(live_server, "units.any", [[int(time.time() * 1000) - MINUTE, 1.0]])
    open_board(dash_br, live_server, "units-parity", [])
    values = [0, 0.0004, 0.015, 0.2, 1.5, 12.34, 999, 1536, 86_399, 3_400_000, -2.5e9, 3e13]
    formats = [{"unit": u} for u in UNITS] + [{"unit": u, "decimals": 2} for u in UNITS]
    formats += [{"percent": True, "decimals": 1}, {"si": True, "suffix": "B", "decimals": 1}]
    formats += [{"prefix": "$", "suffix": "/h"}, {"unit": "load", "decimals": 2}]
    cases = [[v, resolved(f)] for f in formats for v in values]
    shown = dash_br.driver.execute_script(
        "return arguments[0].map(function (c) { return window.dashLive.format(c[0], c[1]); });",
        cases,
    )
    expected = [format_number(v, f) for f in formats for v in values]
    assert [(c, s, e) for c, s, e in zip(cases, shown, expected, strict=True) if s != e] == []
    steps = [*STEPS, {"value": 0.5, "color": "#3b82f6"}]
    target = live_text("x", "X", {"unit": "percentunit"}, steps)
    levels = [-1, 0, 0.019, 0.02, 0.03, 0.05, 0.49, 0.5, 7]
    classes = dash_br.driver.execute_script(
        "var t = arguments[1];"
        " return arguments[0].map(function (v) { return window.dashLive.valueClass(v, t); });",
        levels,
        target,
    )
    assert classes == [value_class(v, steps) for v in levels]
