"""The label filter follows new series live: a series created after the page loaded that
matches the filter gets its trace on the next push; one that does not match stays out."""

from __future__ import annotations

import time

import pytest
import requests

from tests.browser.test_live_page import sign_in, wait_until
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser

JS_NAMES = """
var outer = document.getElementById(arguments[0]);
var gd = outer && outer.querySelector('.js-plotly-plot');
return gd && gd.data ? gd.data.map(function (t) { return t.name; }) : null;
"""


def visits(server, region: str, page: str, value: float) -> None:
    """POST one point of ``shop_visits{region, page}`` now."""
    point = [int(time.time() * 1000), value]
    body = {"metrics": [{"name": "shop_visits", "labels": {"region": region, "page": page}}]}
    body["metrics"][0]["points"] = [point]
    assert server.ingest(body).status_code == 202


def test_a_new_series_that_matches_the_filter_appears_live(dash_br, live_server):
    """``?filter=region=eu``: a new eu series is drawn within a push, a new us one is not."""
    visits(live_server, "eu", "/a", 1.0)
    visits(live_server, "us", "/a", 2.0)
    session = requests.Session()
    session.post(
        live_server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
    )
    board = {
        "id": "visits",
        "title": "Visits",
        "widgets": [
            {
                "id": "v",
                "kind": "line",
                "title": "Visits",
                "series": [{"name": "shop_visits", "labels": {}}],
                "range": {"from": "now-15m", "to": "now"},
            }
        ],
    }
    made = session.post(
        live_server.url + "/api/v1/dashboards",
        json=board,
        headers={"X-CSRFToken": session.cookies.get("_csrf_token")},
    )
    assert made.status_code == 201, made.text
    sign_in(dash_br, live_server)
    dash_br.wait_for_element("#widget-line-users-graph .main-svg", timeout=20)
    dash_br.driver.get(live_server.url + "/?dashboard=visits&filter=region=eu")
    dash_br.wait_for_element("#widget-v-graph .main-svg", timeout=20)
    dash_br.wait_for_text_to_equal("#live-state", "Live", timeout=20)
    assert dash_br.driver.execute_script(JS_NAMES, "widget-v") == ["/a, eu"]
    visits(live_server, "us", "/c", 3.0)
    visits(live_server, "eu", "/b", 4.0)
    names = wait_until(
        lambda: (n := dash_br.driver.execute_script(JS_NAMES, "widget-v")) and len(n) > 1 and n,
        timeout=5,
    )
    assert names == ["/a, eu", "/b, eu"]
    time.sleep(1)  # the us series' points arrived in the same push: still not drawn
    assert dash_br.driver.execute_script(JS_NAMES, "widget-v") == ["/a, eu", "/b, eu"]
    assert dash_br.get_logs() == []
