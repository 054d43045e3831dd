"""Editing a dashboard's variables in the browser: an editor adds a custom variable in edit
mode (its preview lists its values), its dropdown appears in the variables bar and the URL
carries ``var-env``; a bad name shows the validator's error; removing it takes the dropdown
away (the server's refusal of a viewer's save: tests/integration/boards)."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import (
    ElementNotInteractableException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.keys import Keys

from tests.browser.test_editing import copy_of_default, open_in_edit_mode
from tests.browser.test_live_page import wait_until

pytestmark = pytest.mark.browser

ROWS = """
return Array.from(document.querySelectorAll('#vars-edit-list .vars-edit-row'))
  .map(function (li) { return li.getAttribute('data-var'); });
"""
BAR = """
return Array.from(document.querySelectorAll('#vars-bar .vars-item'))
  .map(function (d) { return d.getAttribute('data-var'); });
"""


def rows(dash_br) -> list[str]:
    """The variables the editor's list shows."""
    return dash_br.driver.execute_script(ROWS) or []


def bar(dash_br) -> list[str]:
    """The variables the bar above the grid has a dropdown for."""
    return dash_br.driver.execute_script(BAR) or []


def choose_type(dash_br, label: str) -> None:
    """Pick the variable's type in its dropdown, and close the menu."""
    dash_br.select_dcc_dropdown("#vars-edit-type", value=label)
    dash_br.wait_for_contains_text("#vars-edit-type", label, timeout=5)
    if dash_br.driver.find_elements("css selector", ".dash-dropdown-options"):
        dash_br.driver.switch_to.active_element.send_keys(Keys.ESCAPE)


def fill(dash_br, selector: str, text: str) -> None:
    """Replace a field's text and leave it (its debounced value is sent)."""
    field = dash_br.find_element(selector)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    field.send_keys(text)
    field.send_keys(Keys.TAB)


def click_once_drawn(dash_br, selector: str, keys: str | None = None) -> None:
    """Click ``selector`` (or type ``keys`` into it) once the page has stopped drawing it anew
    (after a reload or a redraw Dash may replace the element between finding it and using it,
    or show it a moment after it is in the page)."""

    def done() -> bool:
        try:
            found = dash_br.find_element(selector)
            found.send_keys(keys) if keys is not None else found.click()
        except (StaleElementReferenceException, ElementNotInteractableException):
            return False
        return True

    wait_until(done, timeout=10)


def test_add_a_custom_variable_see_its_dropdown_and_remove_it(dash_br, live_server):
    """``env`` = prod, staging: previewed, added to the list and the bar, in the URL; then
    removed by its button (by keyboard)."""
    copy_of_default(live_server, "vars-board", "Vars board")
    open_in_edit_mode(dash_br, live_server, "vars-board", "Vars board")
    wait_until(lambda: rows(dash_br) == ["route"], timeout=10)
    assert bar(dash_br) == ["route"]
    dash_br.driver.execute_script("document.getElementById('vars-edit').scrollIntoView()")
    fill(dash_br, "#vars-edit-name", "env")
    choose_type(dash_br, "Custom list")
    dash_br.wait_for_text_to_equal("#vars-edit-definition-label", "Values, comma-separated")
    fill(dash_br, "#vars-edit-definition", "prod, staging")
    dash_br.wait_for_text_to_equal(
        "#vars-edit-preview", "Gives 2 options: prod, staging", timeout=10
    )
    multi = dash_br.find_element("#vars-edit-multi")
    multi.send_keys(Keys.SPACE)  # a toggle button: Space (or Enter) switches it
    wait_until(lambda: multi.get_attribute("aria-pressed") == "true", timeout=5)
    dash_br.find_element("#vars-edit-save").click()
    dash_br.wait_for_text_to_equal("#vars-edit-status", "Added $env", timeout=10)
    wait_until(lambda: rows(dash_br) == ["route", "env"], timeout=10)
    wait_until(lambda: bar(dash_br) == ["route", "env"], timeout=10)
    assert "var-env=prod" in dash_br.driver.current_url
    assert multi.get_attribute("aria-pressed") == "false"  # the form emptied for the next
    assert dash_br.find_element("#vars-edit-name").get_attribute("value") == ""
    # picking the other value puts it in the URL
    dash_br.select_dcc_dropdown('[data-var="env"] .vars-select', value="staging")
    wait_until(lambda: "var-env=staging" in dash_br.driver.current_url, timeout=10)
    # a reload keeps it (it was saved)
    dash_br.driver.refresh()
    wait_until(lambda: bar(dash_br) == ["route", "env"], timeout=20)
    click_once_drawn(dash_br, "#edit-toggle")
    wait_until(lambda: rows(dash_br) == ["route", "env"], timeout=10)
    remove = '[data-var="env"] button[aria-label="Remove variable env"]'
    click_once_drawn(dash_br, remove, keys=Keys.ENTER)

    def removed() -> bool:
        """The status says so; a press the list's redraw swallowed in the browser (the button
        replaced as the key went) is made again, which removing twice allows."""
        if dash_br.find_element("#vars-edit-status").text == "Removed $env":
            return True
        still_there = dash_br.driver.find_elements("css selector", remove)
        if still_there and time.monotonic() > pressed[0] + 8:
            pressed[0] = time.monotonic()
            click_once_drawn(dash_br, remove, keys=Keys.ENTER)
        return False

    pressed = [time.monotonic()]
    wait_until(removed, timeout=25)
    wait_until(lambda: bar(dash_br) == ["route"], timeout=10)
    assert rows(dash_br) == ["route"]
    assert "var-env" not in dash_br.driver.current_url
    assert dash_br.get_logs() == []


def test_a_bad_name_shows_the_validator_error_and_saves_nothing(dash_br, live_server):
    """``2env`` is no identifier: the error is shown under the name, nothing is added."""
    copy_of_default(live_server, "vars-bad", "Vars bad")
    open_in_edit_mode(dash_br, live_server, "vars-bad", "Vars bad")
    wait_until(lambda: rows(dash_br) == ["route"], timeout=10)
    fill(dash_br, "#vars-edit-name", "2env")
    choose_type(dash_br, "Custom list")
    fill(dash_br, "#vars-edit-definition", "a, b")
    dash_br.wait_for_contains_text("#vars-edit-name-error", "an identifier", timeout=10)
    dash_br.find_element("#vars-edit-save").click()
    dash_br.wait_for_contains_text("#vars-edit-status", "Not saved", timeout=10)
    assert rows(dash_br) == ["route"]
    assert bar(dash_br) == ["route"]
    # the same name as another variable is refused too
    fill(dash_br, "#vars-edit-name", "route")
    dash_br.wait_for_contains_text("#vars-edit-name-error", "another variable", timeout=10)
    dash_br.find_element("#vars-edit-save").click()
    dash_br.wait_for_contains_text("#vars-edit-status", "Not saved", timeout=10)
    assert rows(dash_br) == ["route"]
    # Edit fills the form with the variable; a query's preview lists the store's routes
    dash_br.find_element('[data-var="route"] button[aria-label="Edit variable route"]').click()
    dash_br.wait_for_text_to_equal("#vars-edit-form-heading", "Edit $route", timeout=10)
    focused = "return document.activeElement && document.activeElement.id"
    wait_until(lambda: dash_br.driver.execute_script(focused) == "vars-edit-name", timeout=5)
    assert dash_br.find_element("#vars-edit-definition").get_attribute("value") == (
        "label_values(demo.requests, route)"
    )
    dash_br.wait_for_contains_text("#vars-edit-preview", "/api/orders", timeout=10)
