"""The audit trail through the real app, on SQLite and on PostgreSQL: each kind of change made
through the API, a Dash callback and the CLI is recorded with its actor, target and source
address; no secret reaches the table; only admins read it, and nothing writes it but the app."""

from __future__ import annotations

import json

import pytest

from dashboard.app import create_app
from dashboard.auth.passwords import hash_password
from dashboard.cli import main as cli_main
from tests.conftest import ADMIN_PASSWORD, sign_in
from tests.integration.alerts.test_alert_callbacks import RULE_ID
from tests.integration.alerts.test_alert_callbacks import _edit as alert_form
from tests.integration.metrics.test_postgres_store import url_with_schema

PASSWORD = "a-password-for-audit-users"
NEW_PASSWORD = "eve-has-a-long-password"
HOOK = "https://hooks.example.com/services/T000/B000/HOOKsecretHOOKsecret"
RULE = {
    "id": "cpu-high",
    "name": "CPU high",
    "condition": "above",
    "threshold": 90,
    "series": {"name": "cpu"},
    "webhook": HOOK,
}
BOARD = {"id": "ops", "title": "Ops", "schema_version": 1, "widgets": []}
WIDGET = {
    "id": "top",
    "title": "Top",
    "kind": "line",
    "series": [{"name": "cpu", "labels": {}}],
    "layout": {"x": 0, "y": 0, "w": 6, "h": 4},
}


@pytest.fixture(params=["sqlite", "postgres"])
def node(request, settings):
    """A node on each engine (PostgreSQL in a schema of this test's own)."""
    if request.param == "postgres":
        url, schema = request.getfixturevalue("postgres_schema")
        settings.database_url = url_with_schema(url, schema)
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["dashboard"].close()


def _client(app, username: str = "admin", role: str | None = None):
    """A signed-in test client (a user of ``role`` made first when given)."""
    if role is not None:
        app.extensions["auth_users"].create_user(username, hash_password(PASSWORD), role)
    return sign_in(app.test_client(), username, ADMIN_PASSWORD if role is None else PASSWORD)


