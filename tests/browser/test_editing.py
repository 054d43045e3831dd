"""Editing in the browser: add a widget for a picked metric, move and remove it, reload."""

from __future__ import annotations

import time

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_live_page import JS_TRACE_Y, open_dashboard, sign_in, wait_until
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

GRID_COLUMN = "return document.getElementById(arguments[0]).style.gridColumn"
GRID_PLACE = """
var el = document.getElementById(arguments[0]);
return el ? [el.style.gridColumn, el.style.gridRow] : null;
"""
STATUS_TEXT = "return document.getElementById('edit-status').textContent"
TRACES = """
var gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
return gd && gd.data ? gd.data.length : 0;
"""


SCROLL_TO = "document.getElementById(arguments[0]).scrollIntoView()"


def type_title(dash_br, selector: str, text: str) -> None:
    """Type into a field once a dropdown picked just before has closed its menu (an open menu
    can swallow the first keys on a loaded machine), and wait until the field holds the text."""
    if dash_br.driver.find_elements("css selector", ".dash-dropdown-options"):
        dash_br.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        dash_br.wait_for_no_elements(".dash-dropdown-options", timeout=5)
    dash_br.find_element(selector).send_keys(text)
    wait_until(lambda: dash_br.find_element(selector).get_attribute("value") == text, timeout=5)


def test_add_move_and_remove_a_widget_and_find_it_so_after_a_reload(dash_br, live_server):
    """An editor builds the dashboard in the page; every change is saved."""
    open_dashboard(dash_br, live_server)
    dash_br.find_element("#edit-toggle").click()
    dash_br.wait_for_text_to_equal("#edit-toggle", "Done editing", timeout=5)
    dash_br.select_dcc_dropdown("#add-kind", value="bar")
    dash_br.select_dcc_dropdown("#add-metric", value="demo.error_rate")
    type_title(dash_br, "#add-title", "Errors by hour")
    dash_br.find_element("#add-submit").click()
    dash_br.wait_for_contains_text("#edit-status", "Added Errors by hour", timeout=10)
    # added below the others, so drawn once scrolled to
    dash_br.driver.execute_script(SCROLL_TO, "widget-errors-by-hour")
    dash_br.wait_for_element("#widget-errors-by-hour .main-svg", timeout=10)
    assert dash_br.driver.execute_script(GRID_COLUMN, "widget-errors-by-hour") == "1 / span 6"
    move = '[id*="\\"op\\":\\"right\\""][id*="errors-by-hour"]'
    dash_br.find_element(move).click()
    wait_until(
        lambda: dash_br.driver.execute_script(GRID_COLUMN, "widget-errors-by-hour") == "2 / span 6"
    )
    dash_br.driver.refresh()
    dash_br.wait_for_element("#widget-errors-by-hour", timeout=20)
    dash_br.driver.execute_script(SCROLL_TO, "widget-errors-by-hour")
    dash_br.wait_for_element("#widget-errors-by-hour .main-svg", timeout=20)
    assert dash_br.driver.execute_script(GRID_COLUMN, "widget-errors-by-hour") == "2 / span 6"
    dash_br.find_element("#edit-toggle").click()
    remove = '[id*="\\"op\\":\\"remove\\""][id*="errors-by-hour"]'
    dash_br.find_element(remove).click()
    wait_until(lambda: not dash_br.driver.find_elements("css selector", "#widget-errors-by-hour"))
    assert dash_br.get_logs() == []


