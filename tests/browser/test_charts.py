"""The charts as a Grafana user expects them: a legend click shows that series alone (again: all
of them), shift-click toggles one; hovering one time chart shows the same time on the others."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.browser.test_live_page import open_dashboard, wait_until

pytestmark = pytest.mark.browser

VISIBLE = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return gd && gd.data
  ? gd.data.map(function (t) { return t.visible === undefined ? true : t.visible; }) : null;
"""
HOVERED = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return gd ? gd.querySelectorAll('.hoverlayer *').length : 0;
"""


def test_legend_click_isolates_and_shift_click_toggles(dash_br, live_server):
    """The requests chart (one trace a route): a click on the first legend entry leaves it
    alone, a second click shows all again, shift-click hides just one."""
    open_dashboard(dash_br, live_server)
    graph = "widget-line-requests-graph"
    dash_br.wait_for_element(f"#{graph} .legend .traces", timeout=20)
    wait_until(lambda: dash_br.driver.execute_script(VISIBLE, graph))
    n = len(dash_br.driver.execute_script(VISIBLE, graph))
    assert n > 2

    def entry(i: int):
        """The i-th legend entry's clickable area."""
        return dash_br.driver.find_elements(
            "css selector", f"#{graph} .legend .traces .legendtoggle"
        )[i]

    entry(0).click()
    wait_until(
        lambda: dash_br.driver.execute_script(VISIBLE, graph) == [True] + ["legendonly"] * (n - 1)
    )
    entry(0).click()
    wait_until(lambda: dash_br.driver.execute_script(VISIBLE, graph) == [True] * n)
    ActionChains(dash_br.driver).key_down(Keys.SHIFT).click(entry(1)).key_up(Keys.SHIFT).perform()
    wait_until(
        lambda: (
            dash_br.driver.execute_script(VISIBLE, graph) == [True, "legendonly"] + [True] * (n - 2)
        )
    )


def test_hovering_one_time_chart_shows_the_time_on_the_others(dash_br, live_server):
    """Over the users chart, the errors chart beside it shows its hover label too."""
    open_dashboard(dash_br, live_server)
    dash_br.wait_for_element("#widget-line-errors-graph .main-svg", timeout=20)
    wait_until(
        lambda: dash_br.driver.execute_script(
            "var gd = document.querySelector('#widget-line-users-graph .js-plotly-plot');"
            " return !!(gd && gd.dashChartsWired);"
        )
    )
    area = dash_br.find_element("#widget-line-users-graph .nsewdrag")
    ActionChains(dash_br.driver).move_to_element(area).move_by_offset(20, 0).perform()
    wait_until(lambda: dash_br.driver.execute_script(HOVERED, "widget-line-errors-graph") > 0)
    assert dash_br.get_logs() == []


def test_the_error_rate_axis_and_tooltip_read_in_percent(dash_br, live_server):
    """The demo's error rate (unit ``ratio``): the axis reads 2%, not 0.02, and so does the
    tooltip; the revenue bars' axis carries the currency."""
    open_dashboard(dash_br, live_server)
    dash_br.wait_for_element("#widget-line-errors-graph .main-svg", timeout=20)
    ticks = wait_until(
        lambda: dash_br.driver.execute_script(
            "return Array.from(document.querySelectorAll("
            "'#widget-line-errors-graph .ytick text')).map(function (t) { return t.textContent; });"
        )
    )
    assert ticks and all(t.endswith("%") for t in ticks), ticks
    area = dash_br.find_element("#widget-line-errors-graph .nsewdrag")
    ActionChains(dash_br.driver).move_to_element(area).perform()
    hover = wait_until(
        lambda: dash_br.driver.execute_script(
            "var t = document.querySelector('#widget-line-errors-graph .hoverlayer');"
            " return t ? t.textContent : '';"
        )
    )
    assert "%" in hover, hover
    revenue = dash_br.driver.execute_script(
        "return Array.from(document.querySelectorAll('#widget-bar-revenue .ytick text'))"
        ".map(function (t) { return t.textContent; });"
    )
    assert revenue and all(t.startswith("$") for t in revenue if t not in ("$0/h",)), revenue


