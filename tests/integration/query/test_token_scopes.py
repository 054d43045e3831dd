"""Token scopes through a real node, on SQLite and on PostgreSQL: a read token queries
``/prometheus/api/v1`` and nothing else, an ingest token ingests and cannot query, whether the
token comes from the admin API, the CLI or the environment."""

from __future__ import annotations

import pytest

from dashboard.app import create_app
from dashboard.cli import main as cli_main
from dashboard.clock import now_ms
from tests.conftest import ADMIN_PASSWORD, TOKEN, sign_in
from tests.integration.metrics.test_postgres_store import url_with_schema

API = "/prometheus/api/v1"
POINT = {"metrics": [{"name": "scoped_total", "labels": {"job": "t"}, "points": []}]}


def batch() -> dict:
    """One fresh point of ``scoped_total``."""
    return {"metrics": [{**POINT["metrics"][0], "points": [[now_ms() - 1_000, 1.0]]}]}


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a bearer token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(params=["sqlite", "postgres"])
def node_settings(request, settings):
    """The test settings on each engine (PostgreSQL in a schema of this test's own)."""
    if request.param == "postgres":
        url, schema = request.getfixturevalue("postgres_schema")
        settings.database_url = url_with_schema(url, schema)
    return settings


@pytest.fixture
def node(node_settings):
    """A node on that engine."""
    application = create_app(node_settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["dashboard"].close()


def assert_prometheus_error(response, status: int, kind: str) -> None:
    """A refusal in Prometheus' envelope."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "error" and body["errorType"] == kind and body["error"]


def test_a_read_token_reads_and_an_ingest_token_ingests(node):
    """Made by the admin API: each token does its one thing and is refused the other's."""
    admin = sign_in(node.test_client(), "admin", ADMIN_PASSWORD)
    anon = node.test_client()
    made = admin.post("/api/v1/tokens", json={"name": "grafana", "scope": "read"})
    assert made.status_code == 201 and made.get_json()["scope"] == "read"
    read = made.get_json()["token"]
    ingest = admin.post("/api/v1/tokens", json={"name": "producer"}).get_json()["token"]
    listed = {t["name"]: t["scope"] for t in admin.get("/api/v1/tokens").get_json()["tokens"]}
    assert listed == {"grafana": "read", "producer": "ingest"}

    assert anon.post("/api/v1/ingest", json=batch(), headers=bearer(ingest)).status_code == 202
    query = {"query": "count(scoped_total)"}
    for method in (anon.get, anon.post):
        kwargs = {"query_string": query} if method == anon.get else {"data": query}
        got = method(f"{API}/query", headers=bearer(read), **kwargs)
        assert got.status_code == 200, got.get_data(as_text=True)
        assert got.get_json()["data"]["result"][0]["value"][1] == "1"
    names = anon.get(f"{API}/label/__name__/values", headers=bearer(read)).get_json()
    assert names["data"] == ["scoped_total"]

    # a read token on an ingest route: 403 in the API's error shape, nothing stored
    refused = anon.post("/api/v1/ingest", json=batch(), headers=bearer(read))
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "forbidden"
    assert "read token cannot ingest" in refused.get_json()["detail"]
    text = b"scoped_total 2\n"
    assert (
        anon.post("/api/v1/ingest/prometheus", data=text, headers=bearer(read)).status_code == 403
    )
    assert anon.post("/write", data=b"scoped v=1", headers=bearer(read)).status_code == 403
    # an ingest token (stored or from the environment) on a read route: 403 forbidden
    for token in (ingest, TOKEN):
        assert_prometheus_error(
            anon.get(f"{API}/query", query_string=query, headers=bearer(token)), 403, "forbidden"
        )
    # unknown, then revoked: 401
    assert_prometheus_error(anon.get(f"{API}/labels", headers=bearer("nope")), 401, "unauthorized")
    assert admin.delete("/api/v1/tokens/grafana").status_code == 200
    assert_prometheus_error(anon.get(f"{API}/labels", headers=bearer(read)), 401, "unauthorized")
    again = anon.get(f"{API}/query", query_string=query, headers=bearer(ingest))
    assert again.status_code == 403  # the refused read ingested nothing either:
    got = admin.get(f"{API}/query", query_string=query).get_json()
    assert got["data"]["result"][0]["value"][1] == "1"


def test_a_read_token_cannot_open_the_socket_ingest_or_the_rest_of_the_api(node):
    """The Socket.IO producer namespace refuses it, and /api/v1 still wants a session."""
    admin = sign_in(node.test_client(), "admin", ADMIN_PASSWORD)
    read = admin.post("/api/v1/tokens", json={"name": "g", "scope": "read"}).get_json()["token"]
    socketio = node.extensions["socketio"]
    producer = socketio.test_client(node, namespace="/ingest", auth={"token": read})
    assert not producer.is_connected("/ingest")
    anon = node.test_client()
    assert anon.get("/api/v1/dashboards", headers=bearer(read)).status_code == 401
    assert anon.get("/metrics", headers=bearer(read)).status_code == 401


def test_a_bad_scope_is_refused_by_the_api(node):
    """Only ``ingest`` and ``read`` exist."""
    admin = sign_in(node.test_client(), "admin", ADMIN_PASSWORD)
    for scope in ("admin", "", 3, None):
        made = admin.post("/api/v1/tokens", json={"name": "x", "scope": scope})
        assert made.status_code == 400, scope
        assert made.get_json()["error"] == "cannot create token"
    assert admin.get("/api/v1/tokens").get_json()["tokens"] == []


def test_the_cli_makes_and_lists_scoped_tokens(node_settings, monkeypatch, capsys):
    """`dashboard tokens create NAME --scope read` makes a token a node on that database takes
    for queries; `tokens list` shows each scope; an unknown scope is a usage error."""
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(node_settings.data_dir))
    if node_settings.database_url:
        monkeypatch.setenv("DASHBOARD_DATABASE_URL", node_settings.database_url)
    assert cli_main(["tokens", "create", "grafana", "--scope", "read"]) == 0
    out = capsys.readouterr()
    read = out.out.strip()
    assert read.startswith("dsh_") and "read token 'grafana'" in out.err
    assert cli_main(["tokens", "create", "producer"]) == 0
    ingest = capsys.readouterr().out.strip()
    assert cli_main(["tokens", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "grafana\tread\tactive",
        "producer\tingest\tactive",
    ]
    with pytest.raises(SystemExit) as usage:
        cli_main(["tokens", "create", "x", "--scope", "write"])
    assert usage.value.code == 2 and "invalid choice" in capsys.readouterr().err

    application = create_app(node_settings)
    try:
        anon = application.test_client()
        ok = anon.get(f"{API}/query", query_string={"query": "1"}, headers=bearer(read))
        assert ok.status_code == 200 and ok.get_json()["data"]["result"][1] == "1"
        denied = anon.get(f"{API}/query", query_string={"query": "1"}, headers=bearer(ingest))
        assert_prometheus_error(denied, 403, "forbidden")
        assert anon.post("/api/v1/ingest", json=batch(), headers=bearer(ingest)).status_code == 202
        assert anon.post("/api/v1/ingest", json=batch(), headers=bearer(read)).status_code == 403
    finally:
        application.extensions["dashboard"].close()
    assert cli_main(["tokens", "revoke", "grafana"]) == 0
    assert cli_main(["tokens", "list"]) == 0
    assert "grafana\tread\trevoked" in capsys.readouterr().out


def test_environment_read_tokens_still_work(node, monkeypatch):
    """DASHBOARD_READ_TOKENS are read tokens: they query and cannot ingest."""
    monkeypatch.setattr(node.extensions["dashboard"].settings, "read_tokens", ["env-reader"])
    anon = node.test_client()
    ok = anon.get(f"{API}/labels", headers=bearer("env-reader"))
    assert ok.status_code == 200 and ok.get_json()["status"] == "success"
    assert (
        anon.post("/api/v1/ingest", json=batch(), headers=bearer("env-reader")).status_code == 403
    )