def test_a_viewer_gets_no_edit_controls(dash_br, live_server):
    """Viewers see the dashboard without the edit panel or the widgets' edit buttons."""
    session = requests.Session()
    session.post(
        live_server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
    )
    made = session.post(
        live_server.url + "/api/v1/users",
        json={"username": "viv", "password": "viv-password-1234", "role": "viewer"},
        headers={"X-CSRFToken": session.cookies.get("_csrf_token")},
    )
    assert made.status_code == 201
    sign_in(dash_br, live_server, "viv", "viv-password-1234")
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    assert not dash_br.find_element(".edit-panel").is_displayed()
    for control in (".edit-bar", ".drag-handle", ".resize-handle", '[id*="widget-config"]'):
        assert not dash_br.driver.find_elements("css selector", control)
    for hidden in ("#edit-config-form", "#edit-export-json"):
        assert not dash_br.find_element(hidden).is_displayed()
    # Import JSON's file picker is drawn for editors who open edit mode, never for a viewer
    assert not dash_br.driver.find_elements("css selector", ".import-upload")
    before = session.get(live_server.url + "/api/v1/dashboards/default").json()
    # forged saves: the page's own client sends them, only the server stands in the way
    dash_br.driver.execute_script(
        "window.dash_clientside.set_props('edit-drop', {data: arguments[0]})",
        {"widget": "kpi-users", "x": 6, "y": 3, "w": 2, "h": 2},
    )
    wait_until(lambda: "Only editors" in dash_br.driver.execute_script(STATUS_TEXT))
    dash_br.driver.execute_script("window.dash_clientside.set_props('edit-status', {children: ''})")
    wait_until(lambda: dash_br.driver.execute_script(STATUS_TEXT) == "")
    dash_br.driver.execute_script(
        "window.dash_clientside.set_props('edit-config-widget', {data: 'kpi-users'});"
        "window.dash_clientside.set_props('edit-config-title', {value: 'Hijacked'});"
        "window.dash_clientside.set_props('edit-config-series', {value: ['demo.health']});"
        "document.getElementById('edit-config-save').click();"
    )
    wait_until(lambda: "Only editors" in dash_br.driver.execute_script(STATUS_TEXT))
    after = session.get(live_server.url + "/api/v1/dashboards/default").json()
    assert after == before
    assert dash_br.get_logs() == []


