"""Editing in the browser: add a widget for a picked metric, move and remove it, reload."""

from __future__ import annotations

import pytest
import requests

from tests.browser.test_live_page import open_dashboard, sign_in, wait_until
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

GRID_COLUMN = "return document.getElementById(arguments[0]).style.gridColumn"


def test_add_move_and_remove_a_widget_and_find_it_so_after_a_reload(dash_br, live_server):
    """An editor builds the dashboard in the page; every change is saved."""
    open_dashboard(dash_br, live_server)
    dash_br.find_element("#edit-toggle").click()
    dash_br.wait_for_text_to_equal("#edit-toggle", "Done editing", timeout=5)
    dash_br.select_dcc_dropdown("#add-kind", value="bar")
    dash_br.select_dcc_dropdown("#add-metric", value="demo.error_rate")
    dash_br.find_element("#add-title").send_keys("Errors by hour")
    dash_br.find_element("#add-submit").click()
    dash_br.wait_for_contains_text("#edit-status", "Added Errors by hour", timeout=10)
    dash_br.wait_for_element("#widget-errors-by-hour .main-svg", timeout=10)
    assert dash_br.driver.execute_script(GRID_COLUMN, "widget-errors-by-hour") == "1 / span 6"
    from tests.browser.conftest import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    dash_br.driver.save_screenshot(str(ARTIFACTS / "dashboard-editing.png"))
    move = '[id*="\\"op\\":\\"right\\""][id*="errors-by-hour"]'
    dash_br.find_element(move).click()
    wait_until(
        lambda: dash_br.driver.execute_script(GRID_COLUMN, "widget-errors-by-hour") == "2 / span 6"
    )
    dash_br.driver.refresh()
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
    assert not dash_br.driver.find_elements("css selector", ".edit-bar")
    assert dash_br.get_logs() == []


def test_a_dashboard_of_120_widgets_loads_and_updates_without_errors(dash_br, live_server):
    """120 charts and tiles over every demo series draw, go live and update cleanly."""
    from tests.browser.conftest import ARTIFACTS

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
    wait_until(
        lambda: len(dash_br.driver.find_elements("css selector", ".widget .main-svg")) >= 120,
        timeout=60,
    )
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)
    frames = dash_br.driver.execute_script("return window.dashLive.stats.frames")
    wait_until(
        lambda: dash_br.driver.execute_script("return window.dashLive.stats.frames") > frames + 2,
        timeout=10,
    )
    # charts below the fold take no updates while out of view, and catch up when they scroll in
    wait_until(lambda: dash_br.driver.execute_script("return window.dashLive.stats.offscreen"))
    woken = dash_br.driver.execute_script("return window.dashLive.stats.woken")
    dash_br.driver.execute_script("document.getElementById('widget-w119').scrollIntoView()")
    wait_until(lambda: dash_br.driver.execute_script("return window.dashLive.stats.woken") > woken)
    ARTIFACTS.mkdir(exist_ok=True)
    dash_br.driver.save_screenshot(str(ARTIFACTS / "dashboard-120.png"))
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
    dash_br.find_element("#add-title").send_keys("Users now")
    dash_br.find_element("#add-submit").click()
    dash_br.wait_for_element("#widget-users-now-graph .main-svg", timeout=10)
    dash_br.driver.refresh()
    dash_br.wait_for_element("#widget-users-now-graph .main-svg", timeout=20)
    assert len(dash_br.driver.find_elements("css selector", ".widget")) == 1
    assert dash_br.get_logs() == []