def test_a_fired_alert_and_a_note_are_marked_on_the_chart_of_their_series(dash_br, live_server):
    """A rule fires and resolves on shop.latency; the latency chart shows the firing span and
    its line, and the dashboard's note as a labelled line."""
    import time

    import requests

    from tests.conftest import ADMIN_PASSWORD

    session = requests.Session()
    session.post(
        live_server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
    )
    csrf = {"X-CSRFToken": session.cookies.get("_csrf_token")}
    rule = {
        "id": "latency-high",
        "name": "Latency high",
        "series": {"name": "shop.latency", "labels": {}},
        "condition": "above",
        "threshold": 100,
    }
    assert session.post(live_server.url + "/api/v1/alerts/rules", json=rule, headers=csrf).ok
    now = int(time.time() * 1000)
    points = [[now - 60_000 + i * 5_000, v] for i, v in enumerate([50, 50, 250, 260, 40, 40])]
    sent = live_server.ingest({"metrics": [{"name": "shop.latency", "points": points}]})
    assert sent.status_code == 202
    board = {
        "id": "latency",
        "title": "Latency",
        "widgets": [
            {
                "id": "lat",
                "kind": "line",
                "title": "Latency",
                "series": [{"name": "shop.latency", "labels": {}}],
                "range": {"from": "now-15m", "to": "now"},
            }
        ],
        "annotations": [{"ts": now - 30_000, "text": "deploy v2"}],
    }
    assert session.post(live_server.url + "/api/v1/dashboards", json=board, headers=csrf).ok
    open_dashboard(dash_br, live_server)
    dash_br.driver.get(live_server.url + "/?dashboard=latency")
    dash_br.wait_for_element("#widget-lat-graph .main-svg", timeout=20)
    names = wait_until(
        lambda: dash_br.driver.execute_script(
            "var gd = document.querySelector('#widget-lat-graph .js-plotly-plot');"
            " return (gd.layout.shapes || []).map(function (s) { return s.name || ''; });"
        )
    )
    assert names.count("alert: Latency high") == 2  # the span and its line
    assert "note: deploy v2" in names
    label = dash_br.driver.execute_script(
        "return document.querySelector('#widget-lat-graph').textContent;"
    )
    assert "deploy v2" in label


def test_an_editor_adds_a_note_that_every_time_chart_shows(dash_br, live_server):
    """Edit mode's Add note: saved with the dashboard, drawn as a labelled line on the time
    charts (a bad time is explained, nothing saved)."""
    from tests.browser.test_editing import copy_of_default, open_in_edit_mode

    copy_of_default(live_server, "noted", "Noted board")
    open_in_edit_mode(dash_br, live_server, "noted", "Noted board")
    dash_br.find_element("#note-text").send_keys("release 1.2")
    dash_br.find_element("#note-time").send_keys("yesterday")
    dash_br.find_element("#note-add").click()
    dash_br.wait_for_contains_text("#edit-status", "Note time:", timeout=10)
    dash_br.find_element("#note-time").send_keys(Keys.CONTROL, "a")
    dash_br.find_element("#note-time").send_keys("now-1h")
    dash_br.find_element("#note-add").click()
    dash_br.wait_for_contains_text("#edit-status", "Noted release 1.2", timeout=10)
    names = wait_until(
        lambda: (
            dash_br.driver.execute_script(
                "var gd = document.querySelector('#widget-line-users-graph .js-plotly-plot');"
                " return gd && gd.layout ? (gd.layout.shapes || []).map(function (s) {"
                " return s.name || ''; }) : null;"
            )
            and "note: release 1.2"
            in dash_br.driver.execute_script(
                "var gd = document.querySelector('#widget-line-users-graph .js-plotly-plot');"
                " return (gd.layout.shapes || []).map(function (s) { return s.name || ''; });"
            )
        )
    )
    assert names