def test_a_dashboard_of_120_widgets_loads_and_updates_without_errors(dash_br, live_server):
    """120 charts and tiles over every demo series draw, go live and update cleanly."""
    session = requests.Session()
    session.post(
        live_server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
    )
    names = ["demo.active_users", "demo.revenue_usd", "demo.error_rate", "demo.requests"]
    widgets = []
    for i in range(120):
        kind = ("line", "stat", "bar", "line")[i % 4]
        w, h = (3, 2) if kind == "stat" else (4, 3)
        widgets.append(
            {
                "id": f"w{i}",
                "kind": kind,
                "title": f"Widget {i}",
                "series": [{"name": names[i % 4], "labels": {}}],
                "step": "1h" if kind == "bar" else "auto",
                "layout": {"x": (i % 3) * 4, "y": (i // 3) * 3, "w": w, "h": h},
            }
        )
    board = {"id": "big", "title": "120 widgets", "schema_version": 1, "widgets": widgets}
    made = session.post(
        live_server.url + "/api/v1/dashboards",
        json=board,
        headers={"X-CSRFToken": session.cookies.get("_csrf_token")},
    )
    assert made.status_code == 201, made.text
    sign_in(dash_br, live_server)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.driver.get(live_server.url + "/?dashboard=big")
    wait_until(lambda: len(dash_br.driver.find_elements("css selector", ".widget")) >= 120, 60)
    dash_br.wait_for_element("#widget-w0-graph .main-svg", timeout=30)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)
    frames = dash_br.driver.execute_script("return window.dashLive.stats.frames")
    wait_until(
        lambda: dash_br.driver.execute_script("return window.dashLive.stats.frames") > frames + 2,
        timeout=10,
    )
    # charts below the fold take no updates while out of view, and catch up when they scroll in
    wait_until(lambda: dash_br.driver.execute_script("return window.dashLive.stats.offscreen"))
    woken = dash_br.driver.execute_script("return window.dashLive.stats.woken")
    dash_br.driver.execute_script(SCROLL_TO, "widget-w119")
    wait_until(lambda: dash_br.driver.execute_script("return window.dashLive.stats.woken") > woken)
    dash_br.wait_for_element("#widget-w119-graph .main-svg", timeout=30)
    ARTIFACTS.mkdir(exist_ok=True)
    dash_br.driver.save_screenshot(str(ARTIFACTS / "dashboard-120.png"))
    assert dash_br.get_logs() == []


JS_POINTS = """
var outer = document.getElementById(arguments[0]);
var gd = outer && outer.querySelector('.js-plotly-plot');
return gd && gd.data ? gd.data.map(function (t) { return (t.x || []).length; }) : null;
"""


def test_a_chart_far_below_the_fold_is_drawn_when_it_scrolls_in(dash_br, live_server):
    """A card out of view shows only its title and "Loading…" until scrolled to, then its chart
    shows its history and the live point that arrived while it was away, once; a tile there
    comes whole the same way and then takes live points."""
    session = requests.Session()
    session.post(
        live_server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
    )
    widgets = [
        {
            "id": f"top{i}",
            "kind": "line",
            "title": f"Top {i}",
            "series": [{"name": "demo.active_users", "labels": {}}],
            "layout": {"x": 0, "y": i * 4, "w": 12, "h": 4},
        }
        for i in range(10)
    ]
    widgets.append({**widgets[0], "id": "far", "title": "Far", "layout": {**widgets[0]["layout"]}})
    widgets[-1]["layout"]["y"] = 80
    widgets.append(
        {
            "id": "farkpi",
            "kind": "stat",
            "title": "Far KPI",
            "series": [{"name": "demo.active_users", "labels": {}}],
            "layout": {"x": 0, "y": 84, "w": 3, "h": 3},
        }
    )
    board = {"id": "lazy", "title": "Lazy", "schema_version": 1, "widgets": widgets}
    made = session.post(
        live_server.url + "/api/v1/dashboards",
        json=board,
        headers={"X-CSRFToken": session.cookies.get("_csrf_token")},
    )
    assert made.status_code == 201, made.text
    sign_in(dash_br, live_server)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    driver = dash_br.driver
    driver.get(live_server.url + "/?dashboard=lazy")
    wait_until(lambda: (driver.execute_script(JS_POINTS, "widget-top0-graph") or [0])[0] > 10, 30)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)
    assert driver.execute_script(JS_POINTS, "widget-far-graph") is None  # not drawn: a slot
    slot = dash_br.find_element('[data-graph-id="widget-far-graph"]')
    shown = driver.execute_script(
        "var s = arguments[0]; return [s.childElementCount,"
        " getComputedStyle(s, '::before').content, getComputedStyle(s, '::after').content];",
        slot,
    )
    assert shown == [0, '"Far"', '"Loading…"']
    assert driver.find_elements("css selector", "#widget-farkpi-value") == []  # nor the tile's
    value = 97531.0
    ts = int(time.time() * 1000) + 1500
    response = live_server.ingest(
        {"metrics": [{"name": "demo.active_users", "points": [[ts, value]]}]}
    )
    assert response.status_code == 202, response.text
    wait_until(lambda: value in (driver.execute_script(JS_TRACE_Y, "widget-top0-graph", 0) or []))
    assert driver.execute_script(JS_POINTS, "widget-far-graph") is None
    driver.execute_script(SCROLL_TO, "widget-far")
    wait_until(
        lambda: value in (driver.execute_script(JS_TRACE_Y, "widget-far-graph", 0) or []),
        timeout=20,
    )
    assert driver.execute_script(JS_POINTS, "widget-far-graph")[0] > 10
    assert driver.execute_script(JS_TRACE_Y, "widget-far-graph", 0).count(value) == 1
    # the tile far below (near it now): its number and a sparkline with the point that arrived
    # while it was away, once; then live points reach both
    driver.execute_script(SCROLL_TO, "widget-farkpi")
    wait_until(
        lambda: value in (driver.execute_script(JS_TRACE_Y, "widget-farkpi-spark", 0) or []),
        timeout=20,
    )
    assert driver.execute_script(JS_TRACE_Y, "widget-farkpi-spark", 0).count(value) == 1
    assert dash_br.find_element("#widget-farkpi .widget-title").text == "FAR KPI"
    later = 86420.0  # a minute ahead: the newest point while the demo's next ones arrive
    response = live_server.ingest(
        {"metrics": [{"name": "demo.active_users", "points": [[ts + 60_000, later]]}]}
    )
    assert response.status_code == 202, response.text
    dash_br.wait_for_text_to_equal("#widget-farkpi-value", "86,420", timeout=10)
    wait_until(lambda: later in (driver.execute_script(JS_TRACE_Y, "widget-farkpi-spark", 0) or []))
    assert dash_br.get_logs() == []