def _trail(admin, **params) -> list[dict]:
    """The audit events, oldest first, but the first start's admin."""
    response = admin.get("/api/v1/audit", query_string={"limit": 1000, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [e for e in response.get_json()["events"][::-1] if not e["detail"].get("first")]


def _raw_rows(app) -> str:
    """Every column of every row of the table, as text."""
    rows = app.extensions["dashboard"].app_db.execute("SELECT * FROM audit_events").rows
    return json.dumps([[str(v) for v in row] for row in rows])


def _ok(response, status: int = 200):
    """The response, checked."""
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def test_every_kind_of_change_through_the_api_is_recorded(node, monkeypatch):
    """Users, tokens, dashboards, alert rules and exports: who, what, which target and from
    where (the test client's 127.0.0.1); the password, the token and the webhook are in no
    row."""
    admin = _client(node)
    made = {"username": "eve", "password": NEW_PASSWORD, "role": "editor"}
    _ok(admin.post("/api/v1/users", json=made), 201)
    token = _ok(admin.post("/api/v1/tokens", json={"name": "producer"}), 201).get_json()["token"]
    _ok(admin.delete("/api/v1/tokens/producer"))
    _ok(admin.delete("/api/v1/tokens/producer"), 404)  # nothing revoked: nothing recorded
    _ok(admin.post("/api/v1/dashboards", json={**BOARD, "widgets": [WIDGET]}), 201)
    _ok(admin.get("/api/v1/export.csv", query_string={"dashboard": "ops", "step": "1m"}))
    _ok(admin.put("/api/v1/dashboards/ops", json={**BOARD, "title": "Ops 2"}))
    _ok(admin.post("/api/v1/alerts/rules", json=RULE), 201)
    _ok(admin.put("/api/v1/alerts/rules/cpu-high", json={**RULE, "webhook": None, "for_s": 60}))
    _ok(admin.post("/api/v1/alerts/rules/cpu-high/snooze", json={"minutes": 30}))
    _ok(admin.delete("/api/v1/alerts/rules/cpu-high"))
    _ok(admin.get("/api/v1/export.csv", query_string={"names": "cpu", "start": "now-1h"}))
    # an empty dashboard's report draws no chart: no Chromium runs, wherever it is installed
    monkeypatch.setattr(node.extensions["dashboard"].render_pool, "available", lambda: None)
    _ok(admin.get("/api/v1/export.pdf", query_string={"dashboard": "ops"}))
    _ok(admin.delete("/api/v1/dashboards/ops"))

    trail = _trail(admin)
    assert [(e["action"], e["target_kind"], e["target_id"]) for e in trail] == [
        ("user.create", "user", "eve"),
        ("token.create", "token", "producer"),
        ("token.revoke", "token", "producer"),
        ("dashboard.create", "dashboard", "ops"),
        ("export.csv", "dashboard", "ops"),
        ("dashboard.replace", "dashboard", "ops"),
        ("alert_rule.create", "alert_rule", "cpu-high"),
        ("alert_rule.update", "alert_rule", "cpu-high"),
        ("alert_rule.snooze", "alert_rule", "cpu-high"),
        ("alert_rule.delete", "alert_rule", "cpu-high"),
        ("export.csv", "series", ""),
        ("export.pdf", "dashboard", "ops"),
        ("dashboard.delete", "dashboard", "ops"),
    ]
    assert {(e["actor"], e["source_ip"]) for e in trail} == {("admin", "127.0.0.1")}
    details = {e["action"]: e["detail"] for e in trail}
    assert details["user.create"] == {"role": "editor"}
    assert details["token.create"] == {"scope": "ingest"}
    assert details["dashboard.replace"]["title"] == "Ops 2"
    assert details["alert_rule.create"]["webhook"] == "set"
    assert details["alert_rule.update"]["changed"] == ["for_s"]  # the webhook was kept
    assert details["alert_rule.snooze"]["minutes"] == 30
    assert trail[4]["detail"]["step"] == "1m" and trail[4]["detail"]["names"] == []
    assert details["export.csv"]["names"] == ["cpu"]
    assert details["export.pdf"]["title"] == "Ops 2"
    assert all(e["ts_ms"] > 1_700_000_000_000 for e in trail)

    rows = _raw_rows(node)
    for secret in (token, NEW_PASSWORD, ADMIN_PASSWORD, HOOK, "HOOKsecret", "hooks.example"):
        assert secret not in rows

    tokens = _trail(admin, actor="admin", kind="token")
    assert [e["action"] for e in tokens] == ["token.create", "token.revoke"]
    assert _trail(admin, actor="nobody") == []
    first = _ok(admin.get("/api/v1/audit?limit=2")).get_json()
    assert [e["action"] for e in first["events"]] == ["dashboard.delete", "export.pdf"]
    after = _ok(admin.get(f"/api/v1/audit?limit=2&before={first['next_before']}")).get_json()
    assert [e["action"] for e in after["events"]] == ["export.csv", "alert_rule.delete"]


def test_an_editors_changes_in_the_page_are_recorded_once_each(node):
    """A rule made in the alerts panel, and a widget placed by the editor's drag and drop:
    one event per save, by the editor, saying which edit it was."""
    admin = _client(node)
    _ok(admin.post("/api/v1/dashboards", json={**BOARD, "widgets": [WIDGET]}), 201)
    editor = _client(node, "ed", "editor")
    assert alert_form(editor, create=1)["alerts-form-status"]["children"].startswith("Created")

    deps = editor.get("/_dash-dependencies").get_json()
    (drop,) = [d for d in deps if any(i["id"] == "edit-drop" for i in d["inputs"])]
    body = {
        "output": drop["output"],
        "outputs": [
            {"id": "widgets-grid", "property": "children"},
            {"id": "live-config", "property": "data"},
            {"id": "edit-status", "property": "children"},
        ],
        "inputs": [
            {
                "id": "edit-drop",
                "property": "data",
                "value": {"widget": "top", "x": 6, "y": 0, "w": 6, "h": 4},
            }
        ],
        "state": [{"id": "page-url", "property": "search", "value": "?dashboard=ops"}],
        "changedPropIds": ["edit-drop.data"],
    }
    answer = _ok(editor.post("/_dash-update-component", json=body)).get_json()
    assert answer["response"]["edit-status"]["children"].startswith("Placed top at 6,0")

    trail = _trail(admin)[1:]  # after the admin's dashboard
    assert [(e["actor"], e["action"], e["target_id"], e["source_ip"]) for e in trail] == [
        ("ed", "alert_rule.create", RULE_ID, "127.0.0.1"),
        ("ed", "dashboard.edit", "ops", "127.0.0.1"),
    ]
    assert trail[1]["detail"]["edit"].startswith("Placed top at 6,0")


def test_cli_commands_are_recorded_as_the_cli(node, settings, monkeypatch, capsys):
    """``dashboard users create`` and ``dashboard tokens create/revoke`` on the node's database:
    by ``cli:<os user>`` from ``cli``; the printed token is in no row."""
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(NEW_PASSWORD + "\n"))
    assert cli_main(["users", "create", "cli-user", "--role", "viewer", "--password-stdin"]) == 0
    assert cli_main(["tokens", "create", "from-cli", "--scope", "read"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert cli_main(["tokens", "revoke", "from-cli"]) == 0
    trail = _trail(_client(node))
    assert [(e["action"], e["target_id"], e["source_ip"]) for e in trail] == [
        ("user.create", "cli-user", "cli"),
        ("token.create", "from-cli", "cli"),
        ("token.revoke", "from-cli", "cli"),
    ]
    assert all(e["actor"].startswith("cli") for e in trail)
    assert token.startswith("dsh_") and token not in _raw_rows(node)


def test_only_admins_read_the_trail_and_no_route_writes_it(app):
    """Viewers and editors get 403 from the API and the page, anonymous callers a sign-in;
    the admin reads both; no method but GET exists on either, and none changes a row."""
    admin = _client(app)
    _ok(admin.post("/api/v1/tokens", json={"name": "<script>alert(1)</script>"}), 201)
    for role in ("viewer", "editor"):
        other = _client(app, role, role)
        assert other.get("/api/v1/audit").status_code == 403
        assert other.get("/audit", headers={"Accept": "text/html"}).status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/audit").status_code == 401
    page = anonymous.get("/audit", headers={"Accept": "text/html"})
    assert page.status_code == 302 and "/login/" in page.headers["Location"]

    before = _raw_rows(app)
    html = _ok(admin.get("/audit", headers={"Accept": "text/html"}))
    assert html.mimetype == "text/html"
    text = html.get_data(as_text=True)
    assert "token.create" in text and "class='table'" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    first_id = _trail(admin)[0]["id"]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        # the API's catch-all answers 404 to a method no route has
        assert admin.open("/api/v1/audit", method=method, json={}).status_code in (404, 405)
        assert admin.open("/audit", method=method, json={}).status_code == 405
        assert admin.open(f"/api/v1/audit/{first_id}", method=method, json={}).status_code in (
            404,
            405,
        )
    assert _raw_rows(app) == before
    assert admin.get("/api/v1/audit?limit=0").status_code == 400
    assert admin.get("/api/v1/audit?before=x").status_code == 400
    assert admin.get("/api/v1/audit?actor=a%00b").status_code == 400
    assert admin.get("/audit?limit=5000", headers={"Accept": "text/html"}).status_code == 400


def test_behind_a_trusted_proxy_the_source_is_the_forwarded_client(settings):
    """With ``DASHBOARD_TRUSTED_PROXIES=1`` the source is the client the proxy names."""
    settings.trusted_proxies = 1
    app = create_app(settings)
    try:
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
        admin = sign_in(client, "admin", ADMIN_PASSWORD)
        _ok(admin.post("/api/v1/tokens", json={"name": "proxied"}), 201)
        (event,) = _trail(admin)
        assert (event["action"], event["source_ip"]) == ("token.create", "203.0.113.9")
    finally:
        app.extensions["dashboard"].close()


def test_the_header_links_admins_to_the_trail(app):
    """Only an admin's page header has the Audit link."""
    admin_layout = json.dumps(_ok(_client(app).get("/_dash-layout")).get_json())
    viewer_layout = json.dumps(_ok(_client(app, "vi", "viewer").get("/_dash-layout")).get_json())
    assert '"href": "/audit"' in admin_layout and "/audit" not in viewer_layout
