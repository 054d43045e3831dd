"""A dashboard's tag in the "Dashboards" list is a button: pressing it (by keyboard here) sets
the tag filter to that tag, and the list shows only the dashboards with it."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.keys import Keys

from tests.browser.test_finder import _add_board, listed
from tests.browser.test_live_page import open_dashboard, wait_until

pytestmark = pytest.mark.browser

TAG_SHOWN = "return document.querySelector('#finder-tag').innerText"


def test_pressing_a_tag_chip_filters_the_list_by_it(dash_br, live_server):
    """Enter on "payments" leaves the tagged dashboard alone; clearing the filter shows all."""
    _add_board(live_server.url)
    open_dashboard(dash_br, live_server)
    dash_br.find_element("#finder > summary").send_keys(Keys.ENTER)
    wait_until(lambda: set(listed(dash_br)) == {"default", "payments"}, timeout=10)
    chip = dash_br.find_element('[data-dashboard="payments"] .finder-tag-chip[title*="payments"]')
    assert chip.tag_name == "button"
    assert chip.get_attribute("aria-label") == "Tag payments: show the dashboards tagged payments"
    chip.send_keys(Keys.ENTER)
    wait_until(lambda: listed(dash_br) == ["payments"], timeout=10)
    assert "payments" in dash_br.driver.execute_script(TAG_SHOWN)
    # a click on the other tag of the row does the same with it
    dash_br.find_element('[data-dashboard="payments"] .finder-tag-chip[title*="prod"]').click()
    wait_until(lambda: "prod" in dash_br.driver.execute_script(TAG_SHOWN), timeout=10)
    assert listed(dash_br) == ["payments"]
    assert dash_br.find_element("#finder").get_attribute("open") is not None  # still open
    assert dash_br.get_logs() == []
