"""Boards people can find, in a browser: the "Dashboards" list searched by title and by tag,
a star toggled by keyboard (the user's own, first in the list afterwards), a home chosen there
that ``/`` then opens, and "Copy link" with the dashboard, range and variables."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from selenium.webdriver.common.keys import Keys

from tests.browser.test_live_page import open_dashboard, wait_until
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

LISTED = """
return Array.from(document.querySelectorAll('#finder-list .finder-item'))
  .map(function (li) { return li.getAttribute('data-dashboard'); });
"""


def _add_board(server_url: str) -> None:
    """A second dashboard, tagged, through the API (as the admin)."""
    session = requests.Session()
    login = session.post(
        server_url + "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert login.status_code == 200, login.text
    csrf = {"X-CSRFToken": session.cookies.get("_csrf_token", "")}
    base = session.get(server_url + "/api/v1/dashboards/default").json()
    board = {**base, "id": "payments", "title": "Payments latency", "tags": ["prod", "payments"]}
    created = session.post(server_url + "/api/v1/dashboards", json=board, headers=csrf)
    assert created.status_code in (201, 409), created.text


def listed(dash_br) -> list[str]:
    """The ids the list shows, in order."""
    return dash_br.driver.execute_script(LISTED) or []


def test_search_tags_star_and_home_by_keyboard(dash_br, live_server):
    """Open the list with the keyboard, search, filter by tag, star, choose a home."""
    _add_board(live_server.url)
    open_dashboard(dash_br, live_server)
    toggle = dash_br.find_element("#finder > summary")
    toggle.send_keys(Keys.ENTER)  # a <details>: Enter opens it
    wait_until(lambda: dash_br.find_element("#finder-search").is_displayed())
    assert set(listed(dash_br)) == {"default", "payments"}
    search = dash_br.find_element("#finder-search")
    search.send_keys("latency")
    wait_until(lambda: listed(dash_br) == ["payments"], timeout=10)
    assert "prod" in dash_br.find_element("#finder-list").text
    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.BACKSPACE)
    wait_until(lambda: len(listed(dash_br)) == 2, timeout=10)
    dash_br.select_dcc_dropdown("#finder-tag", value="payments")
    wait_until(lambda: listed(dash_br) == ["payments"], timeout=10)
    # star "SaaS overview" by keyboard: the focus stays on its toggle
    dash_br.driver.refresh()
    dash_br.wait_for_element("#finder > summary", timeout=20).send_keys(Keys.ENTER)
    star = wait_until(lambda: dash_br.find_element('[data-dashboard="default"] .finder-star'))
    assert star.get_attribute("aria-pressed") == "false"
    star.send_keys(Keys.SPACE)
    wait_until(lambda: star.get_attribute("aria-pressed") == "true", timeout=10)
    assert dash_br.driver.switch_to.active_element == star
    dash_br.find_element("#finder-starred").send_keys(Keys.SPACE)
    wait_until(lambda: listed(dash_br) == ["default"], timeout=10)
    dash_br.find_element("#finder-starred").send_keys(Keys.SPACE)
    wait_until(lambda: listed(dash_br) == ["default", "payments"], timeout=10)  # starred first
    home = dash_br.find_element('[data-dashboard="payments"] .finder-home')
    home.send_keys(Keys.ENTER)
    wait_until(lambda: home.get_attribute("aria-pressed") == "true", timeout=10)
    dash_br.find_element("#finder-search").send_keys(Keys.ESCAPE)  # closes the list
    wait_until(lambda: dash_br.find_element("#finder").get_attribute("open") is None)
    assert dash_br.driver.switch_to.active_element == dash_br.find_element("#finder > summary")
    # "/" now opens the home dashboard
    dash_br.driver.get(live_server.url + "/")
    wait_until(lambda: "dashboard=payments" in dash_br.driver.current_url, timeout=20)
    dash_br.wait_for_text_to_equal("#header-title", "Payments latency", timeout=20)
    assert dash_br.get_logs() == []


def test_copy_link_carries_the_dashboard_range_and_variables(dash_br, live_server):
    """The copied link names the dashboard, the range and each variable's value."""
    open_dashboard(dash_br, live_server)
    dash_br.driver.get(live_server.url + "/?dashboard=default")  # whatever the admin's home
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.select_dcc_dropdown("#range-select", value="Last hour")
    wait_until(lambda: "range=1h" in dash_br.driver.current_url, timeout=10)
    dash_br.find_element("#copy-link").click()
    dash_br.wait_for_text_to_equal("#copy-link-status", "Link copied", timeout=10)
    link = dash_br.find_element("#copy-link-status").get_attribute("title")
    query = parse_qs(urlsplit(link).query)
    assert query["dashboard"] == ["default"]
    assert query["range"] == ["1h"]
    assert query["var-route"] == ["$__all"]
    dash_br.driver.get(link)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.wait_for_text_to_equal("#header-title", "SaaS overview", timeout=20)
    assert dash_br.get_logs() == []
