"""Webhook URLs are write-only secrets: no role reads them back, they are encrypted at rest,
the notifier still posts to the real URL, and logs and /metrics hold only the masked form."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dashboard.alerts.engine import validate_rule
from dashboard.alerts.runner import Notifier
from dashboard.alerts.store import AlertStore
from dashboard.auth.passwords import hash_password
from dashboard.runtime import secret_box
from dashboard.secretbox import SecretBox
from tests.conftest import ADMIN_PASSWORD, TOKEN, sign_in

PASSWORD = "a-password-for-secret-tests"
TOKEN_PART = "XXXXsecretXXXXsecretXXXX"
SECRET = f"https://hooks.slack.com/services/T000/B000/{TOKEN_PART}"
MASKED = "https://hooks.slack.com/services/T000/\u2026"
RULE = {
    "id": "errors-high",
    "name": "Errors high",
    "condition": "above",
    "threshold": 0.05,
    "for_s": 0,
    "severity": "critical",
    "series": {"name": "svc.error_rate", "labels": {}},
}
RULES = "/api/v1/alerts/rules"


def _clients(app) -> dict:
    """A signed-in test client per role."""
    users = app.extensions["auth_users"]
    for role in ("viewer", "editor"):
        users.create_user(role, hash_password(PASSWORD), role)
    return {
        "viewer": sign_in(app.test_client(), "viewer", PASSWORD),
        "editor": sign_in(app.test_client(), "editor", PASSWORD),
        "admin": sign_in(app.test_client(), "admin", ADMIN_PASSWORD),
    }


def _stored_bodies(app) -> list[str]:
    """The rules' rows as the database holds them."""
    db = app.extensions["dashboard"].app_db
    return [body for (body,) in db.execute("SELECT CAST(body AS TEXT) FROM alert_rules").rows]


def _strings(doc) -> set[str]:
    """Every string inside a JSON document."""
    if isinstance(doc, str):
        return {doc}
    if isinstance(doc, dict):
        return set().union(*map(_strings, doc.values())) if doc else set()
    if isinstance(doc, list):
        return set().union(*map(_strings, doc)) if doc else set()
    return set()


def _snooze_output(client) -> str:
    """The rules list the panel's Snooze button sends back (a Dash callback's output)."""
    button = {"type": "alert-rule-snooze", "rule": RULE["id"]}
    deps = client.get("/_dash-dependencies").get_json()
    (dep,) = [d for d in deps if "alerts-rules.children@" in d["output"]]
    prop = json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"
    response = client.post(
        "/_dash-update-component",
        json={
            "output": dep["output"],
            "outputs": {"id": "alerts-rules", "property": "children"},
            "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
            "state": [],
            "changedPropIds": [prop],
        },
    )
    assert response.status_code in (200, 204)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_no_role_reads_the_webhook_through_the_api_or_the_page(app, role):
    """Each role sees the masked form and ``webhook_set``, in the API, the page layout and the
    panel's callback output; never the URL."""
    clients = _clients(app)
    created = clients["admin"].post(RULES, json={**RULE, "webhook": SECRET})
    assert created.status_code == 201
    assert TOKEN_PART not in created.get_data(as_text=True)
    client = clients[role]
    listed = client.get(RULES)
    one = client.get(f"{RULES}/{RULE['id']}")
    layout = client.get("/_dash-layout")
    for response in (listed, one, layout):
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert TOKEN_PART not in text and "B000" not in text
    assert listed.get_json()["rules"][0]["webhook"] == MASKED
    assert one.get_json()["webhook"] == MASKED and one.get_json()["webhook_set"] is True
    assert f"webhook {MASKED}" in _strings(layout.get_json())  # shown masked on the page
    panel = _snooze_output(client)
    assert TOKEN_PART not in panel
    if role != "viewer":  # editors and admins get the re-rendered list, masked
        assert f"webhook {MASKED}" in _strings(json.loads(panel))
        # an update without the field keeps the secret, and answers masked
        updated = client.put(f"{RULES}/{RULE['id']}", json={**RULE, "threshold": 0.1})
        assert updated.status_code == 200 and updated.get_json()["webhook"] == MASKED
        assert TOKEN_PART not in updated.get_data(as_text=True)
        assert app.extensions["dashboard"].alerts.store.get_rule(RULE["id"]).webhook == SECRET
    else:
        assert client.put(f"{RULES}/{RULE['id']}", json=RULE).status_code == 403


