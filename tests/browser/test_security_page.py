"""In a real browser: hostile text stays text, CSP holds for a whole session, sign-out works."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import NoAlertPresentException

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_live_page import open_dashboard, sign_in, wait_until

pytestmark = pytest.mark.browser

HOSTILE = '<img src=x onerror=alert(1)><a href="javascript:alert(2)">x</a>'


def test_hostile_label_shows_as_text_with_no_dialog_and_no_csp_violation(dash_br, live_server):
    """A label full of markup is drawn literally in the legend and the pie, and runs nothing."""
    now = int(time.time() * 1000)
    response = live_server.ingest(
        {
            "metrics": [
                {
                    "name": "demo.requests",
                    "labels": {"route": HOSTILE},
                    "unit": "<b>req/s</b>",
                    "points": [[now - 2000, 5.0], [now, 6.0]],
                }
            ]
        }
    )
    assert response.status_code == 202
    open_dashboard(dash_br, live_server)
    legend = wait_until(
        lambda: dash_br.driver.execute_script(
            "var l = document.querySelector('#widget-line-requests-graph .legend');"
            "return l ? l.textContent : '';"
        )
    )
    assert HOSTILE in legend
    pie = dash_br.driver.execute_script(
        "return document.querySelector('#widget-pie-requests .legend').textContent;"
    )
    assert HOSTILE in pie
    assert not dash_br.driver.find_elements("css selector", "img[src='x']")
    with pytest.raises(NoAlertPresentException):
        _ = dash_br.driver.switch_to.alert.text
    # live updates keep flowing for a while under the CSP; the console stays clean throughout
    time.sleep(3)
    assert dash_br.get_logs() == []


def test_sign_out_ends_the_session(dash_br, live_server):
    """The header's Sign out returns to the sign-in page and the dashboard needs a new sign-in."""
    open_dashboard(dash_br, live_server)
    assert "admin (admin)" in dash_br.find_element("#header-user").text
    dash_br.find_element("#header-logout").click()
    dash_br.wait_for_element("#login-username", timeout=10)
    dash_br.driver.get(live_server.url + "/")
    dash_br.wait_for_element("#login-username", timeout=10)
    assert "/login/" in dash_br.driver.current_url


def test_wrong_password_is_explained_on_the_form(dash_br, live_server):
    """A failed sign-in says why, on the page, and keeps the user on the form."""
    sign_in(dash_br, live_server, password="not-the-password")
    dash_br.wait_for_text_to_equal("#login-error", "Wrong username or password.", timeout=10)
    assert "/login/" in dash_br.driver.current_url


def test_pdf_button_shows_progress_and_downloads(dash_br, live_server):
    """The header's PDF button says it is working, then hands over the report."""
    open_dashboard(dash_br, live_server)
    dash_br.driver.execute_script(
        "window.__clicked = [];"
        "var orig = HTMLAnchorElement.prototype.click;"
        "HTMLAnchorElement.prototype.click = function () {"
        "  window.__clicked.push([this.download, this.href.slice(0, 5)]); };"
    )
    dash_br.find_element("#export-pdf").click()
    dash_br.wait_for_contains_text("#export-pdf", "Preparing PDF", timeout=5)
    wait_until(lambda: dash_br.driver.execute_script("return window.__clicked.length"), 60)
    assert dash_br.driver.execute_script("return window.__clicked[0]") == [
        "dashboard-report.pdf",
        "blob:",
    ]
    dash_br.wait_for_text_to_equal("#export-pdf", "PDF report", timeout=5)
    assert dash_br.get_logs() == []


def test_dark_theme_switches_and_is_remembered(dash_br, live_server):
    """The theme button darkens the page and its charts' text, and a reload keeps it."""
    open_dashboard(dash_br, live_server)
    driver = dash_br.driver
    background = "return getComputedStyle(document.body).backgroundColor"
    light = driver.execute_script(background)
    dash_br.find_element("#theme-toggle").click()
    wait_until(lambda: driver.execute_script(background) != light)
    fill = driver.execute_script(
        "return getComputedStyle(document.querySelector('#widget-line-users-graph .xtick text'))"
        ".fill"
    )
    assert fill == "rgb(209, 213, 219)"
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "dashboard-dark.png"))
    driver.refresh()
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    assert driver.execute_script("return document.documentElement.dataset.theme") == "dark"
    dash_br.wait_for_text_to_equal("#theme-toggle", "Light theme", timeout=10)
    assert dash_br.get_logs() == []
