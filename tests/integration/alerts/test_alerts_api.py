"""Alerts end to end: ingest crossing a threshold, one event per transition, webhooks, roles."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dashboard.alerts.runner import AlertService, Notifier
from dashboard.alerts.store import AlertStore
from dashboard.app import create_app
from dashboard.auth.passwords import hash_password
from dashboard.metrics.model import Batch, SeriesKey, make_points
from tests.conftest import TOKEN, sign_in

RULE = {
    "id": "errors-high",
    "name": "Errors high",
    "condition": "above",
    "threshold": 0.05,
    "resolve_threshold": 0.04,
    "for_s": 0,
    "severity": "critical",
    "series": {"name": "svc.error_rate", "labels": {}},
}


def _ingest(client, values: list[float], t0: int) -> None:
    """Send one point a second."""
    body = {
        "metrics": [
            {"name": "svc.error_rate", "points": [[t0 + i * 1000, v] for i, v in enumerate(values)]}
        ]
    }
    response = client.post(
        "/api/v1/ingest", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 202


def test_crossing_a_threshold_stores_one_event_and_emits_it_on_the_socket(app, client):
    """Ingest through the API: a firing and a resolution are stored and pushed to browsers."""
    assert client.post("/api/v1/alerts/rules", json=RULE).status_code == 201
    socketio = app.extensions["socketio"]
    browser = socketio.test_client(app, namespace="/live", flask_test_client=client)
    t0 = int(time.time()) * 1000 - 10_000
    _ingest(app.test_client(), [0.01, 0.2, 0.3, 0.045, 0.03], t0)
    events = client.get("/api/v1/alerts/events").get_json()
    states = [(e["state"], e["ts"]) for e in reversed(events["events"])]
    assert states == [("firing", t0 + 1000), ("resolved", t0 + 4000)]
    assert events["firing"] == []
    pushed = [m["args"][0] for m in browser.get_received("/live") if m["name"] == "alert"]
    assert [(p["state"], p["severity"]) for p in pushed] == [
        ("firing", "critical"),
        ("resolved", "critical"),
    ]
    assert pushed[0]["firing"] == 1 and pushed[1]["firing"] == 0
    # a replay of the same points makes no new event
    _ingest(app.test_client(), [0.01, 0.2, 0.3, 0.045, 0.03], t0)
    assert len(client.get("/api/v1/alerts/events").get_json()["events"]) == 2


def test_two_engines_on_one_database_record_each_transition_once(tmp_path):
    """Two nodes' engines see the same points; the unique key keeps one event each."""
    path = tmp_path / "alerts.db"
    store_a, store_b = AlertStore(path), AlertStore(path)
    from dashboard.alerts.engine import validate_rule

    store_a.put_rule(validate_rule(RULE))
    emitted: list[tuple[str, str]] = []
    a = AlertService(store_a, emit=lambda p: emitted.append(("a", p["state"])))
    b = AlertService(store_b, emit=lambda p: emitted.append(("b", p["state"])))
    key = SeriesKey.of("svc.error_rate")
    t0 = int(time.time()) * 1000
    batch = Batch([make_points(key, [t0, t0 + 1000, t0 + 2000], [0.01, 0.5, 0.01])])
    threads = [threading.Thread(target=svc.on_batch, args=(batch,)) for svc in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for _, s in emitted) == ["firing", "resolved"]
    assert len(store_a.events()) == 2


class _Receiver(BaseHTTPRequestHandler):
    """A webhook receiver: fails the first ``fail`` requests, records the rest."""

    fail = 0
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        """Answer 500 while failing, else 200 and keep the body."""
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if type(self).fail > 0:
            type(self).fail -= 1
            self.send_response(500)
        else:
            type(self).received.append(body)
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture
def receiver():
    """A webhook receiver on loopback."""
    _Receiver.fail, _Receiver.received = 0, []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()


def test_webhook_gets_the_payload_and_a_failing_one_is_retried(receiver):
    """A loopback receiver (allowed here) gets Slack-compatible JSON after two failures."""
    url, handler = receiver
    handler.fail = 2
    outcomes: list[bool] = []
    notifier = Notifier(
        allow_private=True, first_delay_s=0.01, on_result=lambda u, ok: outcomes.append(ok)
    )
    assert notifier.deliver(url, {"text": "hello", "event": {"state": "firing"}})
    assert handler.received == [{"text": "hello", "event": {"state": "firing"}}]
    assert outcomes == [True]


def test_webhooks_to_loopback_are_refused_by_default(receiver):
    """Without the setting, a webhook pointing at this machine is never called."""
    url, handler = receiver
    outcomes: list[bool] = []
    notifier = Notifier(first_delay_s=0.01, on_result=lambda u, ok: outcomes.append(ok))
    assert not notifier.deliver(url, {"text": "x"})
    assert handler.received == [] and outcomes == [False]


