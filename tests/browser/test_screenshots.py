"""The README's screenshots, taken in headless Chromium at 1280x800 once the demo data has drawn:
the dashboard in both themes, a widget's settings in edit mode, the variables editor and the
dashboards finder.

They go to tests/browser/artifacts, so a test run never changes the repository; with
``DASHBOARD_SCREENSHOTS=docs`` (``make screenshots``) they replace docs/*.png."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_finder import _add_board
from tests.browser.test_live_page import open_dashboard, wait_until
from tests.browser.test_variables_editor import choose_type

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1280, 800
DOCS = Path(__file__).resolve().parents[2] / "docs"
CHARTS = (
    "widget-line-users-graph",
    "widget-line-errors-graph",
    "widget-line-requests-graph",
    "widget-bar-revenue",
    "widget-pie-requests",
)
# every chart on the first screen drawn, with data (not an empty frame), and no "Loading…"
DRAWN = """
var ids = arguments[0];
var ready = ids.every(function (id) {
  var gd = document.querySelector('#' + id + ' .js-plotly-plot');
  return gd && gd.data && gd.data.length && gd.querySelector('.main-svg');
});
return ready && !document.querySelector('.widget-lazy-card:empty');
"""


def target(name: str) -> Path:
    """Where a screenshot goes: docs/ with DASHBOARD_SCREENSHOTS=docs, the artifacts else."""
    folder = DOCS if os.environ.get("DASHBOARD_SCREENSHOTS") == "docs" else ARTIFACTS
    folder.mkdir(exist_ok=True)
    return folder / name


def shoot(dash_br, name: str) -> Path:
    """The window as it is now, saved as ``name`` (focus taken off the last control)."""
    dash_br.driver.execute_script("document.activeElement && document.activeElement.blur()")
    path = target(name)
    assert dash_br.driver.save_screenshot(str(path))
    assert dash_br.driver.execute_script("return [innerWidth, innerHeight]") == [WIDTH, HEIGHT]
    assert path.stat().st_size > 20_000  # a drawn page, not a blank one
    return path


@pytest.fixture
def window(dash_br, live_server):
    """A signed-in 1280x800 window (its page exactly that size) on the default dashboard,
    its charts drawn."""
    dash_br.driver.set_window_size(WIDTH, HEIGHT)
    size = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
    dash_br.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", size)
    open_dashboard(dash_br, live_server)
    wait_until(lambda: dash_br.driver.execute_script(DRAWN, list(CHARTS)), timeout=30)
    yield dash_br
    dash_br.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_dashboard_in_the_light_and_the_dark_theme(window):
    """docs/screenshot.png, then docs/screenshot-dark.png (the theme put back after)."""
    shoot(window, "screenshot.png")
    window.find_element("#theme-toggle").click()
    window.wait_for_text_to_equal("#theme-toggle", "Light theme", timeout=10)
    # the charts redraw their text in the dark theme's colours
    wait_until(lambda: window.driver.execute_script(DRAWN, list(CHARTS)), timeout=10)
    shoot(window, "screenshot-dark.png")
    window.find_element("#theme-toggle").click()
    window.wait_for_text_to_equal("#theme-toggle", "Dark theme", timeout=10)


def test_a_widgets_settings_in_edit_mode(window):
    """docs/screenshot-editing.png: edit mode, the users chart's settings open (not saved)."""
    window.find_element("#edit-toggle").click()
    window.wait_for_text_to_equal("#edit-toggle", "Done editing", timeout=10)
    window.find_element('[id*="widget-config"][id*="\\"line-users\\""]').click()
    wait_until(lambda: window.find_element("#edit-config-form").is_displayed(), timeout=10)
    window.wait_for_element("#widget-line-users .edit-bar", timeout=10)
    shoot(window, "screenshot-editing.png")


def test_the_variables_editor(window):
    """docs/screenshot-variables.png: the demo's ``route`` listed, a new ``env`` previewed."""
    window.find_element("#edit-toggle").click()
    window.wait_for_text_to_equal("#edit-toggle", "Done editing", timeout=10)
    window.wait_for_element('#vars-edit-list [data-var="route"]', timeout=10)
    window.find_element("#vars-edit-name").send_keys("env")
    choose_type(window, "Custom list")
    definition = window.find_element("#vars-edit-definition")
    definition.send_keys("prod, staging")
    definition.send_keys(Keys.TAB)
    window.wait_for_text_to_equal("#vars-edit-preview", "Gives 2 options: prod, staging")
    window.driver.execute_script(
        "document.getElementById('vars-edit').scrollIntoView({block: 'center'})"
    )
    shoot(window, "screenshot-variables.png")


def test_the_dashboards_finder(window, live_server):
    """docs/screenshot-finder.png: the list open, with a second, tagged dashboard."""
    _add_board(live_server.url)
    window.driver.refresh()  # the list is drawn with the page
    wait_until(lambda: window.driver.execute_script(DRAWN, list(CHARTS)), timeout=30)
    window.find_element("#finder > summary").click()
    window.wait_for_element('#finder-list [data-dashboard="payments"]', timeout=10)
    shoot(window, "screenshot-finder.png")
