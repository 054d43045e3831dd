"""Two `dashboard serve` nodes on one Redis behind nginx, with a real browser (the cases that
kill a node or take the browser offline are in tests/faults/test_browser_faults.py)."""

from __future__ import annotations

import pytest

from tests.browser.test_live_page import JS_TRACE_Y, wait_until
from tests.cluster import open_dashboard, post_point

pytestmark = pytest.mark.browser


def test_a_point_ingested_on_node_a_reaches_a_browser_on_node_b(dash_br, cluster):
    """The stream carries a point from one node to every node's browsers."""
    a, b, _ = cluster
    open_dashboard(dash_br, b.url)
    post_point(a.url, 76543.0)
    wait_until(
        lambda: (
            76543.0
            in (dash_br.driver.execute_script(JS_TRACE_Y, "widget-line-users-graph", 0) or [])
        )
    )