def test_firing_rule_sends_its_webhook_off_the_ingest_path(settings, receiver):
    """A rule's webhook is queued at the transition and delivered by the notifier's loop."""
    url, handler = receiver
    settings.webhook_allow_private = True
    app = create_app(settings)
    admin = sign_in(app.test_client(), "admin", "admin-password-for-tests")
    assert admin.post("/api/v1/alerts/rules", json={**RULE, "webhook": url}).status_code == 201
    _ingest(app.test_client(), [0.5], int(time.time()) * 1000)
    notifier = app.extensions["dashboard"].alerts.notifier
    stop = threading.Event()
    worker = threading.Thread(target=notifier.run, args=(stop.is_set,), daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not handler.received:
        time.sleep(0.05)
    stop.set()
    assert handler.received and "Errors high is firing" in handler.received[0]["text"]
    app.extensions["dashboard"].close()


def test_viewers_read_rules_but_cannot_change_them(app, client):
    """Rules and events are readable by every signed-in user; only editors change them."""
    store = app.extensions["auth_users"]
    store.create_user("vera", hash_password("vera-password-123"), "viewer")
    viewer = sign_in(app.test_client(), "vera", "vera-password-123")
    assert client.post("/api/v1/alerts/rules", json=RULE).status_code == 201
    assert viewer.get("/api/v1/alerts/rules").status_code == 200
    assert viewer.get("/api/v1/alerts/events").status_code == 200
    assert viewer.post("/api/v1/alerts/rules", json={**RULE, "id": "x"}).status_code == 403
    assert viewer.put("/api/v1/alerts/rules/errors-high", json=RULE).status_code == 403
    assert viewer.delete("/api/v1/alerts/rules/errors-high").status_code == 403
    assert (
        viewer.post("/api/v1/alerts/rules/errors-high/snooze", json={"minutes": 5}).status_code
        == 403
    )
    assert app.test_client().get("/api/v1/alerts/rules").status_code == 401


def test_rule_api_validates_and_snoozes(client):
    """A bad rule gets a 400 naming the field; snoozing silences its toasts."""
    bad = client.post("/api/v1/alerts/rules", json={**RULE, "threshold": "high"})
    assert bad.status_code == 400 and bad.get_json()["detail"]["field"] == "threshold"
    assert client.post("/api/v1/alerts/rules", json=RULE).status_code == 201
    assert client.post("/api/v1/alerts/rules", json=RULE).status_code == 409
    snooze = client.post("/api/v1/alerts/rules/errors-high/snooze", json={"minutes": 10})
    assert snooze.status_code == 200
    listed = client.get("/api/v1/alerts/rules").get_json()["rules"]
    assert listed[0]["snoozed_until"] > time.time() * 1000
    assert client.delete("/api/v1/alerts/rules/errors-high").status_code == 200
    assert client.delete("/api/v1/alerts/rules/errors-high").status_code == 404


def test_a_snooze_that_has_ended_lists_as_0_and_errors_keep_their_json(app, client):
    """The one meaning of a snooze in the API, and each error's exact answer."""
    assert client.post("/api/v1/alerts/rules", json=RULE).status_code == 201
    app.extensions["dashboard"].alerts.store.snooze("errors-high", 1)  # ended long ago
    assert client.get("/api/v1/alerts/rules").get_json()["rules"][0]["snoozed_until"] == 0
    snooze = "/api/v1/alerts/rules/errors-high/snooze"
    assert client.post(snooze, json={"minutes": 0}).get_json() == {
        "rule_id": "errors-high",
        "snoozed_until": 0,
    }
    for minutes in (10_081, -1, True, "5"):
        bad = client.post(snooze, json={"minutes": minutes})
        assert bad.status_code == 400
        assert bad.get_json() == {"error": "bad snooze", "detail": "minutes: 0 to 10080"}
    missing = client.post("/api/v1/alerts/rules/nope/snooze", json={"minutes": 5})
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "unknown rule", "detail": "nope"}
    assert client.get("/api/v1/alerts/rules/nope").get_json() == {
        "error": "unknown rule",
        "detail": "nope",
    }
    assert client.get("/api/v1/alerts/rules/errors-high").get_json()["name"] == "Errors high"
    put = client.put("/api/v1/alerts/rules/other", json=RULE)
    assert put.status_code == 404 and put.get_json()["detail"] == "other"
    updated = client.put("/api/v1/alerts/rules/errors-high", json={**RULE, "threshold": 0.1})
    assert updated.status_code == 200 and updated.get_json()["threshold"] == 0.1
    exists = client.post("/api/v1/alerts/rules", json=RULE)
    assert exists.get_json() == {"error": "rule exists", "detail": "errors-high"}
    invalid = client.put("/api/v1/alerts/rules/errors-high", json={**RULE, "severity": "x"})
    assert invalid.status_code == 400 and invalid.get_json()["error"] == "invalid rule"
    ack = client.post("/api/v1/alerts/events/99/ack")
    assert ack.status_code == 404
    assert ack.get_json() == {"error": "unknown event", "detail": 99}
    assert client.post(f"/api/v1/alerts/events/{2**63}/ack").status_code == 404
    assert client.get("/api/v1/alerts/events?limit=x").status_code == 400
    events = client.get(f"/api/v1/alerts/events?limit=0&since={2**70}").get_json()
    assert events == {"events": [], "firing": []}
