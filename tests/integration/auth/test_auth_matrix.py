"""Who may do what: every route, Dash endpoint and socket namespace against every role."""

from __future__ import annotations

import time

import pytest

from dashboard.auth.passwords import hash_password
from tests.conftest import ADMIN_PASSWORD, TOKEN, sign_in

PASSWORD = "a-password-for-matrix-users"
ROLES = ("anonymous", "viewer", "editor", "admin")


def poll_body(cursor: str) -> dict:
    """A Dash callback request: the live poll of the default dashboard."""
    return {
        "output": "..live-poll-data.data...live-cursor.data..",
        "outputs": [
            {"id": "live-poll-data", "property": "data"},
            {"id": "live-cursor", "property": "data"},
        ],
        "inputs": [{"id": "live-poll", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["live-poll.n_intervals"],
        "state": [
            {"id": "live-cursor", "property": "data", "value": cursor},
            {"id": "live-config", "property": "data", "value": {"dashboard": "default"}},
        ],
    }


# (method, path, body, expected status for anonymous, viewer, editor, admin)
MATRIX = [
    ("GET", "/", None, (302, 200, 200, 200)),
    ("GET", "/_dash-layout", None, (401, 200, 200, 200)),
    ("GET", "/_dash-dependencies", None, (401, 200, 200, 200)),
    ("POST", "/_dash-update-component", "poll", (401, 200, 200, 200)),
    ("GET", "/login/", None, (200, 200, 200, 200)),
    ("GET", "/login/_dash-layout", None, (200, 200, 200, 200)),
    ("GET", "/assets/style.css", None, (200, 200, 200, 200)),
    ("GET", "/healthz", None, (200, 200, 200, 200)),
    # the API description is public: it tells no more than the README
    ("GET", "/api/v1/openapi.json", None, (200, 200, 200, 200)),
    ("GET", "/metrics", None, (401, 403, 403, 200)),
    ("GET", "/api/v1/metrics", None, (401, 200, 200, 200)),
    ("GET", "/api/v1/series?name=demo.active_users", None, (401, 200, 200, 200)),
    ("GET", "/api/v1/live?dashboard=default&since=x-0", None, (401, 200, 200, 200)),
    ("GET", "/api/v1/auth/me", None, (401, 200, 200, 200)),
    ("GET", "/api/v1/export.csv?names=demo.active_users", None, (401, 200, 200, 200)),
    ("GET", "/api/v1/alerts/rules", None, (401, 200, 200, 200)),
    ("POST", "/api/v1/alerts/rules", "new_rule", (401, 403, 201, 409)),
    ("GET", "/api/v1/alerts/events", None, (401, 200, 200, 200)),
    ("DELETE", "/api/v1/alerts/rules/no-such-rule", None, (401, 403, 404, 404)),
    ("GET", "/api/v1/users", None, (401, 403, 403, 200)),
    ("POST", "/api/v1/users", "new_user", (401, 403, 403, 201)),
    ("GET", "/api/v1/tokens", None, (401, 403, 403, 200)),
    ("POST", "/api/v1/tokens", "new_token", (401, 403, 403, 201)),
    ("DELETE", "/api/v1/tokens/no-such-token", None, (401, 403, 403, 404)),
    # the audit trail: admins read it, nobody writes it (test_audit_trail.py)
    ("GET", "/api/v1/audit", None, (401, 403, 403, 200)),
    ("GET", "/audit", None, (401, 403, 403, 200)),
    ("DELETE", "/audit", None, (401, 405, 405, 405)),
    # a session never authorises ingest: only ingest tokens do
    ("POST", "/api/v1/ingest", "batch", (401, 401, 401, 401)),
    # unknown paths are refused before anything else is said about them
    ("GET", "/api/v1/no-such-route", None, (401, 404, 404, 404)),
    # Dash serves its page shell for any other page path (client-side routing)
    ("GET", "/no-such-page", None, (302, 200, 200, 200)),
]


@pytest.fixture
def clients(app):
    """A test client per role (anonymous has no session), plus one point of data."""
    store = app.extensions["auth_users"]
    for role in ("viewer", "editor"):
        store.create_user(role, hash_password(PASSWORD), role)
    anon = app.test_client()
    ingest = anon.post(
        "/api/v1/ingest",
        json={"metrics": [{"name": "demo.active_users", "points": [[_now(), 1.0]]}]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert ingest.status_code == 202
    return {
        "anonymous": anon,
        "viewer": sign_in(app.test_client(), "viewer", PASSWORD),
        "editor": sign_in(app.test_client(), "editor", PASSWORD),
        "admin": sign_in(app.test_client(), "admin", ADMIN_PASSWORD),
    }


def _now() -> int:
    """Now in Unix ms."""
    return int(time.time() * 1000)


def _body(kind: str | None, app, role: str) -> dict | None:
    """The JSON body a matrix row sends."""
    if kind == "poll":
        return poll_body(app.extensions["dashboard"].hub.cursor)
    if kind == "new_user":
        return {"username": f"made-by-{role}", "password": "long-enough-password", "role": "viewer"}
    if kind == "new_token":
        return {"name": f"token-by-{role}"}
    if kind == "new_rule":
        return {
            "id": "matrix-rule",
            "condition": "above",
            "threshold": 1,
            "series": {"name": "demo.active_users"},
        }
    if kind == "batch":
        return {"metrics": [{"name": "x", "points": [[_now(), 1.0]]}]}
    return None


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX, ids=lambda v: str(v))
def test_each_role_gets_the_expected_status(app, clients, method, path, body, expected):
    """The auth matrix: one row per route, one cell per role."""
    got = {}
    for role, client in clients.items():
        response = client.open(
            path,
            method=method,
            json=_body(body, app, role),
            headers={"Accept": "text/html"} if path == "/" or path == "/no-such-page" else {},
        )
        got[role] = response.status_code
    assert got == dict(zip(ROLES, expected, strict=True))


def test_anonymous_page_request_is_sent_to_sign_in_with_its_path(clients):
    """A signed-out visitor is redirected to the sign-in page, which knows where to return."""
    response = clients["anonymous"].get("/?x=1", headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/?next=/%3Fx%3D1"


@pytest.mark.parametrize("role", ROLES)
def test_live_namespace_admits_only_signed_in_users(app, clients, role):
    """The /live connect is refused without a session and accepted with one."""
    socketio = app.extensions["socketio"]
    sio = socketio.test_client(app, namespace="/live", flask_test_client=clients[role])
    assert sio.is_connected("/live") == (role != "anonymous")
    if role != "anonymous":
        ack = sio.emit("subscribe", {"dashboard": "default"}, namespace="/live", callback=True)
        assert ack["room"] == "dashboard:default"
        sio.disconnect(namespace="/live")


def test_healthz_tells_details_only_to_signed_in_users(clients):
    """Anonymous callers (load balancers) get the status only."""
    assert set(clients["anonymous"].get("/healthz").get_json()) == {"status"}
    detail = clients["viewer"].get("/healthz").get_json()
    assert detail["store"]["ok"] is True and "live" in detail


def test_metrics_accept_an_ingest_token_for_scrapers(clients):
    """Prometheus can scrape /metrics with a bearer token instead of a session."""
    response = clients["anonymous"].get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert b"dashboard_ingest_points_total" in response.data