def test_a_dashboard_built_from_nothing_in_the_page(dash_br, live_server):
    """Create an empty dashboard, add a chart to it, and find both after a reload."""
    open_dashboard(dash_br, live_server)
    dash_br.find_element("#edit-toggle").click()
    dash_br.find_element("#new-dashboard-title").send_keys("Ops board")
    dash_br.find_element("#new-dashboard-submit").click()
    wait_until(lambda: "dashboard=ops-board" in dash_br.driver.current_url)
    dash_br.wait_for_text_to_equal("#header-title", "Ops board", timeout=10)
    dash_br.select_dcc_dropdown("#add-metric", value="demo.active_users")
    type_title(dash_br, "#add-title", "Users now")
    dash_br.find_element("#add-submit").click()
    dash_br.wait_for_element("#widget-users-now-graph .main-svg", timeout=10)
    dash_br.driver.refresh()
    dash_br.wait_for_element("#widget-users-now-graph .main-svg", timeout=20)
    assert len(dash_br.driver.find_elements("css selector", ".widget")) == 1
    assert dash_br.get_logs() == []


def copy_of_default(server, board_id: str, title: str, **changes) -> dict:
    """Save a copy of the default dashboard under a new id (as admin, through the API)."""
    session = requests.Session()
    session.post(
        server.url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    board = session.get(server.url + "/api/v1/dashboards/default").json()
    board = {**board, "id": board_id, "title": title, **changes}
    made = session.post(
        server.url + "/api/v1/dashboards",
        json=board,
        headers={"X-CSRFToken": session.cookies.get("_csrf_token")},
    )
    assert made.status_code == 201, made.text
    return made.json()


def open_in_edit_mode(dash_br, server, board_id: str, title: str) -> None:
    """Sign in, open a dashboard by its URL and switch edit mode on."""
    open_dashboard(dash_br, server)
    dash_br.driver.get(f"{server.url}/?dashboard={board_id}")
    dash_br.wait_for_text_to_equal("#header-title", title, timeout=20)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.find_element("#edit-toggle").click()
    dash_br.wait_for_text_to_equal("#edit-toggle", "Done editing", timeout=5)


def drag(dash_br, handle, cols: int, rows: int, check_outline=None) -> None:
    """Drag a handle by whole grid cells with pointer moves, then drop it."""
    step = dash_br.driver.execute_script(
        "return window.dashGrid.metrics(document.getElementById('widgets-grid'))"
    )
    dx, dy = cols * step["stepX"], rows * step["stepY"]
    ActionChains(dash_br.driver).move_to_element(handle).click_and_hold().move_by_offset(
        int(dx / 2), int(dy / 2)
    ).move_by_offset(int(dx - int(dx / 2)), int(dy - int(dy / 2))).perform()
    if check_outline:
        check_outline()
    ActionChains(dash_br.driver).release().perform()


def test_drag_moves_and_resizes_a_widget_on_the_grid_and_it_stays(dash_br, live_server):
    """The grip moves a widget by whole cells and the corner resizes it; both are saved."""
    copy_of_default(live_server, "drag-board", "Drag board")
    open_in_edit_mode(dash_br, live_server, "drag-board", "Drag board")
    card = "widget-kpi-users"
    assert dash_br.driver.execute_script(GRID_PLACE, card) == ["1 / span 3", "1 / span 2"]

    def outline_shows_target():
        outline = dash_br.driver.execute_script(
            "var o = document.querySelector('.grid-placeholder');"
            "return o ? [o.style.gridColumn, o.style.gridRow] : null"
        )
        assert outline == ["5 / span 3", "2 / span 2"]

    drag(dash_br, dash_br.find_element(f"#{card} .drag-handle"), 4, 1, outline_shows_target)
    dash_br.wait_for_contains_text("#edit-status", "Placed kpi-users at 4,1", timeout=10)
    assert not dash_br.driver.find_elements("css selector", ".grid-placeholder")
    wait_until(
        lambda: dash_br.driver.execute_script(GRID_PLACE, card) == ["5 / span 3", "2 / span 2"]
    )
    drag(dash_br, dash_br.find_element(f"#{card} .resize-handle"), 2, 1)
    dash_br.wait_for_contains_text("#edit-status", "(5×3)", timeout=10)
    dash_br.driver.refresh()
    dash_br.wait_for_text_to_equal("#header-title", "Drag board", timeout=20)
    dash_br.wait_for_element(f"#{card} .widget-title", timeout=20)
    assert dash_br.driver.execute_script(GRID_PLACE, card) == ["5 / span 5", "2 / span 3"]
    assert dash_br.get_logs() == []


def test_the_metric_picker_adds_a_second_series_to_a_chart(dash_br, live_server):
    """Edit opens the widget's settings; a second series picked there is drawn as a trace."""
    copy_of_default(live_server, "picker-board", "Picker board")
    open_in_edit_mode(dash_br, live_server, "picker-board", "Picker board")
    graph = "widget-line-users-graph"
    assert dash_br.driver.execute_script(TRACES, graph) == 1
    dash_br.find_element('[id*="widget-config"][id*="\\"line-users\\""]').click()
    dash_br.wait_for_element("#edit-config-form", timeout=5)
    wait_until(lambda: dash_br.find_element("#edit-config-form").is_displayed())
    focused = "return document.activeElement && document.activeElement.id"
    wait_until(lambda: dash_br.driver.execute_script(focused) == "edit-config-title")
    assert dash_br.find_element("#edit-config-title").get_attribute("value") == (
        "Active users, 24 h"
    )
    dash_br.select_dcc_dropdown("#edit-config-series", value="demo.error_rate")
    dash_br.find_element("#edit-config-title").send_keys(Keys.ESCAPE)  # closes the menu
    title = dash_br.find_element("#edit-config-title")
    title.send_keys(Keys.CONTROL, "a")
    title.send_keys("Users and errors")
    ARTIFACTS.mkdir(exist_ok=True)
    dash_br.driver.save_screenshot(str(ARTIFACTS / "dashboard-editing.png"))
    dash_br.find_element("#edit-config-save").click()
    dash_br.wait_for_contains_text("#edit-status", "Saved Users and errors", timeout=10)
    wait_until(lambda: dash_br.driver.execute_script(TRACES, graph) == 2, timeout=15)
    assert not dash_br.find_element("#edit-config-form").is_displayed()
    dash_br.driver.refresh()
    dash_br.wait_for_element(f"#{graph} .main-svg", timeout=20)
    wait_until(lambda: dash_br.driver.execute_script(TRACES, graph) == 2, timeout=15)
    assert dash_br.get_logs() == []


def test_export_then_import_under_a_new_title_gives_the_same_widgets(
    dash_br, live_server, tmp_path
):
    """Export JSON downloads the open dashboard; Import JSON saves it anew and opens it."""
    source = copy_of_default(live_server, "export-board", "Export board")
    open_in_edit_mode(dash_br, live_server, "export-board", "Export board")
    href = dash_br.find_element("#edit-export-json").get_attribute("href")
    assert href == live_server.url + "/api/v1/dashboards/export-board?download=1"
    exported = dash_br.driver.execute_async_script(
        "fetch(arguments[0]).then(r => r.text()).then(arguments[1])", href
    )
    upload = dash_br.wait_for_element(".import-upload input[type=file]", timeout=10)
    broken = tmp_path / "broken.json"
    broken.write_text(exported.replace('"kind": "stat"', '"kind": "radar"', 1))
    upload.send_keys(str(broken))
    dash_br.find_element("#edit-import-submit").click()
    dash_br.wait_for_contains_text("#edit-status", "Not imported: widgets[0].kind", timeout=10)
    assert dash_br.find_element("#edit-status").get_attribute("role") == "status"
    good = tmp_path / "export-board.json"
    good.write_text(exported)
    upload.send_keys(str(good))
    dash_br.find_element("#edit-import-title").send_keys("Imported board")
    dash_br.find_element("#edit-import-submit").click()
    wait_until(lambda: "dashboard=imported-board" in dash_br.driver.current_url)
    dash_br.wait_for_text_to_equal("#header-title", "Imported board", timeout=10)
    dash_br.driver.refresh()
    dash_br.wait_for_text_to_equal("#header-title", "Imported board", timeout=20)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    for widget in source["widgets"]:
        lay = widget["layout"]
        expected = [f"{lay['x'] + 1} / span {lay['w']}", f"{lay['y'] + 1} / span {lay['h']}"]
        assert dash_br.driver.execute_script(GRID_PLACE, f"widget-{widget['id']}") == expected
    imported = dash_br.driver.execute_async_script(
        "fetch('/api/v1/dashboards/imported-board').then(r => r.json()).then(arguments[0])"
    )
    assert imported["widgets"] == source["widgets"]
    assert len(dash_br.driver.find_elements("css selector", ".widget")) == len(source["widgets"])
    assert dash_br.get_logs() == []


CARD_CELLS = """
return Array.from(document.querySelectorAll('#widgets-grid > .widget')).map(function (el) {
  var c = el.style.gridColumn.split(' / span '), r = el.style.gridRow.split(' / span ');
  return [el.id, +c[0] - 1, +r[0] - 1, +c[1], +r[1]];
});
"""


def overlaps(cards: list[list]) -> list[tuple[str, str]]:
    """The pairs of cards that share a grid cell."""
    out = []
    for i, (a, ax, ay, aw, ah) in enumerate(cards):
        for b, bx, by, bw, bh in cards[i + 1 :]:
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                out.append((a, b))
    return out


def test_a_widget_dropped_onto_another_pushes_it_down(dash_br, live_server):
    """Dropped on an occupied cell, the widget takes it and its neighbours move below: no two
    cards ever share a cell, on the page and after a reload."""
    copy_of_default(live_server, "push-board", "Push board")
    open_in_edit_mode(dash_br, live_server, "push-board", "Push board")
    assert overlaps(dash_br.driver.execute_script(CARD_CELLS)) == []
    card = "widget-kpi-users"
    drag(dash_br, dash_br.find_element(f"#{card} .drag-handle"), 3, 0)  # onto kpi-revenue
    dash_br.wait_for_contains_text("#edit-status", "Placed kpi-users at 3,0", timeout=10)
    wait_until(lambda: dash_br.driver.execute_script(GRID_PLACE, card)[0] == "4 / span 3")
    cells = {c[0]: c[1:] for c in dash_br.driver.execute_script(CARD_CELLS)}
    assert cells[card] == [3, 0, 3, 2]
    assert cells["widget-kpi-revenue"][1] >= 2  # pushed below the dropped widget
    assert overlaps(dash_br.driver.execute_script(CARD_CELLS)) == []
    dash_br.driver.refresh()
    dash_br.wait_for_text_to_equal("#header-title", "Push board", timeout=20)
    dash_br.wait_for_element(f"#{card} .widget-title", timeout=20)
    assert overlaps(dash_br.driver.execute_script(CARD_CELLS)) == []
    assert dash_br.get_logs() == []
