"""An alert in the browser: a toast, the badge and the live announcement, from one point."""

from __future__ import annotations

import time

import pytest
import requests

from tests.browser.test_live_page import open_dashboard, wait_until
from tests.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.browser


def test_crossing_point_shows_a_toast_the_badge_and_an_announcement(dash_br, live_server):
    """A critical rule fires on an ingested point; the page tells the user within a second."""
    session = requests.Session()
    session.post(
        live_server.url + "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN_PASSWORD},
    )
    csrf = session.cookies.get("_csrf_token")
    rule = {
        "id": "checkout-down",
        "name": "Checkout <b>down</b>",
        "condition": "below",
        "threshold": 1,
        "resolve_threshold": 1,
        "severity": "critical",
        "series": {"name": "shop.checkout_up", "labels": {}},
    }
    created = session.post(
        live_server.url + "/api/v1/alerts/rules", json=rule, headers={"X-CSRFToken": csrf}
    )
    assert created.status_code == 201, created.text
    open_dashboard(dash_br, live_server)
    posted = time.monotonic()
    response = live_server.ingest(
        {"metrics": [{"name": "shop.checkout_up", "points": [[int(time.time() * 1000), 0]]}]}
    )
    assert response.status_code == 202
    toast = wait_until(lambda: dash_br.driver.find_elements("css selector", ".toast-critical"))
    print(f"point to toast: {(time.monotonic() - posted) * 1000:.0f} ms")
    assert "Checkout <b>down</b>" in toast[0].text  # markup stays text
    assert "shop.checkout_up = 0" in toast[0].text
    dash_br.wait_for_text_to_equal("#alerts-badge", "1", timeout=5)
    announce = dash_br.driver.execute_script(
        "return document.getElementById('alerts-announce').textContent;"
    )
    assert "critical alert: Checkout <b>down</b>" in announce
    assert dash_br.find_element("#alerts-sound").text == "Sound: off"
    dash_br.wait_for_contains_text("#alerts-events", "firing", timeout=10)
    dash_br.find_element(".toast .toast-close").click()  # dismiss it, as a user would
    wait_until(lambda: not dash_br.driver.find_elements("css selector", ".toast"))
    ack = dash_br.wait_for_element('#alerts-events button[id*="alert-event-ack"]', timeout=10)
    ack.click()
    dash_br.wait_for_contains_text("#alerts-events", "acked by admin", timeout=10)
    dash_br.find_element('#alerts-rules button[id*="alert-rule-snooze"]').click()
    dash_br.wait_for_contains_text("#alerts-rules", "snoozed until", timeout=10)
    events = session.get(live_server.url + "/api/v1/alerts/events").json()["events"]
    assert events[0]["acked_by"] == "admin"
    assert dash_br.get_logs() == []


def test_the_demo_fires_its_own_alert_within_a_minute_of_the_start(dash_br, tmp_path):
    """``make run``'s demo: its rule is there from the first start and its opening spike fires
    it: the page shows the toast and the alerts panel lists it, without the user doing a thing."""
    from tests.servers import LiveServer

    server = LiveServer(tmp_path / "data", demo=True, env={"DASHBOARD_DEMO_ALERT": "1"})
    try:
        started = time.monotonic()
        open_dashboard(dash_br, server)
        dash_br.wait_for_contains_text("#alerts-rules", "Error rate above 5 %", timeout=10)
        toast = wait_until(
            lambda: dash_br.driver.find_elements("css selector", ".toast-warning"), timeout=75
        )
        print(f"start to the demo's toast: {time.monotonic() - started:.0f} s")
        assert "Error rate above 5 %" in toast[0].text
        dash_br.wait_for_contains_text("#alerts-events", "firing", timeout=10)
    finally:
        server.stop()