def test_update_keeps_replaces_or_clears_the_secret(app, client):
    """No field or the masked form keeps it; a new URL replaces it; ``""`` clears it."""
    store = app.extensions["dashboard"].alerts.store
    assert client.post(RULES, json={**RULE, "webhook": SECRET}).status_code == 201
    path = f"{RULES}/{RULE['id']}"
    shown = client.get(path).get_json()
    # the object read back, sent back as it is (masked webhook, webhook_set): nothing lost
    assert client.put(path, json=shown).status_code == 200
    assert store.get_rule(RULE["id"]).webhook == SECRET
    assert client.put(path, json=RULE).status_code == 200
    assert store.get_rule(RULE["id"]).webhook == SECRET
    other = "https://hooks.slack.com/services/T000/B111/YYYYotherYYYYotherYYYY"
    assert client.put(path, json={**RULE, "webhook": other}).get_json()["webhook"] == MASKED
    assert store.get_rule(RULE["id"]).webhook == other
    cleared = client.put(path, json={**RULE, "webhook": ""}).get_json()
    assert cleared["webhook"] == "" and cleared["webhook_set"] is False
    assert store.get_rule(RULE["id"]).webhook == ""
    # a masked form that is not the stored one's is no URL: refused, not stored
    bad = client.put(path, json={**RULE, "webhook": MASKED})
    assert bad.status_code == 400 and bad.get_json()["detail"]["field"] == "webhook"


def test_the_database_row_holds_no_plaintext(app, client):
    """The rule's row holds the sealed form; the API reads it back (masked)."""
    assert client.post(RULES, json={**RULE, "webhook": SECRET}).status_code == 201
    (body,) = _stored_bodies(app)
    assert TOKEN_PART not in body and "hooks.slack.com" not in body
    assert json.loads(body)["webhook"].startswith("enc:v1:")
    assert client.get(RULES).get_json()["rules"][0]["webhook_set"] is True


def test_a_plain_webhook_stored_before_still_works_and_is_sealed(settings, tmp_path):
    """A row written before encryption reads as it is, and is sealed when a store opens."""
    path = tmp_path / "old.db"
    old = AlertStore(path)  # no box: how rows were written before
    old.put_rule(validate_rule({**RULE, "webhook": SECRET}))
    old.close()
    box = secret_box(settings)
    store = AlertStore(path, box=box)
    assert store.get_rule(RULE["id"]).webhook == SECRET
    (body,) = [b for (b,) in store._db.execute("SELECT body FROM alert_rules").rows]
    assert TOKEN_PART not in body and json.loads(body)["webhook"].startswith("enc:v1:")
    # a key from another secret cannot open it: the webhook reads as unset, nothing breaks
    other = AlertStore(path, box=SecretBox("another-secret"))
    assert other.get_rule(RULE["id"]).webhook == ""
    store.close()
    other.close()


class _Receiver(BaseHTTPRequestHandler):
    """Records each POST's path and body."""

    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        """Keep the body; 200."""
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture
def receiver():
    """A webhook receiver on loopback, at a path that is a secret."""
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook/{TOKEN_PART}"
    server.shutdown()
    server.server_close()


def test_the_notifier_posts_to_the_real_url_and_logs_only_the_masked_form(
    settings, receiver, caplog
):
    """The stored secret reaches the receiver; the API, logs and /metrics never hold it."""
    from dashboard.app import create_app

    settings.webhook_allow_private = True
    app = create_app(settings)
    try:
        admin = sign_in(app.test_client(), "admin", ADMIN_PASSWORD)
        assert admin.post(RULES, json={**RULE, "webhook": receiver}).status_code == 201
        shown = admin.get(RULES).get_json()["rules"][0]["webhook"]
        assert shown.endswith("/hook/\u2026") and TOKEN_PART not in shown
        caplog.set_level(logging.DEBUG)
        response = app.test_client().post(
            "/api/v1/ingest",
            json={"metrics": [{"name": "svc.error_rate", "points": [[_now(), 0.5]]}]},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 202
        notifier = app.extensions["dashboard"].alerts.notifier
        url, payload = notifier.queue.get(timeout=5)
        assert notifier.deliver(url, payload)
        assert _Receiver.received[0][0] == f"/hook/{TOKEN_PART}"
        assert "Errors high is firing" in _Receiver.received[0][1]["text"]
        # a failing delivery logs the masked form only
        dead = Notifier(allow_private=True, attempts=2, first_delay_s=0.0)
        assert not dead.deliver(f"http://127.0.0.1:1/hook/{TOKEN_PART}", {"text": "x"})
        assert any("webhook http://127.0.0.1:1/hook/" in r.getMessage() for r in caplog.records)
        assert all(TOKEN_PART not in r.getMessage() for r in caplog.records)
        metrics = admin.get("/metrics")
        assert metrics.status_code == 200 and TOKEN_PART not in metrics.get_data(as_text=True)
    finally:
        app.extensions["dashboard"].close()


def test_a_refused_webhook_is_logged_masked(caplog):
    """Refused (loopback, not allowed) and the log line has no secret path."""
    caplog.set_level(logging.INFO)
    outcomes: list[tuple[str, bool]] = []
    notifier = Notifier(on_result=lambda url, ok: outcomes.append((url, ok)))
    assert not notifier.deliver(f"http://127.0.0.1:9/hook/{TOKEN_PART}", {"text": "x"})
    assert outcomes == [("http://127.0.0.1:9/hook/\u2026", False)]
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert all(TOKEN_PART not in r.getMessage() for r in caplog.records)


def _now() -> int:
    """Now in Unix ms."""
    return int(time.time() * 1000)
